"""Mobile operators' numbering: blocks of E.164 numbers, kept up to date like address space.

A block is written as the start every number in it shares, "+92300" for 0300 0000000 to
0300 9999999. A mobile operator proposes adding or removing a block through the same changes as
address space (registrations/space.py), an officer decides, and a mobile number an applicant registers
without naming its operator goes to the operator whose block holds it (the longest block wins).
"""

from __future__ import annotations

import re

from django.db.models import Q
from django.db.models.functions import Length
from django.utils.translation import gettext as _

from vpnregistry.accounts.models import NumberBlock, Operator

COUNTRY = "+92"
# Mobile numbers of the country are +92 3XX XXXXXXX: a block names 2 to 9 digits after +92 (3 first).
_BLOCK = re.compile(r"^\+923\d{1,8}$")


def looks_like_block(text: str) -> bool:
    text = (text or "").strip()
    return text.startswith(("+", "0")) and "." not in text and ":" not in text and "/" not in text


def clean_block(text: str) -> str:
    """The block in its stored form (+92300), or ValueError saying why not. 0300 means +92300."""
    compact = re.sub(r"[\s-]", "", text or "")
    if compact.startswith("0") and not compact.startswith("00"):
        compact = COUNTRY + compact[1:]
    elif compact.startswith("0092"):
        compact = "+" + compact[2:]
    if not _BLOCK.match(compact):
        raise ValueError(
            _("%(text)s is not a block of the country's mobile numbers (such as +92300 or 0300).")
            % {"text": text}
        )
    return compact


def overlapping_blocks(block: str):
    """Blocks that share a number with `block`: those it begins, and those that begin it."""
    shorter = [block[:i] for i in range(len(COUNTRY) + 2, len(block) + 1)]
    return NumberBlock.objects.filter(Q(prefix__in=shorter) | Q(prefix__startswith=block))


def operator_for_number(number: str) -> Operator | None:
    """The operator whose block holds this E.164 number (the longest block), or None."""
    starts = [number[:i] for i in range(len(COUNTRY) + 2, len(number) + 1)]
    row = (
        NumberBlock.objects.filter(prefix__in=starts)
        .select_related("operator")
        .order_by(Length("prefix").desc())
        .first()
    )
    return row.operator if row else None
