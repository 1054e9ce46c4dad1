"""The sentences a person reads for the refusals of `netblocks`, in the language of the moment.

`netblocks` is pure Python without Django: its `ParseError` (and the `LineError` of a text it read)
carries an English sentence for the command line, a stable `code` and the `params` the sentence
names. Every page, API answer and CSV that shows such a refusal to a person words it here instead,
through gettext, so that it follows the reader's language. The sentences say what to type, with an
example, rather than what the parser found wanting.

A code without a sentence here (a newer `netblocks`) falls back to the English text, never to
nothing; `tests/test_messages.py` proves that every code of `netblocks.CODES` has one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.utils.translation import gettext as _

from vpnregistry.netblocks import LineError, ParseError


def _special_purpose(p: Mapping) -> str:
    """Where the value lies, then why that space cannot be registered: two sentences, each whole."""
    if p.get("inside"):
        where = _("%(value)s is in %(block)s, a special-purpose block (%(name)s).")
    else:
        where = _("%(value)s overlaps %(block)s, a special-purpose block (%(name)s).")
    refused_as = p.get("refused_as", "")
    if refused_as == "shared":
        why = _("It is shared anycast or identifier space that no single organisation holds.")
    elif refused_as == "not-global-unicast":
        why = _("Internet IPv6 addresses lie in 2000::/3; register an address from there.")
    elif refused_as == "nat64":
        why = _("It is a NAT64 prefix: its addresses stand for IPv4 addresses.")
        if p.get("ipv4"):
            why += " " + _("This one stands for %(ipv4)s: register that IPv4 address itself.")
    else:
        why = _(
            "Its addresses are not reachable from the internet: register the public addresses your "
            "operator assigned to you."
        )
    return f"{where} {why}" % dict(p)


# Each code's sentence, made when asked for (gettext answers in the active language then).
_SENTENCES: dict[str, Callable[[], str]] = {
    "not_text": lambda: _("Type the address or prefix as text."),
    "empty": lambda: _("Enter an IPv4 or IPv6 address or prefix, for example 203.0.113.0/24."),
    "non_ascii_digit": lambda: _(
        "%(value)s contains the digit %(char)s: type the address with the digits 0 to 9 (switch the "
        "keyboard to English)."
    ),
    "non_ascii": lambda: _(
        "%(value)s contains %(char)s, which an address cannot hold: use only the digits 0 to 9, the "
        "letters a to f, dots, colons and /."
    ),
    "zone_id": lambda: _(
        "%(value)s has a zone (the part from %%): leave it out, it means something on one computer only."
    ),
    "trailing_text": lambda: _("%(value)s holds a space: enter one address or prefix per box or line."),
    "address_expected": lambda: _(
        "%(value)s is a prefix: enter a single address without the /length, for example 203.0.113.7."
    ),
    "no_address_before_slash": lambda: _(
        "%(value)s has no address before the /: write a prefix as in 203.0.113.0/24."
    ),
    "several_slashes": lambda: _("%(value)s has more than one /: write a prefix as in 203.0.113.0/24."),
    "no_prefix_length": lambda: _(
        "%(value)s ends with /: add the prefix length, as in 203.0.113.0/24, or leave out the /."
    ),
    "prefix_length_not_number": lambda: _(
        "In %(value)s the prefix length after the / is not a whole number: write it as in 203.0.113.0/24."
    ),
    "prefix_length_leading_zero": lambda: _(
        "In %(value)s write the prefix length without a leading zero: /24, not /024."
    ),
    "prefix_length_too_large": lambda: _(
        "In %(value)s the prefix length is /%(length)d, but an IPv%(version)d prefix length is at most "
        "/%(bits)d."
    ),
    "host_bits_set": lambda: _("%(value)s is not the first address of its block: did you mean %(meant)s?"),
    "ipv4_octet_count": lambda: _(
        "%(value)s is not an IPv4 address: it needs four numbers separated by dots, for example 203.0.113.7."
    ),
    "ipv4_empty_octet": lambda: _(
        "%(value)s has two dots with no number between them: write it as in 203.0.113.7."
    ),
    "ipv4_hexadecimal": lambda: _(
        "%(value)s is written in hexadecimal: write an IPv4 address in decimal, for example 192.0.2.1."
    ),
    "ipv4_not_decimal": lambda: _(
        "%(value)s is not an IPv4 address: %(part)s is not a number from 0 to 255."
    ),
    "ipv4_leading_zero": lambda: _(
        "In %(value)s write %(part)s without its leading zero: some systems read such numbers as octal."
    ),
    "ipv4_octet_too_large": lambda: _(
        "%(value)s is not an IPv4 address: %(part)s is larger than 255, the largest of its four numbers."
    ),
    "ipv6_bad_character": lambda: _(
        "%(value)s is not an IPv6 address: it contains %(char)s; use only the digits 0 to 9, the letters a "
        "to f and colons."
    ),
    "ipv6_bad_characters": lambda: _(
        "%(value)s is not an IPv6 address: use only the digits 0 to 9, the letters a to f and colons, for "
        "example 2001:db8::1."
    ),
    "ipv6_double_colon_twice": lambda: _("%(value)s is not an IPv6 address: :: may appear only once."),
    "ipv6_triple_colon": lambda: _("%(value)s is not an IPv6 address: it has three colons in a row."),
    "ipv6_too_many_groups": lambda: _(
        "%(value)s is not an IPv6 address: with :: it may have at most seven groups."
    ),
    "ipv6_group_count": lambda: _(
        "%(value)s is not an IPv6 address: it needs eight groups separated by colons, or :: for a run of "
        "zeros, for example 2001:db8::1."
    ),
    "ipv6_empty_group": lambda: _("%(value)s is not an IPv6 address: it has an empty group between colons."),
    "ipv6_bad_group": lambda: _(
        "%(value)s is not an IPv6 address: the group %(group)s is not 1 to 4 hexadecimal digits."
    ),
    "default_route": lambda: _(
        "%(value)s is the default route, which covers every address: enter your own addresses."
    ),
    "too_broad": lambda: _(
        "%(value)s is a broader block than allowed here: the broadest accepted is a /%(limit)d."
    ),
}

# Codes worded by a function of their parameters rather than by one sentence.
_BUILDERS: dict[str, Callable[[Mapping], str]] = {"special_purpose": _special_purpose}

CODES = frozenset(_SENTENCES) | frozenset(_BUILDERS)


def address_error(error: ParseError | LineError) -> str:
    """The sentence for a refused address or prefix, in the active language.

    An unknown code, or parameters its sentence cannot take, gives the English text of `netblocks`.
    """
    code, params = getattr(error, "code", ""), getattr(error, "params", {}) or {}
    english = error.reason if isinstance(error, LineError) else str(error)
    try:
        if code in _BUILDERS:
            return _BUILDERS[code](params)
        if code in _SENTENCES:
            return _SENTENCES[code]() % dict(params)
    except (KeyError, TypeError, ValueError):
        pass
    return english


def line_error(error: LineError) -> str:
    """A bad line of a text of addresses: its number, then its sentence."""
    return _("line %(line)d: %(error)s") % {"line": error.line, "error": address_error(error)}
