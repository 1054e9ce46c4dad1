"""`vpnregistry import-legacy`: every row checked first, all or nothing, twice changes nothing."""

from __future__ import annotations

import importlib
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.workflow import approved
from vpnregistry.accounts.models import AddressSpace, Organisation
from vpnregistry.accounts.names import name_skeleton
from vpnregistry.allowlist.models import Snapshot
from vpnregistry.applications import legacy
from vpnregistry.applications.models import Application
from vpnregistry.audit.models import AuditEvent
from vpnregistry.audit.services import verify_chain
from vpnregistry.registrations.models import (
    REFERENCE_ALPHABET,
    ActivePeriod,
    PublicationDue,
    Registration,
    new_reference,
)
from vpnregistry.registrations.services import registration_change_state
from vpnregistry.restrictions import exemptions

HEADER = "organisation,category,value,operator,subscriber_id,district,valid_from,valid_until\n"
GOOD = [
    "Legacy Software (Pvt) Ltd,company,14.1.104.0/24,indus,L-1,pb-lahore,2025-06-01,2027-06-01",
    "Legacy Software (Pvt) Ltd,company,2001:dd8:1c:9::/64,indus,L-2,,2025-06-01T10:00,2027-06-01",
    "Old Call Centre,company,14.192.131.0/24,margalla,L-3,sd-karachi-south,2024-01-01,2025-01-01",
]


def run(tmp_path, rows, *flags):
    path = tmp_path / "legacy.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("import-legacy", str(path), *flags, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_registers_publishes_and_keeps_history(world, tmp_path):
    out, _ = run(tmp_path, GOOD)
    assert out.startswith("3 imported, 0 already there")
    assert Registration.objects.filter(state="active").count() == 2
    assert Registration.objects.get(value="14.192.131.0/24").state == "expired"
    assert ActivePeriod.objects.count() == 3
    snapshot = Snapshot.objects.latest()
    assert "14.1.104.0/24" in snapshot.content and "14.192.131.0/24" not in snapshot.content
    from datetime import UTC, datetime

    assert exemptions.check_one("14.192.131.9", datetime(2024, 6, 1, tzinfo=UTC)).exempt is True
    assert verify_chain().ok


def test_importing_twice_changes_nothing(world, tmp_path):
    run(tmp_path, GOOD)
    before = (Registration.objects.count(), Snapshot.objects.count())
    out, _ = run(tmp_path, GOOD)
    assert out.startswith("0 imported, 3 already there")
    assert (Registration.objects.count(), Snapshot.objects.count()) == before


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("X,company,10.0.0.0/24,indus,L-9,,2025-01-01,2027-01-01", "private-use"),
        ("X,company,14.1.105.1/24,indus,L-9,,2025-01-01,2027-01-01", "did you mean 14.1.105.0/24"),
        ("X,nope,14.1.105.0/24,indus,L-9,,2025-01-01,2027-01-01", "category"),
        ("X,company,14.1.105.0/24,margalla,L-9,,2025-01-01,2027-01-01", "not in margalla's address space"),
        ("X,company,14.1.105.0/24,indus,,,2025-01-01,2027-01-01", "subscriber_id: empty"),
        (
            'X,company,14.1.105.0/24,indus,"=HYPERLINK(""http://x"")",,2025-01-01,2027-01-01',
            "subscriber_id: begins with =",
        ),
        (
            "X,company,14.1.105.0/24,indus,+cmd,,2025-01-01,2027-01-01",
            "subscriber_id: begins with + followed",
        ),
        ("X,company,14.1.105.0/24,indus,L-9,nowhere,2025-01-01,2027-01-01", "district"),
        ("X,company,14.1.105.0/24,indus,L-9,,2027-01-01,2025-01-01", "must come after"),
        ("X,company,14.1.105.0/24,indus,L-9,,someday,2027-01-01", "valid_from"),
        ("X,company,14.1.104.128/25,indus,L-9,,2025-01-01,2027-01-01", "line 2"),
        ("\u202eX,company,14.1.105.0/24,indus,L-9,,2025-01-01,2027-01-01", "control characters (U+202E)"),
        ("  ,company,14.1.105.0/24,indus,L-9,,2025-01-01,2027-01-01", "organisation: empty"),
        ("X\x07Y,company,14.1.105.0/24,indus,L-9,,2025-01-01,2027-01-01", "organisation: holds control"),
    ],
)
def test_a_bad_row_is_named_and_nothing_is_written(world, tmp_path, row, fragment):
    with pytest.raises(CommandError, match="nothing was imported"):
        run(tmp_path, [*GOOD, row])
    assert not Registration.objects.exists()
    path = tmp_path / "legacy.csv"
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import-legacy", str(path), stderr=err)
    assert "legacy.csv:5: " in err.getvalue() and fragment in err.getvalue()


