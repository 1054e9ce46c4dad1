"""Importing registrations made before the registry (the regime already held over 31,000).

Every row is checked before anything is written, and a row with any error is never written: a
file with a bad row imports nothing unless the caller asks to skip bad rows, and then only the rows
without an error are written. Rows already imported are recognised and left alone, so importing
the same file twice changes nothing the second time, and a run cut short is finished by running it
again.

Nothing is asked of the database row by row, so that a national register imports in seconds into a
registry of a million: the rows are checked with a few set-based queries (the organisations named,
all operators' space, and the overlaps with active registrations by key ranges in bulk), then
written in batches of bulk inserts, each batch one transaction under the approval lock in which its
overlaps are checked again: an approval made between the check and the write cannot leave an
address registered to two organisations.
"""

from vpnregistry.applications.legacy.checking import check_file
from vpnregistry.applications.legacy.registry import registry_clashes
from vpnregistry.applications.legacy.rows import COLUMNS, OPTIONAL, Checked, OrganisationKey, Row
from vpnregistry.applications.legacy.writing import BATCH, IMPORTER, Imported, import_rows

__all__ = [
    "BATCH",
    "COLUMNS",
    "IMPORTER",
    "OPTIONAL",
    "Checked",
    "Imported",
    "OrganisationKey",
    "Row",
    "check_file",
    "import_rows",
    "registry_clashes",
]
