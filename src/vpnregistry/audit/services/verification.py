"""Verifying the log (verify-log): the whole chain and every signed checkpoint, or incrementally only
the records after a checkpoint that the latest run verified; and keeping each run's result."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from vpnregistry.audit.models import Checkpoint, VerifyRun
from vpnregistry.audit.services.appending import GENESIS
from vpnregistry.audit.services.checkpoints import _checkpoint_problem, trusted_keys
from vpnregistry.audit.services.walk import ChainReport, _digests, _read, _walk
from vpnregistry.timeutil import shown


def verify_chain(*, batch: int = 10_000, checkpoints: bool = True, incremental: bool = False) -> ChainReport:
    """Walk the log in order; name the first record whose content, link or position is wrong.

    With `checkpoints`, every signed checkpoint is checked too: its signature, and that record
    `count` exists and has the hash it states; and the log must be at least as long as the last
    successful run found it. A log cut short fails here, since a chain that merely ends earlier
    would verify on its own.

    `incremental` reads only the records after an anchor: the newest valid checkpoint that the
    latest run, if it succeeded, had verified. The anchor record and every checkpointed record
    before it are still checked one by one (present, the signed hash, content matching it), so a
    truncation or a rewrite up to a checkpoint shows; an edit to any other record before the
    anchor does not (a full run's job). Without such an anchor the whole log is read.
    """
    all_checkpoints = list(Checkpoint.objects.order_by("id")) if checkpoints else []
    trusted = trusted_keys() if all_checkpoints else []
    valid: list[Checkpoint] = []
    problems: list[tuple[int, str]] = []
    previous_body = ""
    for checkpoint in all_checkpoints:
        problem = _checkpoint_problem(checkpoint, trusted, previous_body)
        if problem:
            # A checkpoint that is not what was signed proves nothing about the records.
            problems.append((checkpoint.count, problem))
        else:
            valid.append(checkpoint)
        previous_body = checkpoint.body
    anchor, note = _anchor(valid) if incremental else (None, "")
    start, prev_hash = (anchor.count, anchor.hash) if anchor else (0, GENESIS)
    problems += _checkpointed_records([c for c in valid if c.count <= start])
    marks: dict[int, list[Checkpoint]] = {}
    for checkpoint in valid:
        if checkpoint.count > start:
            marks.setdefault(checkpoint.count, []).append(checkpoint)
    report = _walk(after=start, prev_hash=prev_hash, marks=marks, batch=batch)
    head = start + report.checked
    if not report.ok:
        problems.append((report.first_bad_seq, report.problem))
    else:
        longest = max(marks, default=0)
        if longest > head:
            missing = f"records {head + 1} to {longest} are missing"
            problems.append((head + 1, f"{missing}: a signed checkpoint counted {longest}"))
        last = VerifyRun.objects.filter(ok=True).order_by("-id").first() if checkpoints else None
        if last is not None and last.checked > head:
            missing = f"records {head + 1} to {last.checked} are missing"
            problems.append((head + 1, f"{missing}: the run of {shown(last.at)} counted {last.checked}"))
    count = len(all_checkpoints)
    if problems:
        seq, problem = min(problems, key=lambda p: p[0])
        seq = max(seq, 1)
        return ChainReport(False, min(head, seq - 1), seq, problem, count, start, note)
    return ChainReport(True, head, checkpoints=count, start=start, note=note)


def _anchor(valid: list[Checkpoint]) -> tuple[Checkpoint | None, str]:
    """Where an incremental run starts: the newest valid checkpoint that the latest run verified
    (it existed then and counted no more records than that run found), if that run succeeded.
    After a failed run, the whole log is read again: a break found before the anchor would
    otherwise be forgotten."""
    run = VerifyRun.objects.order_by("-id").first()
    if run is None:
        return None, "no earlier run: the whole log was read"
    if not run.ok:
        return None, f"the last run, of {shown(run.at)}, found the chain broken: the whole log was read"
    covered = [c for c in valid if c.count <= run.checked and c.at <= run.at]
    if not covered:
        return None, f"no checkpoint that the last run, of {shown(run.at)}, verified: the whole log was read"
    anchor = max(covered, key=lambda c: (c.count, c.id))
    return anchor, (
        f"read from record {anchor.count + 1} on: the checkpoint of {anchor.day} counted "
        f"{anchor.count} and the run of {shown(run.at)} verified them"
    )


def _checkpointed_records(checkpoints: list[Checkpoint]) -> list[tuple[int, str]]:
    """Each record that a checkpoint counted, looked up on its own: present, with the hash the
    checkpoint signed and content that matches it. An incremental run reads no other record up to
    its anchor."""
    problems = []
    for checkpoint in checkpoints:
        if checkpoint.count == 0 and checkpoint.hash != GENESIS:
            problems.append((1, f"the checkpoint of {checkpoint.day} names an empty log wrongly"))
    counts = sorted({c.count for c in checkpoints if c.count})
    found: dict[int, tuple[str, str]] = {}
    for first in range(0, len(counts), 500):
        rows, ats = _read(seqs=counts[first : first + 500])
        for row, digest in zip(rows, _digests(rows, ats), strict=True):
            found[row[0]] = (row[10], digest)
    for checkpoint in sorted(checkpoints, key=lambda c: (c.count, c.id)):
        if not checkpoint.count:
            continue
        stored, digest = found.get(checkpoint.count, (None, None))
        if stored is None:
            problem = f"record {checkpoint.count} is missing: the checkpoint of {checkpoint.day} counted it"
        elif stored != checkpoint.hash:
            problem = f"its hash differs from the one the checkpoint of {checkpoint.day} signed"
        elif digest != stored:
            problem = "its content does not match its hash"
        else:
            continue
        problems.append((checkpoint.count, problem))
    return problems


def record_verify_run(report: ChainReport, *, at: datetime | None = None) -> VerifyRun:
    """Keep a verify-log result, so that the auditors' page can show it without a scan."""
    return VerifyRun.objects.create(
        at=at or timezone.now(),
        ok=report.ok,
        checked=report.checked,
        first_bad_seq=report.first_bad_seq,
        problem=report.problem,
        checkpoints=report.checkpoints,
    )