def test_organisations_are_made_as_sign_up_makes_them(world, tmp_path):
    """An imported organisation's name is stored normalised and its skeleton kept, as
    `Organisation.save` does: its look-alikes are shown to reviewers like any other's, and a name
    written another way (full-width letters, doubled spaces) is the same organisation."""
    wide = "\uff2c\uff45\uff47\uff41\uff43\uff59"  # "Legacy" in full-width letters
    run(tmp_path, [f"{wide}  Bank Ltd,company,14.1.104.0/24,indus,L-1,,2025-06-01,2027-06-01"])
    run(tmp_path, ["Legacy Bank Ltd ,company,14.1.105.0/24,indus,L-2,,2025-06-01,2027-06-01"])
    organisation = Organisation.objects.get(name="Legacy Bank Ltd")
    assert organisation.name_skeleton == name_skeleton("Legacy Bank Ltd") != ""
    assert organisation.registrations.count() == 2


def test_skip_invalid_imports_the_good_rows(world, tmp_path):
    out, err = run(
        tmp_path, [*GOOD, "X,company,10.0.0.0/24,indus,L-9,,2025-01-01,2027-01-01"], "--skip-invalid"
    )
    assert out.startswith("3 imported, 0 already there, 1 skipped as bad")
    assert "legacy.csv:5:" in err


def test_rows_overlapping_another_organisations_registration_are_refused(world, tmp_path):
    approved(world, "14.1.104.0/24", user=world.other_applicant)
    with pytest.raises(CommandError):
        run(tmp_path, GOOD[:1])
    assert Registration.objects.count() == 1


