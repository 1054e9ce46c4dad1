"""The log handler's filter masks anything shaped like a CNIC or a dashed NTN."""

from __future__ import annotations

import io
import logging

from vpnregistry.logfilters import RedactIdentifiers, redact


def test_identifier_shapes_are_masked_and_other_numbers_kept():
    assert redact("cnic 35202-1234567-1 and 3520212345671, ntn 1234567-8") == (
        "cnic [identifier] and [identifier], ntn [identifier]"
    )
    assert redact("serial 12345678, seq 1234567, VR-2026-000123, 14.1.105.0/24") == (
        "serial 12345678, seq 1234567, VR-2026-000123, 14.1.105.0/24"
    )
    assert redact("12345678901234") == "12345678901234"  # 14 digits: not a CNIC


def test_the_filter_rewrites_records_on_the_handler():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactIdentifiers())
    logger = logging.getLogger("tests.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("refused %s for %s", "35202-1234567-1", "a reason")
        logger.warning("plain %d", 5)
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == "refused [identifier] for a reason\nplain 5\n"


def test_the_registry_log_handler_carries_the_filter():
    from django.conf import settings

    assert "redact_identifiers" in settings.LOGGING["handlers"]["console"]["filters"]
