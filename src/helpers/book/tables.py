"""Result tables of a chapter: shown on the page and written as CSV for download.

:func:`publish_table` suppresses small counts for restricted cohorts (DESIGN §7), shows the
table and writes it into the chapter's results folder, from where the book links it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import HTML, display

from helpers.book.privacy import protect
from helpers.book.session import RESULTS_URL_FROM_CHAPTER, _state

#: Tables with more rows than this are folded behind a one-line summary (the CSV has them all).
MAX_UNFOLDED_ROWS = 25


def publish_table(
    table: pd.DataFrame,
    name: str,
    caption: str = "",
    *,
    count_columns: Iterable[str] | None = None,
    show: bool = True,
    index: bool = True,
    float_format: str = "{:.3g}",
) -> None:
    """Show a result table and write it as ``<results_dir>/<name>.csv`` for download.

    Returns nothing (so that a table at the end of a cell is not shown twice); the shown
    and written table is the input after small-count suppression (:func:`protect`). On the
    page the table scrolls sideways inside its own box when it is wider than the text, and a
    table of more than :data:`MAX_UNFOLDED_ROWS` rows is folded behind a summary line that
    says how many rows it holds.
    """
    safe = protect(table, count_columns)
    _state.setdefault("published", {})[name] = safe  # glued numbers are read from here
    results_dir = _state["results_dir"]
    if isinstance(results_dir, Path):
        results_dir.mkdir(parents=True, exist_ok=True)
        safe.to_csv(results_dir / f"{name}.csv", index=index)
    if show:
        styler = safe.style.format(
            lambda v: (
                float_format.format(v)
                if isinstance(v, (float, np.floating)) and not pd.isna(v)
                else ("" if v is None or (isinstance(v, float) and np.isnan(v)) else v)
            ),
            escape="html",
        )
        styler = styler.set_uuid(re.sub(r"[^A-Za-z0-9_]", "_", name))  # deterministic HTML ids
        if caption:
            styler = styler.set_caption(caption)
        if not index:
            styler = styler.hide(axis="index")
        display(HTML(_table_box(styler.to_html(), caption or name, len(safe))))


def _table_box(table_html: str, title: str, n_rows: int) -> str:
    """The table in a box that scrolls sideways; folded behind a summary when it is long."""
    box = f"<div class='result-table' style='overflow-x: auto; max-width: 100%;'>{table_html}</div>"
    if n_rows <= MAX_UNFOLDED_ROWS:
        return box
    summary = f"{html.escape(title)}: {n_rows:,} rows (click to show; the CSV below has them all)"
    return f"<details class='result-table-fold'><summary>{summary}</summary>{box}</details>"


def downloads() -> None:
    """List this chapter's result files with links (shown at the end of a chapter)."""
    results_dir = _state["results_dir"]
    chapter = _state["chapter"]
    if not isinstance(results_dir, Path) or not results_dir.is_dir():
        display(HTML("<p>No result files were written (no results folder was given).</p>"))
        return
    files = sorted(p.name for p in results_dir.glob("*.csv"))
    items = "".join(
        f"<li><a href='{RESULTS_URL_FROM_CHAPTER}/{chapter}/{html.escape(f)}'>{html.escape(f)}</a></li>"
        for f in files
    )
    display(HTML(f"<p>Result tables of this chapter (CSV):</p><ul>{items}</ul>"))
