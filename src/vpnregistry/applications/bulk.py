"""Resources in bulk: a CSV of hundreds of resources, every row checked, the whole file refused with
every bad row named by its line and field, or accepted.

The file is UTF-8 (a byte-order mark is allowed), comma-separated, with a header naming its columns:
``value`` and ``subscriber_id`` (required), ``district``, ``operator`` and ``ported`` (optional;
``operator`` is required on the rows of mobile numbers, and ``ported`` (yes) on those naming an
operator other than the one whose numbering holds the number). Rows are checked by
`services.clean_resources`, as resources entered one by one are.
"""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from vpnregistry.applications import services
from vpnregistry.csvcells import cell
from vpnregistry.errors import InvalidInput

COLUMNS = ("value", "subscriber_id", "district", "operator", "ported")
REQUIRED = ("value", "subscriber_id")
MAX_BYTES = 1024 * 1024  # a thousand rows fit many times over


def _refuse(*messages: str):
    raise InvalidInput({"csv": list(messages)})


def parse_csv(data: bytes | str) -> list[tuple[int, dict]]:
    """(line number, row) for every row with content, or InvalidInput naming what is wrong."""
    text = _decode(data) if isinstance(data, bytes) else data
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = _header(reader)
        rows, problems = _rows(reader, header)
    except csv.Error as exc:
        _refuse(_("line %(line)d: %(error)s") % {"line": reader.line_num, "error": exc})
    if problems:
        _refuse(*problems)
    if not rows:
        _refuse(_("The file has no rows under its header."))
    if len(rows) > services.MAX_RESOURCES:
        _refuse(_("At most %(n)d resources in one application.") % {"n": services.MAX_RESOURCES})
    return rows


def _decode(data: bytes) -> str:
    """The file's text: UTF-8, a byte-order mark allowed, no larger than MAX_BYTES."""
    if len(data) > MAX_BYTES:
        _refuse(_("The file is larger than %(n)d bytes.") % {"n": MAX_BYTES})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        _refuse(_("The file is not UTF-8 text (byte %(at)d).") % {"at": exc.start})


def _header(reader) -> list[str]:
    """The header's column names, lower case: every required one, none unknown, none twice."""
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        _refuse(_("line 1: the header is missing: %(cols)s.") % {"cols": ",".join(COLUMNS)})
    header = [h.strip().lower() for h in header]
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    repeated = sorted({h for h in header if header.count(h) > 1})
    problems = []
    if unknown:
        problems.append(
            _("line 1: unknown columns %(cols)s (the columns are %(known)s).")
            % {"cols": ", ".join(unknown), "known": ", ".join(COLUMNS)}
        )
    if missing:
        problems.append(_("line 1: missing columns %(cols)s.") % {"cols": ", ".join(missing)})
    if repeated:
        problems.append(_("line 1: repeated columns %(cols)s.") % {"cols": ", ".join(repeated)})
    if problems:
        _refuse(*problems)
    return header


def _rows(reader, header: list[str]) -> tuple[list[tuple[int, dict]], list[str]]:
    """(line number, row) for every row with content under the header; and the rows of the wrong
    length, each a message naming its line (the line it began on: a quoted field may span lines)."""
    rows: list[tuple[int, dict]] = []
    problems = []
    line = reader.line_num
    for cells in reader:
        if not any(c.strip() for c in cells):
            line = reader.line_num
            continue
        start = line + 1  # the line this row began on (a quoted field may span lines)
        line = reader.line_num
        if len(cells) != len(header):
            problems.append(
                ngettext(
                    "line %(line)d: %(n)d field where the header has %(m)d.",
                    "line %(line)d: %(n)d fields where the header has %(m)d.",
                    len(cells),
                )
                % {"line": start, "n": len(cells), "m": len(header)}
            )
            continue
        rows.append((start, dict(zip(header, (c.strip() for c in cells), strict=True))))
    return rows, problems


def _by_line(rows: list[tuple[int, dict]], call):
    """Run `call(items)`; turn its per-item errors into messages naming the line and the field."""
    try:
        return call([row for _line, row in rows])
    except InvalidInput as exc:
        items = exc.errors.get("resources")
        if not isinstance(items, list) or not items or isinstance(items[0], str):
            raise
        raise InvalidInput(
            {
                "csv": [
                    _("line %(line)d, column %(column)s: %(error)s")
                    % {"line": line, "column": field, "error": message}
                    for (line, _row), errors in zip(rows, items, strict=True)
                    for field, messages in errors.items()
                    for message in messages
                ]
            }
        ) from None


def application_create_from_csv(*, actor, data: bytes | str):
    """A draft application holding every row of the file, or InvalidInput naming every bad row."""
    services.require_role(actor, "applicant")
    rows = parse_csv(data)
    return _by_line(rows, lambda items: services.application_create(actor=actor, resources=items))


def resources_replace_from_csv(*, actor, application, data: bytes | str):
    """The resources of a draft or returned application replaced by the rows of the file."""
    services.require_role(actor, "applicant")
    services.require_own(actor, application)
    rows = parse_csv(data)
    return _by_line(
        rows, lambda items: services.resources_replace(actor=actor, application=application, resources=items)
    )


def resources_as_csv(resources) -> str:
    """Resources in the upload format: to download, edit and upload again."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in resources:
        district = r.district.code if r.district_id else ""
        ported = "yes" if hasattr(r, "porting") else ""
        writer.writerow([cell(r.value), cell(r.subscriber_id), cell(district), cell(r.operator.code), ported])
    return out.getvalue()
