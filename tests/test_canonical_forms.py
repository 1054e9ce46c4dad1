"""The bytes the registry signs and hashes, pinned: JSON documents and UTC times.

Each format below is read by others (operators' clients, third parties checking a statement or the
audit log), so the bytes may not move when the code that writes them does. The sample holds
non-ASCII text, characters JSON escapes, nested keys out of order, and every kind of JSON value.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from vpnregistry.audit.services import _canonical_one, _digest, _sqlite_at, checkpoint_body
from vpnregistry.canonical import canonical
from vpnregistry.timeutil import utc_iso

DOC = {
    "zeta": {"b": [1, 2.5, None, True], "a": {"y": "ü", "x": ""}},
    "alpha": 'اردو — Ω "q" \\ \n\t\u2028',
    "n": -3,
}
WITH_MICROSECONDS = datetime(2026, 11, 28, 4, 5, 6, 789, tzinfo=UTC)
WHOLE_SECOND_ELSEWHERE = datetime(2026, 11, 28, 9, 5, 6, tzinfo=timezone(timedelta(hours=5)))
NAIVE = datetime(2026, 11, 28, 9, 5, 6, 5)


# --- JSON ---------------------------------------------------------------------------------------


def test_the_allowlist_documents_are_ascii_with_a_final_newline():
    # The snapshot's delta and the signed index (allowlist/services.py).
    assert canonical(DOC, ensure_ascii=True, newline=True) == (
        b'{"alpha":"\\u0627\\u0631\\u062f\\u0648 \\u2014 \\u03a9 \\"q\\" \\\\ \\n\\t\\u2028","n":-3,'
        b'"zeta":{"a":{"x":"","y":"\\u00fc"},"b":[1,2.5,null,true]}}\n'
    )


def test_the_exemption_statements_are_utf8_without_a_newline():
    assert (
        canonical(DOC, ensure_ascii=False, newline=False)
        == (
            '{"alpha":"اردو — Ω \\"q\\" \\\\ \\n\\t\u2028","n":-3,'
            '"zeta":{"a":{"x":"","y":"ü"},"b":[1,2.5,null,true]}}'
        ).encode()
    )


def test_the_audit_hash_covers_the_utf8_form():
    assert (
        _digest(
            seq=7,
            at=WITH_MICROSECONDS,
            actor="u",
            action="a.b",
            object_type="application",
            object_id="9",
            from_state="x",
            to_state="y",
            reason="ر",
            data=DOC,
            prev_hash="p",
        )
        == "efb5c2f6ca618086f5bf5d3681807d0d0f1fd4cd8cff29a4a28f119909393217"
    )
    # The page-at-a-time verifier encodes each record's data alike.
    assert _canonical_one('{"b":1,"a":"ü"}') == '{"a":"ü","b":1}'


def test_the_audit_checkpoint_is_indented_ascii_with_a_final_newline():
    assert checkpoint_body(
        count=3, hash="h", at=WITH_MICROSECONDS, day=date(2026, 11, 28), key_id="k", previous="ü"
    ) == (
        '{\n  "at": "2026-11-28T04:05:06Z",\n  "count": 3,\n  "day": "2026-11-28",\n  "hash": "h",\n'
        '  "key_id": "k",\n  "log": "vpnregistry audit log",\n  "previous": "\\u00fc"\n}\n'
    )


def allowlist_time(at):  # the allowlist's documents, the audit checkpoints
    return utc_iso(at, timespec="seconds")


def statement_time(at):  # the exemption statements
    return utc_iso(at)


def _utc_text(at):  # the audit log's hashes
    return utc_iso(at, timespec="microseconds", z=False)


# --- UTC times ----------------------------------------------------------------------------------


def test_the_allowlist_times_are_whole_seconds_with_z():
    assert allowlist_time(WITH_MICROSECONDS) == "2026-11-28T04:05:06Z"
    assert allowlist_time(WHOLE_SECOND_ELSEWHERE) == "2026-11-28T04:05:06Z"


def test_the_statement_times_have_microseconds_only_when_there_are_any():
    assert statement_time(WITH_MICROSECONDS) == "2026-11-28T04:05:06.000789Z"
    assert statement_time(WHOLE_SECOND_ELSEWHERE) == "2026-11-28T04:05:06Z"


def test_the_audit_times_always_have_microseconds_and_the_offset():
    assert _utc_text(WITH_MICROSECONDS) == "2026-11-28T04:05:06.000789+00:00"
    assert _utc_text(WHOLE_SECOND_ELSEWHERE) == "2026-11-28T04:05:06.000000+00:00"


def test_a_naive_time_is_the_process_local_time_and_a_stored_sqlite_time_is_utc():
    # A naive time is read in the process's own zone (Python's astimezone), as it always was.
    local = NAIVE.astimezone()
    assert statement_time(NAIVE) == statement_time(local)
    assert allowlist_time(NAIVE) == allowlist_time(local)
    assert _utc_text(NAIVE) == _utc_text(local)
    # The audit log's verifier reads what SQLite stored, which is UTC.
    assert _sqlite_at(NAIVE) == "2026-11-28T09:05:06.000005+00:00"
    assert _sqlite_at("2026-11-28 09:05:06") == "2026-11-28T09:05:06.000000+00:00"
