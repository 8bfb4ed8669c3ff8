"""Small-cell suppression of counts for restricted cohorts (DESIGN §7).

For a cohort with ``access: restricted``, a published table must not show a count of patients,
courses, samples or events below ``min_cell_count`` (``m``, default 11), and must not let a
reader work one out from what it does show. :func:`suppress_small_counts` applies three rules,
in this order:

1. **Primary suppression.** A non-zero count below ``m`` is shown as ``"<m"`` (e.g. ``"<11"``).
   Zero is never suppressed (it reveals no one).
2. **Complementary suppression.** A *line* is a set of count cells of one row (or one column)
   together with a total they add up to: a total column (``total``, ``n``, ``courses`` = the sum
   of the parts beside it; found from the data, see :func:`suppress_small_counts`), a total row
   (``all``, ``total``, ``pooled``, ... whose cells are the sums of the other rows), the ``All``
   column of a count row (Table 1's "Patients, n"), or a total stated outside the table and
   passed as ``column_totals`` / ``row_totals``. When a line has exactly one suppressed cell, the
   total minus the shown cells gives it back; so the smallest non-zero cell of the line that is
   still shown is suppressed too (shown as :data:`HIDDEN`). More generally a line is suppressed
   further while any of its hidden cells is pinned to a single value by the line and by what
   the labels say (a ``"<m"`` cell lies in [1, m-1], a :data:`HIDDEN` count in [m, ∞)): two
   ``"<11"`` cells that must add up to 2 are both 1. Rows and columns are revisited until no
   line changes (a cell hidden for a column can expose a row, and so on).
3. **Secondary suppression.** A percentage, share, rate, median or quantile (a column whose name
   matches :data:`SHARE_NAME`, or one passed as ``share_columns``) in a row with a suppressed
   count (primary or complementary) is shown as :data:`HIDDEN`: "5.5 % of all courses" beside
   ``"<11"`` courses gives the count back, and a percentage beside a complementary cell would
   give the complement, and with it the primary cell. In a transposed table (count rows such as
   "Patients, n"), the cells of share rows ("Female, %", "Age, median (IQR)") in the column of a
   suppressed count are hidden.

What this does not cover (the tables are protected one at a time):

* totals stated in *another* table or in the prose are only known if the caller passes them as
  ``column_totals`` / ``row_totals``; otherwise a reader can subtract the shown cells of a table
  from a total printed elsewhere (e.g. the reasons of not-evaluable courses against the
  not-evaluable count of the class table, a cross-tabulation against its margins published as
  separate tables), and the same count may be hidden in one table and shown in another (on
  the Riaz cohort, chapter 2's class table hides ongoing benefit as the complement of not
  evaluable, while the classification-basis and transition tables and the glued share of
  ongoing benefit show it; ``tests/test_real_cohort_books.py`` keeps this as an expected
  failure);
* differences between rows (a table of rule variants whose class counts differ by the number
  of courses that change class), nested counts (attrition steps), and shares whose numerator
  is not a cell of the table (``Female, %`` of a large group with few women);
* a reader who solves all lines of a table together may narrow a hidden cell to an interval;
  no single line pins one;
* figure labels and glued numbers go through :func:`count_label`, which knows one number at a
  time: primary suppression only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from helpers.book.session import _state
from helpers.data.cohort import Cohort

#: Row labels that mark a row of counts in a transposed table (e.g. Table 1's "Patients, n").
COUNT_ROW_LABEL = re.compile(r"(,\s*n|^n)\s*$", re.IGNORECASE)
#: Labels of a total row (``All``, ``total``, ``Pooled (...)``, ``all cancer types``) and of the
#: total column of a count row. A total row counts only where its cells are the sums of the
#: other rows (checked on the numbers), so a label such as "All patients" of an attrition table
#: (nested steps, no sum) makes no line.
TOTAL_LABEL = re.compile(r"^\s*(all|total|overall|pooled|sum)\b", re.IGNORECASE)
#: Column names (and, in a transposed table, row labels) of percentages, shares, rates, medians
#: and quantiles: hidden beside a suppressed count. The last names are the book's shares that
#: carry no share word (``gained_immune``, ``immune_enriched_acquired``, ...).
SHARE_NAME = re.compile(
    r"%|percent|(?<![a-z])pct(?![a-z])|share|proportion|fraction|(?<![a-z])rates?(?![a-z])"
    r"|(?<![a-z])orr(?![a-z])|median|(?<![a-z0-9])(q1|q3|iqr)(?![a-z0-9])|quartile"
    r"|survival_\d|survival at|weight"
    r"|immune_enriched|(gained|lost)_immune|same_subtype",
    re.IGNORECASE,
)
#: What a cell hidden by complementary or secondary suppression shows. It differs from the
#: ``"<m"`` of a primary cell, which would be false for a count of ``m`` or more.
HIDDEN = "suppressed"
#: Above this many count columns the search for sums among them (total = sum of some of the
#: others) is limited to total-named columns as the sum of all the others.
MAX_SUBSET_COLUMNS = 12

_SHOWN, _PRIMARY, _COMPLEMENT = 0, 1, 2


@dataclass(frozen=True)
class _Line:
    """Count cells that add up to a total: a cell of the table or a number stated elsewhere."""

    members: tuple[tuple[int, int], ...]
    total: tuple[int, int] | None = None
    external: float | None = None
    #: The state of an external total: shown, or hidden in the table that states it.
    external_state: int = 0


def suppress_small_counts(
    table: pd.DataFrame,
    min_cell_count: int,
    count_columns: Iterable[str] | None = None,
    *,
    share_columns: Iterable[Hashable] | None = None,
    column_totals: Mapping[Hashable, float | str] | None = None,
    row_totals: Mapping[Hashable, float | str] | None = None,
    nested_rows: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Hide small counts, and every cell that would give one back (module docstring).

    Parameters
    ----------
    table
        The table as the analysis returns it (numbers, not text).
    min_cell_count
        ``m``: non-zero counts below it are shown as ``"<m"``.
    count_columns
        The columns of counts; default every integer column whose name is not that of a share
        (:data:`SHARE_NAME`). The columns of ``column_totals`` are counts too. Rows whose label marks them as
        counts (:data:`COUNT_ROW_LABEL`, e.g. "Patients, n" in a table with one column per
        group) are counts in every column, whatever ``count_columns`` says.
    share_columns
        Columns hidden beside a suppressed count, in addition to those whose name matches
        :data:`SHARE_NAME`.
    column_totals
        Column → the total of that column over the table's rows (other than total rows),
        stated outside the table (another table, the prose): a number, or the text of the cell
        that hides it there (``"<m"``, :data:`HIDDEN`), which keeps a part of the line hidden.
    row_totals
        Row label (index label) → the total of that row over the count columns, stated
        outside the table (a number or a hidden cell's text, as for ``column_totals``).
    nested_rows
        Row label → the label of the row it is a subset of (an attrition table): the
        difference between a row and its nearest shown ancestor is a count as well, so a row
        whose difference is between 1 and ``m - 1`` is hidden.

    Returns
    -------
    A copy of the table: primary cells read ``"<m"``, complementary counts and secondary shares
    read :data:`HIDDEN`, every other cell is unchanged.

    Notes
    -----
    The lines of complementary suppression are found from the numbers, not from names alone:

    * a count column is a total of a row line when, in every row where the cells are known, it
      equals the sum of two or more other count columns (e.g. ``total`` = primary + acquired +
      ongoing benefit + not evaluable; ``evaluable`` = CR + PR + SD + PD; a column that is
      zero throughout adds nothing and is left out);
    * a row labelled as a total (:data:`TOTAL_LABEL`, by its index label or a text cell) is the
      total of a column line in each count column where it equals the sum of the other rows;
    * in a count row, a column labelled as a total (``All``) is the total when it equals the sum
      of the row's other counts.

    The cell hidden to protect a line is its smallest non-zero count still shown (a part before
    the total; the total only when no part is left), so that as little as possible is lost.
    When a line would still give a hidden count back and has no count left to hide (its other
    cells are zeros, or its total is stated in another table), every count of the table is
    hidden, zeros included: such a table cannot be protected cell by cell. In
    a table of one or two rows a sum can hold by chance; its cells are then protected as if it
    were a total (more is hidden, never less).
    """
    m = int(min_cell_count)
    out = table.copy()
    columns = list(out.columns)
    if count_columns is None:
        count_pos = [
            j
            for j, c in enumerate(columns)
            if pd.api.types.is_integer_dtype(out.iloc[:, j]) and not SHARE_NAME.search(str(c))
        ]
    else:
        wanted = set(count_columns)
        count_pos = [j for j, c in enumerate(columns) if c in wanted]
    for column in column_totals or {}:
        if column not in columns:
            raise KeyError(f"column_totals names {column!r}, which is not a column of the table")
        count_pos = sorted({*count_pos, columns.index(column)})
    count_rows = [i for i, r in enumerate(out.index) if COUNT_ROW_LABEL.search(str(r))]

    values = np.full(out.shape, np.nan)
    is_count = np.zeros(out.shape, dtype=bool)
    for j in count_pos:
        values[:, j] = pd.to_numeric(out.iloc[:, j], errors="coerce").to_numpy(dtype=float)
        is_count[:, j] = True
    for i in count_rows:
        row = pd.to_numeric(pd.Series(list(out.iloc[i, :])), errors="coerce").to_numpy(dtype=float)
        integer = ~np.isnan(row) & (np.mod(np.nan_to_num(row), 1) == 0)
        values[i, integer] = row[integer]
        is_count[i, integer] = True

    state = np.zeros(out.shape, dtype=np.int8)
    state[is_count & (values > 0) & (values < m)] = _PRIMARY

    if nested_rows:
        _hide_small_differences(_row_labels(out, count_pos), nested_rows, values, state, count_pos, m)
    lines = _lines(out, values, is_count, count_pos, count_rows, column_totals, row_totals)
    _complete(lines, values, state, m)
    if state.any() and any(_pinned(line, values, state, m) for line in lines):
        # a line still gives a hidden count back and has no shown count left to hide (its other
        # cells are zeros, or its total is stated elsewhere): the table cannot be protected cell
        # by cell, so every count of it is hidden, zeros included
        state[is_count & ~np.isnan(values)] = _COMPLEMENT

    hidden_share = np.zeros(out.shape, dtype=bool)
    suppressed = state != _SHOWN
    extra = set(share_columns or ())
    share_pos = [
        j for j, c in enumerate(columns) if j not in count_pos and (c in extra or SHARE_NAME.search(str(c)))
    ]
    rows_hit = np.flatnonzero(suppressed[:, count_pos].any(axis=1)) if count_pos else []
    for i in rows_hit:
        hidden_share[i, share_pos] = True
    share_rows = [i for i, r in enumerate(out.index) if i not in count_rows and SHARE_NAME.search(str(r))]
    for i in count_rows:
        for j in np.flatnonzero(suppressed[i, :]):
            hidden_share[share_rows, j] = True

    label = f"<{m}"
    for j in range(out.shape[1]):
        col_state, col_share = state[:, j], hidden_share[:, j]
        if not (col_state.any() or col_share.any()):
            continue
        cells = out.iloc[:, j].astype(object).tolist()
        for i in range(out.shape[0]):
            if col_state[i] == _PRIMARY:
                cells[i] = label
            elif col_state[i] == _COMPLEMENT:
                cells[i] = HIDDEN
            elif col_share[i] and not _is_missing(cells[i]):
                cells[i] = HIDDEN
        out.isetitem(j, pd.Series(cells, index=out.index, dtype=object))
    return out


