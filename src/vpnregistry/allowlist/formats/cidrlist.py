"""`CidrList`: the CIDRs of one family held as one ASCII text, a CIDR a line."""

from __future__ import annotations

import operator as _operator
from collections.abc import Iterable, Iterator, Sequence

__all__ = ["CidrList"]


class CidrList(Sequence[str]):
    """The CIDRs of one family as one ASCII text, each followed by a newline: a read-only sequence of str.

    Made from any iterable of strings, or from the text itself (`from_text`). It equals another
    CidrList with the same text, and a tuple or list of the same strings. Indexing finds the line
    boundaries once (NumPy) and keeps them; iterating splits the text. Its strings must be
    printable ASCII without quotes or backslashes (what a CIDR is made of), so that the text can
    go into every format, JSON included, as it is.
    """

    __slots__ = ("_count", "_starts", "_text")

    def __init__(self, items: Iterable[str] = ()) -> None:
        if isinstance(items, CidrList):
            self._text, self._count, self._starts = items._text, items._count, items._starts
            return
        items = items if isinstance(items, list | tuple) else list(items)
        text = "\n".join(items) + "\n" if items else ""
        if text.count("\n") != len(items):
            raise ValueError("a CIDR cannot hold a line break")
        self._text, self._count, self._starts = _checked_text(text), len(items), None

    @classmethod
    def from_text(cls, text: str | bytes) -> CidrList:
        """From the text: a CIDR a line, every line (the last too) ending with a newline."""
        if not isinstance(text, str):
            text = str(text, "ascii")
        if text and not text.endswith("\n"):
            raise ValueError("the text of a CidrList ends with a newline")
        obj = cls.__new__(cls)
        obj._text, obj._count, obj._starts = _checked_text(text), text.count("\n"), None
        return obj

    @property
    def text(self) -> str:
        """Every CIDR followed by a newline ("" when there is none)."""
        return self._text

    def json(self) -> str:
        """The CIDRs as a JSON array, exactly as `json.dumps(list(self), separators=(",", ":"))`."""
        return '["' + self._text[:-1].replace("\n", '","') + '"]' if self._count else "[]"

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        items = self._text.split("\n")
        items.pop()
        return iter(items)

    def _line_starts(self, keep: bool = True):
        """The offset of every line in the text, and the text's length after them (NumPy int64)."""
        starts = self._starts
        if starts is None:
            # Imported here, not at the top, for start-up time: importing the formats does not load NumPy.
            import numpy as np

            ends = np.flatnonzero(np.frombuffer(self._text.encode("ascii"), np.uint8) == 10)
            starts = np.concatenate([np.zeros(1, np.int64), ends + 1])
            if keep:
                self._starts = starts
        return starts

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(self._count)
            if step != 1:
                return CidrList(list(self)[index])
            if start >= stop:
                return CidrList()
            starts = self._line_starts()
            return CidrList.from_text(self._text[int(starts[start]) : int(starts[stop])])
        i = _operator.index(index)
        if i < 0:
            i += self._count
        if not 0 <= i < self._count:
            raise IndexError("CidrList index out of range")
        starts = self._line_starts()
        return self._text[int(starts[i]) : int(starts[i + 1]) - 1]

    def split_hosts(self, suffix: str) -> tuple[CidrList, CidrList]:
        """(hosts, networks): the single addresses (CIDRs ending in `suffix`, "/32" or "/128") written
        as bare addresses, and the rest as they are, each in this list's order; by NumPy over the
        text's bytes, with no string per line."""
        if not self._count:
            return CidrList(), CidrList()
        # Imported here, not at the top, for start-up time: importing the formats does not load NumPy.
        import numpy as np

        data = np.frombuffer(self._text.encode("ascii"), np.uint8)
        starts = self._line_starts(keep=False)
        ends = starts[1:] - 1  # each line's newline
        tail = np.frombuffer(suffix.encode("ascii"), np.uint8)
        width = len(tail)
        lengths = ends - starts[:-1]
        host = lengths > width
        for k in range(width):
            host &= data[np.where(host, ends - width + k, 0)] == tail[k]
        # One flag a byte (its line's), not an index a byte: eight times less memory at a million lines.
        is_host_byte = np.repeat(host, np.diff(starts))
        suffix_byte = np.zeros(len(data), bool)  # a host's suffix, dropped (its newline stays)
        suffix_byte[(ends[host][:, None] - width + np.arange(width)).ravel()] = True
        hosts = data[is_host_byte & ~suffix_byte].tobytes()
        networks = data[~is_host_byte].tobytes()
        return CidrList.from_text(hosts), CidrList.from_text(networks)

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, str) or "\n" in item or not self._count:
            return False
        return self._text.startswith(item + "\n") or f"\n{item}\n" in self._text

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CidrList):
            return self._text == other._text
        if isinstance(other, tuple | list):
            return len(other) == self._count and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if self._count <= 6:
            return f"CidrList({list(self)!r})"
        return f"CidrList([{self[0]!r}, {self[1]!r}, ..., {self[-1]!r}]: {self._count} CIDRs)"


def _checked_text(text: str) -> str:
    if text and (
        not text.isascii()
        or not text.replace("\n", "/").isprintable()
        or '"' in text
        or "\\" in text
        or text.startswith("\n")
        or "\n\n" in text
    ):
        raise ValueError("a CIDR is printable ASCII, without quotes or backslashes, and not empty")
    return text
