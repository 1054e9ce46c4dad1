"""Appending to the audit log and checking its chain.

- `appending`: `record` and `record_many`, and the chain's hashing (`_digest`);
- `walk`: the records read as rows a page at a time, hashed and checked link by link;
- `checkpoints`: the log's length and latest hash, signed once a day (`make_checkpoint`);
- `verification`: verify-log, whole or incremental (`verify_chain`), and its runs kept.

Every name other code imports is here: `from vpnregistry.audit.services import record`.
"""

from vpnregistry.audit.services.appending import (
    EVENT_FIELDS,
    GENESIS,
    _digest,
    _event_digest,
    record,
    record_many,
)
from vpnregistry.audit.services.checkpoints import (
    CheckpointResult,
    checkpoint_body,
    make_checkpoint,
    trusted_comment,
    trusted_keys,
)
from vpnregistry.audit.services.verification import record_verify_run, verify_chain
from vpnregistry.audit.services.walk import (
    ChainReport,
    _canonical_data,
    _canonical_one,
    _digests,
    _pages,
    _read,
    _sqlite_at,
)

__all__ = [
    "EVENT_FIELDS",
    "GENESIS",
    "ChainReport",
    "CheckpointResult",
    "_canonical_data",
    "_canonical_one",
    "_digest",
    "_digests",
    "_event_digest",
    "_pages",
    "_read",
    "_sqlite_at",
    "checkpoint_body",
    "make_checkpoint",
    "record",
    "record_many",
    "record_verify_run",
    "trusted_comment",
    "trusted_keys",
    "verify_chain",
]
