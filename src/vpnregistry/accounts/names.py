"""Organisation names: normalised, refused with bidi controls, and reduced to a skeleton by which
look-alike and duplicate names are found.

A name is stored in NFKC (full-width letters, ligatures and compatibility forms become the ordinary
ones). Bidirectional control characters (U+202A-U+202E, U+2066-U+2069, the marks U+200E, U+200F and
U+061C) are refused: they reorder what a reviewer sees ("Bank" shown for a name that reads otherwise)
and no name needs them; the zero-width joiner and non-joiner stay, which Urdu typing uses.

The skeleton follows Unicode TR39's idea with a small table: case folded, the common Cyrillic and
Greek look-alikes of Latin letters mapped to them, digits that pass for letters too, and everything
but letters and digits dropped. Two names with one skeleton look alike; the agency is shown so.
The table is short on purpose: it covers the confusables a person types to pass for another
organisation in Latin script; it is not the whole of confusables.txt.
"""

from __future__ import annotations

import unicodedata

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")

# Cyrillic and Greek letters (after case folding) that look like Latin ones, and digits like letters.
CONFUSABLES = str.maketrans(
    {
        # Cyrillic (written as escapes: they look like the Latin letters they map to)
        "\u0430": "a", "\u0432": "b", "\u0441": "c", "\u0501": "d", "\u0435": "e", "\u0451": "e",
        "\u04bb": "h", "\u0456": "i", "\u0457": "i", "\u0458": "j", "\u043a": "k", "\u04cf": "l",
        "\u043c": "m", "\u043d": "h", "\u043e": "o", "\u0440": "p", "\u051b": "q", "\u0455": "s",
        "\u0442": "t", "\u0443": "y", "\u0445": "x", "\u051d": "w", "\u043f": "n", "\u0433": "r",
        "\u044c": "b",
        # Greek
        "\u03b1": "a", "\u03b2": "b", "\u03b5": "e", "\u03b7": "n", "\u03b9": "i", "\u03ba": "k",
        "\u03bd": "v", "\u03bf": "o", "\u03c1": "p", "\u03c4": "t", "\u03c5": "u", "\u03c7": "x",
        "\u03c9": "w", "\u03b3": "y", "\u03bc": "u",
        # Digits and signs that pass for letters
        "0": "o", "1": "l", "|": "l", "5": "s", "$": "s", "@": "a",
    }
)  # fmt: skip


def bidi_controls(text: str) -> list[str]:
    """The bidi control characters in `text`, as U+XXXX, in order of first appearance."""
    seen = []
    for char in text:
        code = f"U+{ord(char):04X}"
        if char in BIDI_CONTROLS and code not in seen:
            seen.append(code)
    return seen


def normalise_name(text: str) -> str:
    """NFKC, with runs of white space made one space and the ends trimmed."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def name_skeleton(text: str) -> str:
    """What a name looks like, for comparison: equal skeletons, look-alike names."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    # Accents off (NFKD, then the combining marks dropped), look-alikes mapped, "rn" read as "m".
    bare = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    mapped = bare.translate(CONFUSABLES).replace("rn", "m").replace("vv", "w")
    return "".join(c for c in mapped if c.isalnum())
