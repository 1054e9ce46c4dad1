"""Suppression as a pure function: no figure under 5, and none that subtraction from a total reveals."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vpnregistry.transparency.statistics import (
    PRIMARY,
    SECONDARY,
    THRESHOLD,
    Table,
    recoverable,
    suppress,
)

# Small counts are what suppression is about: draw them often.
counts = st.one_of(st.integers(0, 6), st.integers(0, 400))


@st.composite
def tables(draw, weighted: bool = False):
    n = draw(st.integers(1, 6))
    m = draw(st.integers(1, 6))
    cells = [[draw(counts) for _ in range(m)] for _ in range(n)]
    rows, columns, grand = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    table = Table.of(cells, rows=rows, columns=columns, grand=grand)
    if weighted:
        # Addresses held by organisations: a /24 per organisation at least, so values outgrow counts.
        table = Table.of([[c * 256 for c in row] for row in cells], rows=rows, columns=columns, grand=grand)
        table.contributors = Table.of(cells, rows=rows, columns=columns, grand=grand)
    return table


def published_figures(table: Table, result):
    return {key: result.published(key) for key in table.positions() if key not in result.flags}


def exposed_by_subtraction(table: Table, result) -> list:
    """Independently of the module: for each published total, total minus published members."""
    n, m = table.shape
    out = []

    def check(total_key, members):
        if total_key in result.flags:
            return
        hidden = [k for k in members if k in result.flags]
        if len(hidden) == 1:
            out.append(hidden[0])

    if table.row_totals is not None:
        for i in range(n):
            check(("row", i), [("cell", i, j) for j in range(m)])
    if table.column_totals is not None:
        for j in range(m):
            check(("col", j), [("cell", i, j) for i in range(n)])
    if table.grand_total is not None:
        check(("grand",), [("cell", i, j) for i in range(n) for j in range(m)])
        if table.row_totals is not None:
            check(("grand",), [("row", i) for i in range(n)])
        if table.column_totals is not None:
            check(("grand",), [("col", j) for j in range(m)])
    # A published member may itself be a total: a hidden total is given away by its published parts.
    if table.row_totals is not None:
        for i in range(n):
            members = [("cell", i, j) for j in range(m)]
            if ("row", i) in result.flags and not any(k in result.flags for k in members):
                out.append(("row", i))
    if table.column_totals is not None:
        for j in range(m):
            members = [("cell", i, j) for i in range(n)]
            if ("col", j) in result.flags and not any(k in result.flags for k in members):
                out.append(("col", j))
    cells_hidden = any(k in result.flags for k in table.positions() if k[0] == "cell")
    if table.grand_total is not None and ("grand",) in result.flags and not cells_hidden:
        out.append(("grand",))
    return out


@settings(max_examples=400, deadline=None)
@given(tables())
def test_no_published_count_is_under_five(table):
    result = suppress(table)
    assert not [v for v in published_figures(table, result).values() if 0 < v < THRESHOLD]


@settings(max_examples=400, deadline=None)
@given(tables())
def test_no_suppressed_count_can_be_recovered_by_subtraction(table):
    result = suppress(table)
    assert exposed_by_subtraction(table, result) == []
    assert recoverable(result) == []


@settings(max_examples=300, deadline=None)
@given(tables())
def test_primary_flags_are_exactly_the_small_counts_and_nothing_is_lost(table):
    result = suppress(table)
    for key in table.positions():
        small = 0 < table.value(key) < THRESHOLD
        assert (result.flag(key) == PRIMARY) == small
        if key not in result.flags:
            assert result.published(key) == table.value(key)
        else:
            assert result.published(key) is None and result.flag(key) in {PRIMARY, SECONDARY}


@settings(max_examples=300, deadline=None)
@given(tables(weighted=True))
def test_figures_held_by_fewer_than_five_are_withheld_however_large(table):
    result = suppress(table)
    for key in table.positions():
        if 0 < table.contributors.value(key) < THRESHOLD:
            assert key in result.flags
    assert exposed_by_subtraction(table, result) == []


def test_secondary_suppression_takes_the_next_smallest_cell():
    table = Table.of([[3, 10, 200], [50, 60, 70]], rows=True, columns=False, grand=False)
    result = suppress(table)
    assert result.flags == {("cell", 0, 0): PRIMARY, ("cell", 0, 1): SECONDARY}
    assert result.published(("row", 0)) == 213


def test_secondary_suppression_spreads_to_a_fixed_point():
    # Hiding the 3 forces a second cell in its row, which forces one in that cell's column, and so on.
    table = Table.of([[3, 20, 30], [40, 50, 60], [70, 80, 90]])
    result = suppress(table)
    assert ("cell", 0, 0) in result.flags
    assert recoverable(result) == []
    assert len([k for k in result.flags if k[0] == "cell"]) >= 4


def test_zero_is_published_and_not_preferred_as_a_complement():
    table = Table.of([[2, 0, 9]], rows=True, columns=False, grand=False)
    result = suppress(table)
    assert result.published(("cell", 0, 1)) == 0
    assert result.flag(("cell", 0, 2)) == SECONDARY


def test_a_table_without_totals_needs_no_secondary_suppression():
    table = Table.of([[1, 7], [8, 9]], rows=False, columns=False, grand=False)
    assert suppress(table).flags == {("cell", 0, 0): PRIMARY}
