"""What the fault tests read back after a fault, in a process of its own (Django set up from the
environment, so against the throwaway cluster): `python -m tests.faults.probe [report]`, JSON on
stdout; `approve TRACKING` is the one write it makes, the officer's approval through the service.

It reports every application's state with its registrations and decision reviews, whether the audit
chain verifies, and whether the publication on disk agrees with the database: every file a snapshot
row names exists, hashes as the row says and carries a valid signature naming its serial; the signed
index names the latest row; what the API serves for `latest` is that row's file; no temporary file
is left; files of a serial without a row (a publication that never committed) are listed, and the
API must refuse them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys


def report() -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from vpnregistry.accounts.authentication import issue_token
    from vpnregistry.accounts.models import Role, User
    from vpnregistry.allowlist.models import SignedIndex, Snapshot
    from vpnregistry.allowlist.services import INDEX_NAME, file_path, trusted_comment
    from vpnregistry.applications.models import Application, Review
    from vpnregistry.audit.services import verify_chain
    from vpnregistry.registrations.models import ActivePeriod, Registration
    from vpnregistry.signing import keys
    from vpnregistry.signing.minisign import SignatureError, verify

    applications = {
        a.tracking_number or f"draft {a.pk}": {
            "id": a.pk,
            "state": a.state,
            "registrations": sorted(
                Registration.objects.filter(resource__application=a).values_list("value", flat=True)
            ),
            "active_periods": ActivePeriod.objects.filter(registration__resource__application=a).count(),
            "decision_reviews": Review.objects.filter(application=a, stage=Review.Stage.DECISION).count(),
        }
        for a in Application.objects.order_by("pk")
    }
    chain = verify_chain()
    public = [keys.current_key().public]
    problems: list[str] = []
    rows = list(Snapshot.objects.order_by("serial"))
    for row in rows:
        if hashlib.sha256(row.content.encode()).hexdigest() != row.sha256:
            problems.append(f"serial {row.serial}: content does not hash to its sha256")
        for name, meta in row.files.items():
            path = file_path(row, name)
            if not path.exists():
                problems.append(f"serial {row.serial}: {name} is missing")
                continue
            data = path.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            if sha != meta["sha256"] or len(data) != meta["size"]:
                problems.append(f"serial {row.serial}: {name} is not the file the row names")
            try:
                _, comment = verify(data, file_path(row, name + ".minisig").read_text(), public)
            except (OSError, SignatureError) as exc:
                problems.append(f"serial {row.serial}: {name}.minisig: {exc}")
                continue
            expected = trusted_comment(session=row.session, serial=row.serial, name=name, sha256=sha)
            if comment != expected:
                problems.append(f"serial {row.serial}: {name}.minisig names {comment!r}")
    index = SignedIndex.objects.filter(id=1).first()
    index_report = None
    if index is not None:
        data = index.content.encode()
        try:
            _, comment = verify(data, index.signature, public)
            signed = comment == trusted_comment(
                session=index.session, serial=index.serial, name=INDEX_NAME, sha256=index.sha256
            )
        except SignatureError as exc:
            signed = str(exc)
        document = json.loads(index.content)
        index_report = {
            "serial": index.serial,
            "signed": signed,
            "sha256_ok": hashlib.sha256(data).hexdigest() == index.sha256,
            "document_serial": document["serial"],
        }

    known = {(row.session, row.serial) for row in rows}
    temporary, orphans = [], []
    root = settings.ALLOWLIST_DIR
    for dirpath, _dirs, names in os.walk(root):
        session = os.path.basename(dirpath)
        for name in names:
            if ".tmp-" in name:
                temporary.append(name)
            elif (m := re.match(r"(\d+)\.", name)) and (session, int(m.group(1))) not in known:
                orphans.append(f"{session[:8]}/{name}")

    served = {}
    # Tokens are kept only as digests: the probe issues the operator a fresh one to read with.
    operator = User.objects.filter(role=Role.OPERATOR, api_token__isnull=False).order_by("pk").first()
    if operator is not None:
        client = Client(HTTP_AUTHORIZATION=f"Token {issue_token(operator)}")
        latest = client.get("/api/v1/allowlist/latest.txt")
        body = b"".join(latest.streaming_content) if latest.streaming else latest.content
        served["latest_status"] = latest.status_code
        served["latest_matches_row"] = (
            bool(rows) and hashlib.sha256(body).hexdigest() == rows[-1].files["txt"]["sha256"]
        )
        orphan_serials = sorted({int(o.split("/")[1].split(".")[0]) for o in orphans})
        served["orphan_statuses"] = {
            s: client.get(f"/api/v1/allowlist/{s}.txt").status_code for s in orphan_serials
        }
    return {
        "applications": applications,
        "audit": {"ok": chain.ok, "checked": chain.checked, "problem": chain.problem},
        "serials": [row.serial for row in rows],
        "publication_problems": problems,
        "index": index_report,
        "temporary_files": temporary,
        "orphans": orphans,
        "served": served,
    }


def approve(tracking_number: str) -> dict:
    """The demo officer approves an application through the service (publication as configured)."""
    import django

    django.setup()
    from vpnregistry.accounts.models import User
    from vpnregistry.applications.models import Application
    from vpnregistry.applications.services import application_decide

    application = Application.objects.get(tracking_number=tracking_number)
    officer = User.objects.get(username="demo-officer")
    application_decide(actor=officer, application=application, decision="approve", reason="in order")
    return {"approved": tracking_number}


if __name__ == "__main__":
    command, *args = sys.argv[1:] or ["report"]
    result = {"report": report, "approve": approve}[command](*args)
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
