"""Small-cell suppression of counts for restricted cohorts (DESIGN §7)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import pandas as pd

from helpers.book.session import _state
from helpers.data.cohort import Cohort

#: Row labels that mark a row of counts in a transposed table (e.g. Table 1's "Patients, n").
COUNT_ROW_LABEL = re.compile(r"(,\s*n|^n)\s*$", re.IGNORECASE)


def suppress_small_counts(
    table: pd.DataFrame, min_cell_count: int, count_columns: Iterable[str] | None = None
) -> pd.DataFrame:
    """Replace non-zero counts below ``min_cell_count`` by ``"<N"`` (as text).

    ``count_columns`` defaults to every integer column. Rows whose label marks them as counts
    (:data:`COUNT_ROW_LABEL`, e.g. "Patients, n" in a table with one column per group) are
    suppressed in every column, whatever ``count_columns`` says.
    """
    out = table.copy()
    cols = (
        list(count_columns)
        if count_columns is not None
        else [c for c in out.columns if pd.api.types.is_integer_dtype(out[c])]
    )
    label = f"<{min_cell_count}"
    for c in cols:
        v = pd.to_numeric(out[c], errors="coerce")
        small = v.notna() & (v > 0) & (v < min_cell_count)
        if small.any():
            out[c] = out[c].astype(object)
            out.loc[small, c] = label
    rows = [i for i, r in enumerate(out.index) if COUNT_ROW_LABEL.search(str(r))]
    for i in rows:
        for j, c in enumerate(out.columns):
            v = pd.to_numeric(pd.Series([out.iat[i, j]]), errors="coerce").iat[0]
            if pd.notna(v) and float(v).is_integer() and 0 < v < min_cell_count:
                out[c] = out[c].astype(object)
                out.iat[i, j] = label
    return out


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


def protect(table: pd.DataFrame, count_columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Apply small-count suppression when the current cohort is restricted."""
    cohort = _state["cohort"]
    if _state.get("open_published"):
        return table
    if isinstance(cohort, Cohort) and cohort.access == "restricted":
        return suppress_small_counts(table, int(_state["min_cell_count"]), count_columns)
    return table


def count_label(n: int) -> str:
    """A count for a figure label, suppressed below the threshold for restricted cohorts."""
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
