"""A last line of defence for the logs: anything shaped like a CNIC or an NTN is masked.

The code never logs identifiers (a test walks the whole workflow with every log and SQL statement
captured); this filter on the registry's log handler catches what a future message or a library's
might carry. It masks 13-digit runs (a CNIC, with or without dashes) and `1234567-8` (a dashed
NTN). A bare 8-digit NTN is left alone: too many ordinary numbers have that shape.
"""

from __future__ import annotations

import logging
import re

_CNIC = re.compile(r"(?<![0-9])[0-9]{5}-?[0-9]{7}-?[0-9](?![0-9])")
_NTN = re.compile(r"(?<![0-9])[0-9]{7}-[0-9](?![0-9])")
MASK = "[identifier]"


def redact(text: str) -> str:
    return _NTN.sub(MASK, _CNIC.sub(MASK, text))


class RedactIdentifiers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the handler's business, not ours
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
