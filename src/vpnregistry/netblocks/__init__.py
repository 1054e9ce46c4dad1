"""The address engine: strict parsing, IANA classification, interval sets, aggregation and lookup.

Pure Python and NumPy, with no Django import. The NumPy-backed names (IntervalSet, the indexes,
diff, overlaps) are loaded on first use, so that importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .aggregation import LineError, aggregate, aggregate_text, parse_text
from .parse import CODES, Address, Network, ParseError, parse_address, parse_prefix
from .special import CATEGORY_LIMITS, SpecialBlock, check_prefix, special_purpose

if TYPE_CHECKING:
    from .index import LookupIndex, MembershipIndex
    from .intervals import IntervalSet, PrefixArrays, diff, overlaps

_LAZY = {
    "IntervalSet": "intervals",
    "PrefixArrays": "intervals",
    "diff": "intervals",
    "overlaps": "intervals",
    "LookupIndex": "index",
    "MembershipIndex": "index",
}

__all__ = [
    "CATEGORY_LIMITS",
    "CODES",
    "Address",
    "IntervalSet",
    "LineError",
    "LookupIndex",
    "MembershipIndex",
    "Network",
    "ParseError",
    "PrefixArrays",
    "SpecialBlock",
    "aggregate",
    "aggregate_text",
    "check_prefix",
    "diff",
    "overlaps",
    "parse_address",
    "parse_prefix",
    "parse_text",
    "special_purpose",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
