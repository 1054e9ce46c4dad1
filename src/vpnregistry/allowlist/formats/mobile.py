"""One mobile operator's own numbers (msisdn.csv); no IP format carries any."""

from __future__ import annotations

import csv
import io

from vpnregistry.allowlist.formats.document import Allowlist
from vpnregistry.csvcells import cell

__all__ = ["render_msisdn_csv"]


def render_msisdn_csv(allowlist: Allowlist, *, operator: str | None = None) -> str:
    if not operator:
        raise ValueError("the msisdn.csv format is per mobile operator: name the operator")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["msisdn", "operator"])
    writer.writerows([(cell(number), cell(operator)) for number in allowlist.msisdn.get(operator, ())])
    return out.getvalue()
