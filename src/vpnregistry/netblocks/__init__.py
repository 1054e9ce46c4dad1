"""The address engine: strict parsing, IANA classification, interval sets, aggregation and lookup.

Pure Python and NumPy, with no Django import; NumPy is imported only by the parts that need it,
so that the operator's commands start quickly.
"""

from __future__ import annotations

from .aggregate import aggregate
from .parse import Address, Network, ParseError, parse_address, parse_prefix
from .special import CATEGORY_LIMITS, SpecialBlock, check_prefix, special_purpose

__all__ = [
    "CATEGORY_LIMITS",
    "Address",
    "Network",
    "ParseError",
    "SpecialBlock",
    "aggregate",
    "check_prefix",
    "parse_address",
    "parse_prefix",
    "special_purpose",
]
