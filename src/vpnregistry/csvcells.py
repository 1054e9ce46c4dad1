"""Spreadsheet formulas: refused in what people type, neutralised in every CSV the registry writes.

A spreadsheet opening a CSV runs a cell that begins with `=`, `+`, `-` or `@` as a formula
(`=HYPERLINK(...)` sends whoever clicks it anywhere, with the sheet's data in the address), and
some read a leading tab or carriage return the same way. Two defences:

- at input, `formula_reason` refuses a free-text identifier (the subscriber ID) that begins with
  `=` or `@`, or with `+` or `-` followed by anything but a digit: `+923001234567` and
  `-12` stay valid, `+HYPERLINK(...)` and `-cmd` do not;
- at output, `cell` prefixes such text with a single quote (OWASP's advice), so that a value typed
  before the input rule, or reference data an officer named, shows as text. Numbers, E.164
  numbers, addresses and prefixes never begin that way or are left alone (`-5`, `+923001234567`),
  so the files machines read (the allowlist's msisdn.csv, the exemption answers) stay as they are.

The CSV files written, and what in them is typed by people:

- the application's resources as CSV (portal, to edit and upload again): the subscriber ID,
  typed by the applicant; the value, district and operator are normalised codes;
- the public statistics (statistics.csv): table, row and column labels, which are the names of
  categories, provinces and operators as officers entered them;
- the exemption answers (POST /api/v1/exemptions/check): each line echoes what the operator sent,
  and a line that is not an address is quoted back with the reason;
- the allowlist's msisdn.csv: E.164 numbers and operator codes only, no text typed by anyone
  outside the regulator; written through `cell` all the same.

No Django import: the allowlist's formats, which the operator-side commands use, write CSV too.
"""

from __future__ import annotations

import re

# What a spreadsheet reads as the start of a formula (OWASP's CSV injection list).
_FORMULA_START = frozenset("=+-@\t\r")
# Text that is a plain number (an E.164 number included): shown as written, never a formula.
_SIGNED_DIGIT = re.compile(r"[+-][0-9]")  # ASCII digits only: "²".isdigit() is true
_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?\Z")


def formula_reason(text: str) -> str | None:
    """Why typed text would be read as a spreadsheet formula, or None when it would not."""
    if not text:
        return None
    first = text[0]
    if first in "=@":
        return f"begins with {first}"
    if first in "+-" and not _SIGNED_DIGIT.match(text):
        return f"begins with {first} followed by something other than a digit"
    return None


def cell(value: object) -> str:
    """A CSV cell: text a spreadsheet would run as a formula is prefixed with a single quote."""
    text = "" if value is None else str(value)
    if text and text[0] in _FORMULA_START and not _NUMBER.match(text):
        return "'" + text
    return text
