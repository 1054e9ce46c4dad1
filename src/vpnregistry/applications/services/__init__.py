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

from vpnregistry.applications.services.appeals import appeal_decide, application_appeal
from vpnregistry.applications.services.common import (
    APPEAL_DECISIONS,
    DECISIONS,
    SYSTEM_REASONS,
    require_own,
    require_role,
    system_reason,
)
from vpnregistry.applications.services.decision import application_decide, suspension_notes
from vpnregistry.applications.services.payment import REFERENCE, payment_record
from vpnregistry.applications.services.renewal import registrations_renew
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
    application_verify,
    resource_attest,
    resources_attest,
)
from vpnregistry.applications.services.submission import (
    WITHDRAWABLE,
    application_create,
    application_submit,
    application_withdraw,
    resources_replace,
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
    "appeal_decide",
    "application_appeal",
    "application_create",
    "application_decide",
    "application_submit",
    "application_verify",
    "application_withdraw",
    "clean_resources",
    "count_entered",
    "declared_ported",
    "payment_record",
    "registrations_renew",
    "require_own",
    "require_role",
    "resource_attest",
    "resource_items",
    "resource_network",
    "resources_attest",
    "resources_replace",
    "suspension_notes",
    "system_reason",
]
