"""Public statistics: aggregate queries, and suppression so that no published figure identifies anyone.

`suppression` withholds figures (a pure function on a table of counts) and gives a table its published
shape; `holdings` and `reviews` compute the tables, each from a handful of GROUP BY queries; `published`
computes them all for the scheduled job, stores, caches and shows them.
"""

from vpnregistry.transparency.statistics.holdings import CATEGORY_MEASURES, Named
from vpnregistry.transparency.statistics.published import (
    CACHE_KEY,
    CACHE_SECONDS,
    KEEP,
    compute_statistics,
    localised,
    not_computed,
    refresh_statistics,
    statistics,
)
from vpnregistry.transparency.statistics.reviews import OTHER_REASONS, STEPS, TenthsOfDays, median
from vpnregistry.transparency.statistics.suppression import (
    PRIMARY,
    SECONDARY,
    THRESHOLD,
    Key,
    Suppressed,
    Table,
    publish,
    recoverable,
    suppress,
)

__all__ = [
    "CACHE_KEY",
    "CACHE_SECONDS",
    "CATEGORY_MEASURES",
    "KEEP",
    "OTHER_REASONS",
    "PRIMARY",
    "SECONDARY",
    "STEPS",
    "THRESHOLD",
    "Key",
    "Named",
    "Suppressed",
    "Table",
    "TenthsOfDays",
    "compute_statistics",
    "localised",
    "median",
    "not_computed",
    "publish",
    "recoverable",
    "refresh_statistics",
    "statistics",
    "suppress",
]
