"""Work queues, targets, escalation and turnaround, driven by one table of steps.

A step is work waiting for one party: the routed agency's verification, an operator's attestation of
the resources in its space, an officer's decision (and the steps other parts add: payment, appeal).
Each entry of `STEPS` says which application states the work waits in, which column holds the moment
it entered the step, and whose work it is; the queues, the overdue flags, `vpnregistry escalate`,
the turnaround report and the "this waits for you" notifications are all read from that table, so a
new state is one more entry.

Every queue is a walk of an index holding only waiting work (see `Application.Meta.indexes`), in
waiting order, paged by keyset on (entered, id): a page costs the same however much history lies in
the tables. Turnaround reads `StepDuration`, one row per completed step written at the transition
that ended it.

`steps` holds the table and what is read from it alone; `pages` the queues and their pages;
`durations` each completed step's duration and the turnaround report; `escalation` the cron job.
"""

from vpnregistry.applications.queues.durations import DAY, Turnaround, record_durations, turnaround
from vpnregistry.applications.queues.escalation import EscalationReport, escalate
from vpnregistry.applications.queues.pages import (
    Filters,
    Item,
    QueuePage,
    parse_filters,
    queue_for,
    queue_page,
)
from vpnregistry.applications.queues.steps import (
    AHEAD,
    APPLICANT_WORK,
    BY_CODE,
    QUEUE_ROLES,
    REVIEW,
    STEPS,
    State,
    StatesIn,
    Step,
    owners,
    set_step_target,
    step_targets,
    steps_ahead,
    steps_entered,
    steps_for,
    waiting_for,
)

__all__ = [
    "AHEAD",
    "APPLICANT_WORK",
    "BY_CODE",
    "DAY",
    "QUEUE_ROLES",
    "REVIEW",
    "STEPS",
    "EscalationReport",
    "Filters",
    "Item",
    "QueuePage",
    "State",
    "StatesIn",
    "Step",
    "Turnaround",
    "escalate",
    "owners",
    "parse_filters",
    "queue_for",
    "queue_page",
    "record_durations",
    "set_step_target",
    "step_targets",
    "steps_ahead",
    "steps_entered",
    "steps_for",
    "turnaround",
    "waiting_for",
]
