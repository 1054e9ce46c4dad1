"""Random codes people copy by hand: Crockford's base32, printed in groups, read back forgivingly."""

from __future__ import annotations

import secrets

# Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand stays unambiguous.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# What people type for the letters the alphabet leaves out (Crockford's decoding rules).
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = str.maketrans("", "", " -\u00a0\t")


def new_code(length: int) -> str:
    """`length` characters from the operating system's random source: 5 bits each."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def grouped(code: str, size: int = 4) -> str:
    """`ABCD-EFGH-...`, as printed and shown."""
    return "-".join(code[i : i + size] for i in range(0, len(code), size))


def normalised(text: str, length: int) -> str | None:
    """The code as stored, from what a person typed (any case, spaces or dashes, O for 0, I or L
    for 1), or None when it cannot be a code of that length."""
    code = str(text or "").upper().translate(_SEPARATORS).translate(_READ_AS)
    if len(code) != length or any(c not in ALPHABET for c in code):
        return None
    return code
