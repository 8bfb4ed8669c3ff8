"""What every chapter needs to show its results: the cohort banner, tables and downloads.

Notebooks call :func:`open_cohort` first; it loads the cohort the pipeline passes in and
shows whether the data are simulated. Result tables go through :func:`publish_table`, which
suppresses small counts for restricted cohorts (DESIGN §7), shows the table and writes it as
CSV into the chapter's results folder, from where the book links it for download.
"""
from __future__ import annotations

import html
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd
from IPython.display import HTML, display

from .cohort import Cohort

#: Where result tables of a chapter are published, relative to a chapter page of the book.
RESULTS_URL_FROM_CHAPTER = "../../results"

_state: dict[str, object] = {"cohort": None, "results_dir": None, "chapter": None,
                             "min_cell_count": 11}


def open_cohort(path: str | Path, results_dir: str | Path = "", chapter: str = "",
                min_cell_count: int = 11, show_banner: bool = True) -> Cohort:
    """Load the cohort of a chapter, remember where results go, and show the data banner."""
    if not str(path):
        raise ValueError("no cohort given: run the notebook through `icb-book run`, or pass "
                         "-p cohort PATH to papermill (a cohort folder; see README)")
    cohort = Cohort.load(path)
    _state.update(cohort=cohort, results_dir=Path(results_dir) if str(results_dir) else None,
                  chapter=chapter, min_cell_count=int(min_cell_count))
    if show_banner:
        display(HTML(data_banner(cohort)))
    return cohort


def data_banner(cohort: Cohort) -> str:
    """An HTML note saying what data the page shows (simulated or real, and access level)."""
    name = html.escape(cohort.name)
    if cohort.simulated:
        return ("<div class='admonition warning'><p class='admonition-title'>Simulated data"
                "</p><p>Every number and figure on this page comes from a <b>simulated</b> "
                f"cohort ({name}) with planted, known effects. They test the methods; they are "
                "not findings about patients.</p></div>")
    access = html.escape(cohort.access)
    extra = ""
    if cohort.access == "restricted":
        extra = (f" Counts below {_state['min_cell_count']} are suppressed in tables and "
                 "figure labels.")
    return ("<div class='admonition note'><p class='admonition-title'>Real cohort</p>"
            f"<p>This page shows the real cohort <b>{name}</b> (access: {access}).{extra}"
            "</p></div>")


#: Row labels that mark a row of counts in a transposed table (e.g. Table 1's "Patients, n").
COUNT_ROW_LABEL = re.compile(r"(,\s*n|^n)\s*$", re.IGNORECASE)


def suppress_small_counts(table: pd.DataFrame, min_cell_count: int,
                          count_columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Replace non-zero counts below ``min_cell_count`` by ``"<N"`` (as text).

    ``count_columns`` defaults to every integer column. Rows whose label marks them as counts
    (:data:`COUNT_ROW_LABEL`, e.g. "Patients, n" in a table with one column per group) are
    suppressed in every column, whatever ``count_columns`` says.
    """
    out = table.copy()
    cols = list(count_columns) if count_columns is not None else [
        c for c in out.columns if pd.api.types.is_integer_dtype(out[c])]
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


def publish_table(table: pd.DataFrame, name: str, caption: str = "", *,
                  count_columns: Iterable[str] | None = None, show: bool = True,
                  index: bool = True, float_format: str = "{:.3g}") -> None:
    """Show a result table and write it as ``<results_dir>/<name>.csv`` for download.

    Returns nothing (so that a table at the end of a cell is not shown twice); the shown
    and written table is the input after small-count suppression (:func:`protect`).
    """
    safe = protect(table, count_columns)
    results_dir = _state["results_dir"]
    if isinstance(results_dir, Path):
        results_dir.mkdir(parents=True, exist_ok=True)
        safe.to_csv(results_dir / f"{name}.csv", index=index)
    if show:
        styler = safe.style.format(
            lambda v: float_format.format(v) if isinstance(v, (float, np.floating))
            and not pd.isna(v) else ("" if v is None or (isinstance(v, float) and np.isnan(v))
                                     else v), escape="html")
        styler = styler.set_uuid(re.sub(r"[^A-Za-z0-9_]", "_", name))  # deterministic HTML ids
        if caption:
            styler = styler.set_caption(caption)
        if not index:
            styler = styler.hide(axis="index")
        display(HTML(styler.to_html()))


def downloads() -> None:
    """List this chapter's result files with links (shown at the end of a chapter)."""
    results_dir = _state["results_dir"]
    chapter = _state["chapter"]
    if not isinstance(results_dir, Path) or not results_dir.is_dir():
        display(HTML("<p>No result files were written (no results folder was given).</p>"))
        return
    files = sorted(p.name for p in results_dir.glob("*.csv"))
    items = "".join(
        f"<li><a href='{RESULTS_URL_FROM_CHAPTER}/{chapter}/{html.escape(f)}'>{html.escape(f)}"
        "</a></li>" for f in files)
    display(HTML(f"<p>Result tables of this chapter (CSV):</p><ul>{items}</ul>"))


def count_label(n: int) -> str:
    """A count for a figure label, suppressed below the threshold for restricted cohorts."""
    cohort = _state["cohort"]
    limit = int(_state["min_cell_count"])
    if _state.get("open_published"):
        return str(int(n))
    if isinstance(cohort, Cohort) and cohort.access == "restricted" and 0 < n < limit:
        return f"<{limit}"
    return str(int(n))


def show(fig) -> None:
    """Display a matplotlib figure exactly once and release it.

    Closing the figure keeps the inline backend from showing it a second time, so the stored
    outputs are the same under papermill and under nbval re-execution.
    """
    import matplotlib.pyplot as plt

    display(fig)
    plt.close(fig)