def _hide_small_differences(
    labels: list[list[str]],
    parents: Mapping[str, str],
    values: np.ndarray,
    state: np.ndarray,
    count_pos: list[int],
    m: int,
) -> None:
    """Nested rows: hide a row whose count differs from its nearest shown ancestor by 1 to m-1."""
    where: dict[str, int] = {}
    for i, row_labels in enumerate(labels):
        for label in row_labels:
            where.setdefault(label, i)
    for i, row_labels in enumerate(labels):
        parent = next((parents[x] for x in row_labels if x in parents), None)
        for j in count_pos:
            ancestor = parent
            while ancestor is not None and ancestor in where and state[where[ancestor], j] != _SHOWN:
                ancestor = parents.get(ancestor)
            if ancestor is None or ancestor not in where or state[i, j] != _SHOWN:
                continue
            difference = values[where[ancestor], j] - values[i, j]
            if 0 < difference < m:
                state[i, j] = _COMPLEMENT


def _is_missing(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _row_labels(table: pd.DataFrame, count_pos: list[int]) -> list[str]:
    """The labels of each row: its index label and its text cells outside the count columns."""
    default_index = isinstance(table.index, pd.RangeIndex)
    labels = []
    for i in range(table.shape[0]):
        texts = [] if default_index else [str(table.index[i])]
        for j in range(table.shape[1]):
            v = table.iat[i, j]
            if j not in count_pos and isinstance(v, str):
                texts.append(v)
        labels.append(texts)
    return labels


def _lines(
    table: pd.DataFrame,
    values: np.ndarray,
    is_count: np.ndarray,
    count_pos: list[int],
    count_rows: list[int],
    column_totals: Mapping[Hashable, float | str] | None,
    row_totals: Mapping[Hashable, float | str] | None,
) -> list[_Line]:
    """Every line of the table: count cells and the total they add up to (see the Notes)."""
    n_rows = table.shape[0]
    lines: list[_Line] = []
    # row lines: a count column that is the sum of other count columns, in every row
    members_pos = [j for j in count_pos if np.nansum(np.abs(values[:, j])) > 0]
    for t in members_pos:
        others = [j for j in members_pos if j != t]
        if len(members_pos) <= MAX_SUBSET_COLUMNS:
            subsets: Iterable[tuple[int, ...]] = (
                s for k in range(2, len(others) + 1) for s in combinations(others, k)
            )
        elif TOTAL_LABEL.search(str(table.columns[t])) or str(table.columns[t]).strip().lower() == "n":
            subsets = [tuple(others)]
        else:
            subsets = []
        for subset in subsets:
            cols = [t, *subset]
            known = ~np.isnan(values[:, cols]).any(axis=1)
            if not known.any():
                continue
            sums = values[known][:, list(subset)].sum(axis=1)
            if not np.allclose(sums, values[known, t], rtol=0, atol=1e-9):
                continue
            for i in np.flatnonzero(known & (values[:, t] > 0)):
                lines.append(_Line(tuple((int(i), j) for j in subset), (int(i), t)))
    # column lines: a total row that is the sum of the other rows
    labels = _row_labels(table, count_pos)
    totals = [i for i in range(n_rows) if any(TOTAL_LABEL.search(x) for x in labels[i])]
    parts = [i for i in range(n_rows) if i not in totals]
    for j in count_pos:
        column = values[parts, j]
        if not parts or np.isnan(column).any():
            continue
        for t in totals:
            if not np.isnan(values[t, j]) and math.isclose(column.sum(), values[t, j], abs_tol=1e-9):
                lines.append(_Line(tuple((i, j) for i in parts), (t, j)))
    # count rows: the All column is the sum of the other groups
    for i in count_rows:
        total_cols = [j for j, c in enumerate(table.columns) if TOTAL_LABEL.search(str(c)) and is_count[i, j]]
        group_cols = [j for j in np.flatnonzero(is_count[i, :]) if j not in total_cols]
        for t in total_cols:
            if group_cols and math.isclose(values[i, group_cols].sum(), values[i, t], abs_tol=1e-9):
                lines.append(_Line(tuple((i, int(j)) for j in group_cols), (i, t)))
    # totals stated outside the table
    position = {c: j for j, c in enumerate(table.columns)}
    for column, total in (column_totals or {}).items():
        j = position[column]  # a count column (suppress_small_counts made it one)
        cells = tuple((i, j) for i in parts if not np.isnan(values[i, j]))
        lines.append(_external_line(cells, total))
    rows = {r: i for i, r in enumerate(table.index)}
    for row, total in (row_totals or {}).items():
        if row not in rows:
            raise KeyError(f"row_totals names {row!r}, which is not a row label of the table")
        i = rows[row]
        cells = tuple((i, j) for j in range(table.shape[1]) if is_count[i, j] and not np.isnan(values[i, j]))
        lines.append(_external_line(cells, total))
    return lines


def _external_line(cells: tuple[tuple[int, int], ...], total: object) -> _Line:
    """A line whose total another table states: a number, or that table's hidden cell.

    A total hidden there (``"<m"`` or :data:`HIDDEN`) is an unknown of the line with the bounds
    its label gives, so the line must keep a hidden part too: otherwise its shown parts would
    add up to the value the other table hides (linked tables).
    """
    if isinstance(total, str):
        state = _PRIMARY if total.startswith("<") else _COMPLEMENT
        return _Line(cells, external=0.0, external_state=state)
    return _Line(cells, external=float(total))


def _bounds(state: int, m: int) -> tuple[float, float]:
    """What a reader knows of a hidden count from its label."""
    return (1.0, m - 1.0) if state == _PRIMARY else (float(m), math.inf)


def _pinned(line: _Line, values: np.ndarray, state: np.ndarray, m: int) -> bool:
    """Whether the line gives back the exact value of one of its hidden cells."""
    # sum(hidden parts) - (hidden total) = c, with c from the shown cells
    hidden: list[tuple[int, tuple[float, float]]] = []
    c = 0.0
    for cell in line.members:
        if state[cell] == _SHOWN:
            c -= values[cell]
        else:
            hidden.append((1, _bounds(state[cell], m)))
    if line.total is not None:
        if state[line.total] == _SHOWN:
            c += values[line.total]
        else:
            hidden.append((-1, _bounds(state[line.total], m)))
    elif line.external_state != _SHOWN:
        hidden.append((-1, _bounds(line.external_state, m)))
    else:
        c += float(line.external)
    if not hidden:
        return False
    # each term a·x lies in [a·lo, a·hi] (ordered); lower ends are never +inf, upper never -inf
    terms = [(a * lo, a * hi) if a > 0 else (a * hi, a * lo) for a, (lo, hi) in hidden]
    for k, (a, (lo, hi)) in enumerate(hidden):
        rest_lo = sum(t[0] for n, t in enumerate(terms) if n != k)
        rest_hi = sum(t[1] for n, t in enumerate(terms) if n != k)
        x_lo, x_hi = (c - rest_hi, c - rest_lo) if a > 0 else (rest_lo - c, rest_hi - c)
        x_lo, x_hi = max(x_lo, lo), min(x_hi, hi)
        if math.isfinite(x_lo) and x_lo == x_hi:
            return True
    return False


def _complete(lines: list[_Line], values: np.ndarray, state: np.ndarray, m: int) -> None:
    """Hide further cells until no line pins a hidden cell (rows and columns, until stable)."""
    changed = True
    while changed:
        changed = False
        for line in lines:
            if not _pinned(line, values, state, m):
                continue
            shown = [c for c in line.members if state[c] == _SHOWN and values[c] > 0]
            if (
                not shown
                and line.total is not None
                and state[line.total] == _SHOWN
                and values[line.total] > 0
            ):
                shown = [line.total]
            if not shown:
                continue  # nothing left to hide: every other cell is zero or hidden
            cell = min(shown, key=lambda c: values[c])
            state[cell] = _COMPLEMENT
            changed = True


@contextmanager
def open_published_data() -> Iterator[None]:
    """Tables published inside this block show open published cohorts (chapter 7).

    Their counts are published already, so they are not suppressed, whatever the access level
    of the run's own cohort. Use it only for tables computed from ``access: open`` cohorts.
    """
    previous = _state.get("open_published", False)
    _state["open_published"] = True
    try:
        yield
    finally:
        _state["open_published"] = previous


def protect(
    table: pd.DataFrame,
    count_columns: Iterable[str] | None = None,
    *,
    share_columns: Iterable[Hashable] | None = None,
    column_totals: Mapping[Hashable, float | str] | None = None,
    row_totals: Mapping[Hashable, float | str] | None = None,
    nested_rows: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Apply :func:`suppress_small_counts` when the current cohort is restricted.

    The keyword options are those of :func:`suppress_small_counts`; the table is returned
    unchanged for open and simulated cohorts and inside :func:`open_published_data`.
    """
    cohort = _state["cohort"]
    if _state.get("open_published"):
        return table
    if isinstance(cohort, Cohort) and cohort.access == "restricted":
        return suppress_small_counts(
            table,
            int(_state["min_cell_count"]),
            count_columns,
            share_columns=share_columns,
            column_totals=column_totals,
            row_totals=row_totals,
            nested_rows=nested_rows,
        )
    return table


def count_label(n: int) -> str:
    """A count for a figure label, suppressed below the threshold for restricted cohorts.

    Primary suppression only: a figure or a sentence that shows a count beside its total must
    hide the complement itself (e.g. :func:`helpers.book.glue.share`).
    """
    cohort = _state["cohort"]
    limit = int(_state["min_cell_count"])
    if _state.get("open_published"):
        return str(int(n))
    if isinstance(cohort, Cohort) and cohort.access == "restricted" and 0 < n < limit:
        return f"<{limit}"
    return str(int(n))


def is_suppressed(n: float) -> bool:
    """Whether a count ``n`` is hidden in this chapter (restricted cohort, 0 < n < threshold)."""
    return count_label(int(n)) != str(int(n))