def test_a_file_without_the_columns_is_refused(world, tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_text("address\n14.1.104.0/24\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import-legacy", str(path), stderr=err)
    assert "lacks the column" in err.getvalue()


# ---------------------------------------------------------------------------------------------
# Bad rows are never written, whatever the mix; checks and writes are set-based.


def overlapping_active_pairs():
    """Every pair of active registrations of different organisations sharing an address (invariant 3)."""
    rows = list(
        Registration.objects.filter(state="active", family__isnull=False).values_list(
            "id", "organisation_id", "family", "first", "last", "value"
        )
    )
    return [
        (a[5], b[5])
        for a in rows
        for b in rows
        if a[0] < b[0] and a[1] != b[1] and a[2] == b[2] and a[3] <= b[4] and b[3] <= a[4]
    ]


def imported_lines():
    return sorted(
        e.data["line"] for e in AuditEvent.objects.filter(action="registration.import").only("data")
    )


EVERY_KIND_OF_BAD_ROW = [
    # fields
    ",company,14.1.106.0/24,indus,L-9,,2025-01-01,2027-01-01",
    "Bad Fields,company,10.0.0.0/24,indus,L-9,,2025-01-01,2027-01-01",
    "Bad Fields,company,14.1.106.1/24,indus,L-9,,2025-01-01,2027-01-01",
    "Bad Fields,nope,14.1.106.0/24,indus,L-9,,2025-01-01,2027-01-01",
    "Bad Fields,company,14.1.106.0/24,nowhere,L-9,,2025-01-01,2027-01-01",
    "Bad Fields,company,14.1.106.0/24,indus,,,2025-01-01,2027-01-01",
    "Bad Fields,company,14.1.106.0/24,indus,L-9,nowhere,2025-01-01,2027-01-01",
    "Bad Fields,company,14.1.106.0/24,indus,L-9,,2027-01-01,2025-01-01",
    "Bad Fields,company,14.1.106.0/24,indus,L-9,,someday,2027-01-01",
    "Bad Fields,freelancer,14.1.106.0/24,indus,L-9,,2025-01-01,2027-01-01",
    # another operator's space
    "Wrong Operator,company,14.1.106.0/24,margalla,L-9,,2025-01-01,2027-01-01",
    # another organisation's active registration: the same prefix, one inside it, one around it
    "Same Prefix,company,14.1.105.0/24,indus,L-9,,2025-01-01,2027-01-01",
    "Inside It,freelancer,14.1.105.7/32,indus,L-9,,2025-01-01,2027-01-01",
    "Around It,company,27.0.185.0/24,indus,L-9,,2025-01-01,2027-01-01",
    "Inside It Too,company,2001:dd8:1c:5:8000::/65,indus,L-9,,2025-01-01,2027-01-01",
    # each other, across organisations: inside a row above, the same prefix, around one below
    "Rival Software,company,14.1.104.128/25,indus,L-9,,2025-01-01,2027-01-01",
    "First Holder,company,27.0.186.0/24,indus,L-9,,2025-01-01,2027-01-01",
    "Second Holder,company,27.0.186.0/24,indus,L-9,,2025-01-01,2027-01-01",
    "Big First,company,27.0.187.0/24,indus,L-9,,2025-01-01,2027-01-01",
    "Small Later,freelancer,27.0.187.9/32,indus,L-9,,2025-01-01,2027-01-01",
    # each other in the past: both expired, and held at the same time
    "Old One,company,14.192.140.0/24,margalla,L-9,,2020-01-01,2022-01-01",
    "Old Two,company,14.192.140.0/24,margalla,L-9,,2021-01-01,2023-01-01",
    # active now, one starting only later: both would be active registrations at once
    "Now Holder,company,14.192.141.0/24,margalla,L-9,,2025-01-01,2027-01-01",
    "Later Holder,company,14.192.141.0/24,margalla,L-9,,2027-01-01,2029-01-01",
]
FINE_TOO = [
    # the holder's own space again: not a clash
    "Other Software,company,14.1.105.0/25,indus,L-9,,2025-01-01,2027-01-01",
    # history only: expired before the other organisation's registration
    "Old Tenant,company,27.0.185.128/25,indus,L-9,,2020-01-01,2021-01-01",
    # the same row twice: written once
    "Twice Ltd,company,14.192.150.0/24,margalla,L-9,,2025-01-01,2027-01-01",
    "Twice Ltd,company,14.192.150.0/24,margalla,L-9,,2025-01-01,2027-01-01",
]
# Of each pair that clash with each other, one is written: the one that contains the other, or the first.
KEPT = {"First Holder", "Big First", "Old One", "Now Holder"}
BAD_LINES = [5 + i for i, row in enumerate(EVERY_KIND_OF_BAD_ROW) if row.split(",")[0] not in KEPT]


@pytest.mark.parametrize("batch", ["2000", "3"])
def test_skip_invalid_never_writes_a_bad_row_and_counts_what_it_wrote(world, tmp_path, monkeypatch, batch):
    if batch == "3":  # small batches, and the check's queries and slices small too
        monkeypatch.setattr(legacy.registry, "CHUNK", 2)
        monkeypatch.setattr(legacy.registry, "SLICE", 5)
    approved(world, "14.1.105.0/24", "27.0.185.128/25", "2001:dd8:1c:5::/64", user=world.other_applicant)
    before = Registration.objects.count()
    out, err = run(tmp_path, [*GOOD, *EVERY_KIND_OF_BAD_ROW, *FINE_TOO], "--skip-invalid", "--batch", batch)
    reported = sorted(int(line.split(":")[1]) for line in err.splitlines() if line.startswith(str(tmp_path)))
    assert reported == BAD_LINES
    written = len(GOOD) + len(EVERY_KIND_OF_BAD_ROW) - len(BAD_LINES) + len(FINE_TOO) - 1
    assert out.startswith(f"{written} imported, 1 already there, {len(BAD_LINES)} skipped as bad")
    assert Registration.objects.count() == before + written
    assert not set(imported_lines()) & set(BAD_LINES)
    assert overlapping_active_pairs() == []
    assert verify_chain().ok
    # Again: nothing more is written, the same rows are bad.
    out, err = run(tmp_path, [*GOOD, *EVERY_KIND_OF_BAD_ROW, *FINE_TOO], "--skip-invalid")
    assert out.startswith(f"0 imported, {written + 1} already there, {len(BAD_LINES)} skipped as bad")
    assert Registration.objects.count() == before + written


def test_each_reason_of_a_bad_row_is_given(world, tmp_path):
    approved(world, "14.1.105.0/24", user=world.other_applicant)
    _, err = run(
        tmp_path,
        [*GOOD, "Rival,company,14.1.105.0/24,margalla,L-9,,2025-01-01,2027-01-01"],
        "--skip-invalid",
    )
    assert "legacy.csv:5: value: 14.1.105.0/24 is not in margalla's address space" in err
    rival = "Rival,company,14.1.104.0/25,indus,,,2025-01-01,2027-01-01"
    _, err = run(tmp_path, [*GOOD, rival], "--skip-invalid")
    assert "legacy.csv:5: subscriber_id: empty" in err


def text_of(rows):
    return HEADER + "\n".join(rows) + "\n"


def test_an_approval_between_the_check_and_the_write_wins(world):
    """The write re-checks its batch under the approval lock: space taken meanwhile is refused."""
    checked = legacy.check_file(text_of(GOOD))
    assert not checked.errors
    approved(world, "14.1.104.0/25", user=world.other_applicant)
    result = legacy.import_rows(checked)
    assert result.created == 2
    assert result.refused == [
        (2, "value: 14.1.104.0/24 overlaps 14.1.104.0/25, registered to another organisation")
    ]
    assert not Registration.objects.filter(value="14.1.104.0/24").exists()
    assert overlapping_active_pairs() == []


def test_space_that_left_its_operator_between_the_check_and_the_write_is_refused(world):
    checked = legacy.check_file(text_of(GOOD[:1]))
    AddressSpace.objects.filter(prefix="14.1.104.0/22").delete()
    result = legacy.import_rows(checked)
    assert result.created == 0
    assert result.refused == [(2, "value: 14.1.104.0/24 is no longer in indus's address space")]


def test_each_batch_is_rechecked_under_the_approval_lock(world, monkeypatch):
    checked = legacy.check_file(text_of(GOOD))
    calls = []
    monkeypatch.setattr(legacy.writing, "hold_lock", lambda name: calls.append(("lock", name)))
    recheck = legacy.writing._Batch._recheck

    def recorded(self, rows, now):
        calls.append(("recheck", connection.in_atomic_block))
        return recheck(self, rows, now)

    monkeypatch.setattr(legacy.writing._Batch, "_recheck", recorded)
    legacy.import_rows(checked, batch_size=2)
    assert calls == [("lock", "approval"), ("recheck", True)] * 2


def test_an_approval_between_two_batches_is_seen_by_the_next(world):
    """The space of a row of the second batch is registered once the first has committed."""
    rows = [GOOD[0], GOOD[2], "Late Ltd,company,14.1.106.0/24,indus,L-4,,2025-06-01,2027-06-01"]
    checked = legacy.check_file(text_of(rows))
    assert not checked.errors

    def approve_after_first(done, total):
        if done == 2:
            approved(world, "14.1.106.128/25", user=world.other_applicant)

    result = legacy.import_rows(checked, batch_size=2, progress=approve_after_first)
    assert result.created == 2
    assert result.refused == [
        (4, "value: 14.1.106.0/24 overlaps 14.1.106.128/25, registered to another organisation")
    ]
    assert overlapping_active_pairs() == []


def test_a_reinstatement_between_the_check_and_the_write_wins(world):
    application = approved(world, "14.1.106.0/25", user=world.other_applicant)
    registration = Registration.objects.get(resource__application=application)
    registration_change_state(actor=world.officer, registration=registration, step="suspend", reason="unpaid")
    checked = legacy.check_file(text_of(["Late Ltd,company,14.1.106.0/24,indus,L-4,,2025-06-01,2027-06-01"]))
    assert not checked.errors  # a suspended registration holds no space
    registration_change_state(actor=world.officer, registration=registration, step="reinstate", reason="paid")
    result = legacy.import_rows(checked)
    assert result.created == 0
    assert result.refused == [
        (2, "value: 14.1.106.0/24 overlaps 14.1.106.0/25, registered to another organisation")
    ]
    assert overlapping_active_pairs() == []


def test_strict_import_refused_at_writing_time_says_so(world, tmp_path, monkeypatch):
    check = legacy.check_file

    def check_then_approve(text, **kwargs):
        checked = check(text, **kwargs)
        approved(world, "14.1.104.0/25", user=world.other_applicant)
        return checked

    monkeypatch.setattr(legacy, "check_file", check_then_approve)
    with pytest.raises(CommandError, match="1 row"):
        run(tmp_path, GOOD)
    assert Registration.objects.filter(organisation__name="Legacy Software (Pvt) Ltd").count() == 1


def test_a_run_cut_short_is_finished_by_running_it_again(world, tmp_path, monkeypatch):
    write = legacy.writing._Batch.write
    batches = []

    def write_then_fail(self, rows):
        batches.append(len(rows))
        if len(batches) == 2:
            raise RuntimeError("power cut")
        write(self, rows)

    monkeypatch.setattr(legacy.writing._Batch, "write", write_then_fail)
    with pytest.raises(RuntimeError):
        run(tmp_path, [*GOOD, *FINE_TOO], "--batch", "2")
    assert Registration.objects.count() == 2
    monkeypatch.setattr(legacy.writing._Batch, "write", write)
    out, _ = run(tmp_path, [*GOOD, *FINE_TOO], "--batch", "2")
    assert out.startswith("4 imported, 3 already there, 0 skipped as bad")
    assert Registration.objects.count() == 6
    assert imported_lines() == [2, 3, 4, 5, 6, 7]
    assert verify_chain().ok


def test_what_a_run_cut_short_wrote_is_published_by_the_next_run(world, tmp_path, monkeypatch):
    command = importlib.import_module("vpnregistry.worker.management.commands.import-legacy")

    def crash():
        raise RuntimeError("killed before publishing")

    monkeypatch.setattr(command, "publish_pending", crash)
    with pytest.raises(RuntimeError):
        run(tmp_path, GOOD)
    assert PublicationDue.objects.exists()  # the wish committed with the registrations
    monkeypatch.undo()
    out, _ = run(tmp_path, GOOD)
    assert out.startswith("0 imported, 3 already there, 0 skipped as bad; published serial")
    assert "14.1.104.0/24" in Snapshot.objects.latest().content
    assert not PublicationDue.objects.exists()
    serials = set(
        Application.objects.filter(created_by__username="legacy-import").values_list(
            "published_serial", flat=True
        )
    )
    assert serials == {Snapshot.objects.latest().serial}


def freelancer_rows(count, start=0):
    return [
        f"Freelancer {i % 7},freelancer,14.1.{104 + i // 256}.{i % 256}/32,indus,F-{i},,2025-01-01,2027-01-01"
        for i in range(start, start + count)
    ]


def test_checking_and_writing_take_as_many_queries_for_many_rows_as_for_few(world):
    """Reads are set-based; writes are bulk inserts (which Django itself splits on SQLite)."""
    approved(world, "27.0.184.0/24", user=world.other_applicant)
    run_rows = [(0, 8), (8, 8), (16, 120)]  # the first makes the organisations the others reuse
    counts = []
    for start, count in run_rows:
        text = text_of(freelancer_rows(count, start))
        with CaptureQueriesContext(connection) as checking:
            checked = legacy.check_file(text)
        assert not checked.errors and len(checked.rows) == count
        with CaptureQueriesContext(connection) as writing:
            legacy.import_rows(checked, batch_size=count)
        inserts = [q for q in writing.captured_queries if q["sql"].startswith("INSERT")]
        counts.append((len(checking), len(writing) - len(inserts)))
        assert len(inserts) <= 12
    assert Registration.objects.count() == 1 + 136
    assert counts[1] == counts[2], counts


def test_references_are_made_as_new_reference_makes_them():
    assert len(REFERENCE_ALPHABET) == 32  # each random byte's low five bits pick a symbol, uniformly
    made = legacy.writing._references(2000)
    shape = re.compile(rf"R-[{REFERENCE_ALPHABET}]{{10}}")
    assert all(shape.fullmatch(r) for r in [*made, new_reference()])
    assert len(set(made)) == 2000
    assert set("".join(r[2:] for r in made)) == set(REFERENCE_ALPHABET)
