"""`vpnregistry import-legacy`: every row checked first, all or nothing, twice changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from tests.workflow import approved
from vpnregistry.allowlist.models import Snapshot
from vpnregistry.audit.services import verify_chain
from vpnregistry.registrations.models import ActivePeriod, Registration
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
        ("X,company,14.1.105.0/24,indus,L-9,nowhere,2025-01-01,2027-01-01", "district"),
        ("X,company,14.1.105.0/24,indus,L-9,,2027-01-01,2025-01-01", "must come after"),
        ("X,company,14.1.105.0/24,indus,L-9,,someday,2027-01-01", "valid_from"),
        ("X,company,14.1.104.128/25,indus,L-9,,2025-01-01,2027-01-01", "line 2"),
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
