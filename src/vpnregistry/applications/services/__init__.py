"""The application workflow: every transition is one function, audited and notified, in the module
of its stage. Callers import them from here (`from vpnregistry.applications import services`).

- resources.py: the resources asked for, checked item by item; the hourly limit on entering them
- submission.py: a draft made, edited, submitted, withdrawn
- review.py: the agency's verification and the operators' attestations, and the move on
- payment.py: the fee's payment
- decision.py: the regulator's decision; approval registers the resources
- appeals.py: an appeal and its decision
- renewal.py: a renewal, copied from registrations
- common.py: what the steps share (the prelude `stepping`, the audited transition, reasons)
"""

from vpnregistry.applications.services.appeals import appeal_application, decide_appeal
from vpnregistry.applications.services.common import (
    APPEAL_DECISIONS,
    DECISIONS,
    SYSTEM_REASONS,
    require_own,
    require_role,
    system_reason,
)
from vpnregistry.applications.services.decision import decide_application, suspension_notes
from vpnregistry.applications.services.payment import REFERENCE, record_payment
from vpnregistry.applications.services.renewal import renew_registrations
from vpnregistry.applications.services.resources import (
    MAX_RESOURCES,
    CleanResource,
    clean_resources,
    count_entered,
    declared_ported,
    resource_items,
    resource_network,
)
from vpnregistry.applications.services.review import (
    MAX_BULK_ATTEST,
    attest_resource,
    attest_resources,
    verify_application,
)
from vpnregistry.applications.services.submission import (
    WITHDRAWABLE,
    create_application,
    replace_resources,
    submit_application,
    withdraw_application,
)

__all__ = [
    "APPEAL_DECISIONS",
    "DECISIONS",
    "MAX_BULK_ATTEST",
    "MAX_RESOURCES",
    "REFERENCE",
    "SYSTEM_REASONS",
    "WITHDRAWABLE",
    "CleanResource",
    "appeal_application",
    "attest_resource",
    "attest_resources",
    "clean_resources",
    "count_entered",
    "create_application",
    "decide_appeal",
    "decide_application",
    "declared_ported",
    "record_payment",
    "renew_registrations",
    "replace_resources",
    "require_own",
    "require_role",
    "resource_items",
    "resource_network",
    "submit_application",
    "suspension_notes",
    "system_reason",
    "verify_application",
    "withdraw_application",
]
