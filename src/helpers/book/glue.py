"""Numbers in the prose: values glued into a chapter's markdown with myst-nb's ``glue``.

A chapter's markdown quotes its results as ``{glue:text}`key``` and shows its figures with
``{glue:figure}`` directives (numbered, with a caption written in the markdown). The values come
from here, so the prose stays true for any cohort and parameters.

Every glued number has a source that a reader can download and a test can check:

* :func:`cell` reads a cell of a table the chapter has published (:func:`helpers.book.tables.
  publish_table`), *after* small-count suppression, so the prose never shows a count that the
  table hides (primary or complementary suppression alike);
* :func:`value` states a number that no table holds (a test statistic, a planted truth); the
  chapter's ``key_numbers.csv`` lists each of them, numeric, with what it is;
* :func:`count` and :func:`share` state counts and percentages, suppressed as table cells are.

``glue_sources.json`` in the results folder records, for every key, the text shown, the table
and cell (or the ``key_numbers`` row) it came from and the format, so that a test can check each
glued text against the CSVs.

Why the format is applied here and not with a format spec in the markdown
(``{glue:text}`key:.2f```): myst-nb can only format a number, so a value that a cohort cannot
produce (NaN) or a suppressed count ("<11") would render as an empty span with a build warning.
Formatting where the value is known lets those cases be said in words ("not estimable",
"suppressed") and keeps one formatting rule (:func:`format_value`) for prose and tables.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown
from myst_nb import glue as _myst_glue

from helpers.book.figures import mark_simulated
from helpers.book.privacy import count_label, is_suppressed
from helpers.book.session import _state

__all__ = [
    "NOT_ESTIMABLE",
    "SUPPRESSED",
    "cell",
    "cell_share",
    "count",
    "figure",
    "format_p",
    "format_value",
    "interval",
    "phrase",
    "share",
    "value",
]

#: What the prose says of a number the cohort cannot produce.
NOT_ESTIMABLE = "not estimable"
#: What the prose says of a share whose count is hidden (DESIGN §7).
SUPPRESSED = "suppressed"
#: The table of numbers that the prose states and no other table holds.
KEY_NUMBERS = "key_numbers"
SOURCES_FILE = "glue_sources.json"
#: A ratio (HR, OR) whose upper 95% limit is more than this many times its lower limit is not
#: stated as an estimate: the data are too sparse for it to mean anything.
MAX_RATIO_SPAN = 1e4


def format_p(p: float) -> str:
    """A p- or q-value as a journal prints it: ``<0.001``, 3 decimals below 0.01, else 2."""
    if p is None or not math.isfinite(float(p)):
        return NOT_ESTIMABLE
    p = float(p)
    if p < 0.001:
        return "<0.001"
    if p < 0.01:
        return f"{p:.3f}"
    return f"{p:.2f}"


def format_value(v: object, fmt: str) -> str:
    """Format ``v`` with ``fmt``: a format spec (``".2f"``, ``",d"``, ``".1%"``) or ``"p"``.

    ``".1%"`` prints a share of 1 as ``"80.8 %"`` (with the space that :func:`share` uses).

    Text (a suppressed count such as ``"<11"``) is returned as it is; a missing or non-finite
    number becomes :data:`NOT_ESTIMABLE`.
    """
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and not math.isfinite(v)) or pd.isna(v):
        return NOT_ESTIMABLE
    if fmt == "p":
        return format_p(float(v))
    if fmt.endswith(" %"):  # a percentage already on the 0-100 scale (share, cell_share)
        return format(float(v), fmt[:-2]) + " %"
    if fmt.endswith("d"):
        return format(int(round(float(v))), fmt)
    if fmt.endswith("%"):  # a share of 1 as a percentage, spaced as the book prints one
        return format(float(v), fmt)[:-1] + " %"
    return format(float(v), fmt)


def _glue(key: str, shown: str, source: Mapping[str, object]) -> str:
    glued = _state.setdefault("glued", {})
    if key in glued and glued[key].get("glued"):
        if glued[key]["shown"] != shown:
            raise ValueError(f"glue key {key!r} was already glued with another value in this chapter")
        return shown  # the same value again: one output per key (myst-nb rejects duplicates)
    glued[key] = {"shown": shown, **source, "glued": True}
    _myst_glue(key, shown, display=False)
    _write_sources()
    return shown


def _write_sources() -> None:
    results_dir = _state.get("results_dir")
    if not isinstance(results_dir, Path):
        return
    results_dir.mkdir(parents=True, exist_ok=True)
    glued = _state.get("glued", {})
    (results_dir / SOURCES_FILE).write_text(json.dumps(glued, indent=1, sort_keys=True, default=str) + "\n")
    numbers = [
        {"key": k, "what": g["what"], "value": g["value"]}
        for k, g in glued.items()
        if g.get("table") == KEY_NUMBERS
    ]
    if numbers:
        pd.DataFrame(numbers).to_csv(results_dir / f"{KEY_NUMBERS}.csv", index=False)


def _number(v: object) -> float | None:
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def value(key: str, v: float | None, fmt: str, *, what: str) -> str:
    """Glue a number that no published table holds; it is listed in ``key_numbers.csv``."""
    shown = format_value(v, fmt)
    return _glue(
        key,
        shown,
        {"table": KEY_NUMBERS, "row": key, "column": "value", "fmt": fmt, "what": what, "value": _number(v)},
    )


def count(key: str, n: int, *, what: str) -> str:
    """Glue a count of patients, courses, samples or events (suppressed like table cells)."""
    shown = count_label(int(n))
    if shown == str(int(n)):
        shown = f"{int(n):,}"
    return _glue(
        key,
        shown,
        {
            "table": KEY_NUMBERS,
            "row": key,
            "column": "value",
            "fmt": ",d",
            "what": what,
            "value": None if shown != f"{int(n):,}" else int(n),
        },
    )


def share(key: str, n: int, total: int, *, what: str, fmt: str = ".1f") -> str:
    """Glue ``n`` of ``total`` as a percentage; suppressed when ``n`` or ``total - n`` is hidden.

    A percentage of a known total reveals its count, and its complement reveals the rest, so
    either being below the threshold hides the share (DESIGN §7).
    """
    if total <= 0:
        shown = NOT_ESTIMABLE
        pct = None
    elif is_suppressed(n) or is_suppressed(total - n) or is_suppressed(total):
        shown, pct = SUPPRESSED, None
    else:
        pct = 100.0 * n / total
        shown = f"{format(pct, fmt)} %"
    return _glue(
        key,
        shown,
        {"table": KEY_NUMBERS, "row": key, "column": "value", "fmt": f"{fmt} %", "what": what, "value": pct},
    )


def cell_share(
    key: str, table: str, row: object, column: str, total_column: str, *, what: str, fmt: str = ".1f"
) -> str:
    """Glue a cell of a published table as a percentage of another cell of its row.

    The two cells are read as published, so a share of a count that the table hides (by
    primary, complementary or secondary suppression) is :data:`SUPPRESSED` too.
    """
    published = _state.get("published", {})
    try:
        located = _locate(published[table], row)
        n, total = located[column], located[total_column]
    except KeyError:
        n = total = None
    if isinstance(n, str) or isinstance(total, str):
        shown, pct = SUPPRESSED, None
    elif _number(n) is None or not _number(total):
        shown, pct = NOT_ESTIMABLE, None
    elif is_suppressed(float(n)) or is_suppressed(float(total) - float(n)):
        shown, pct = SUPPRESSED, None
    else:
        pct = 100.0 * float(n) / float(total)
        shown = f"{format(pct, fmt)} %"
    return _glue(
        key,
        shown,
        {"table": KEY_NUMBERS, "row": key, "column": "value", "fmt": f"{fmt} %", "what": what, "value": pct},
    )


def _locate(table: pd.DataFrame, row: object) -> pd.Series:
    if isinstance(row, Mapping):
        mask = pd.Series(True, index=table.index)
        for column, wanted in row.items():
            mask &= table[column].astype(str) == str(wanted)
        hits = table[mask]
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} rows match {dict(row)!r}")
        return hits.iloc[0]
    return table.loc[row]


def cell(key: str, table: str, row: object, column: str, fmt: str) -> str:
    """Glue one cell of a table this chapter has published (after suppression).

    ``row`` is the row's index label or, for a table published without its index, a mapping
    of column to value that picks exactly one row. A table or cell that is absent glues
    :data:`NOT_ESTIMABLE` (the table says why), never an error mid-chapter.
    """
    published = _state.get("published", {})
    raw: object = None
    if table in published:
        try:
            raw = _locate(published[table], row)[column]
        except KeyError:
            raw = None
    shown = format_value(raw, fmt)
    where = dict(row) if isinstance(row, Mapping) else row
    return _glue(
        key,
        shown,
        {
            "table": table,
            "row": where,
            "column": column,
            "fmt": fmt,
            "value": raw if isinstance(raw, str) else _number(raw),
        },
    )


def interval(
    key: str, estimate: float | None, low: float | None, high: float | None, fmt: str = ".2f", *, what: str
) -> str:
    """Glue an estimate with its 95% interval as one phrase, e.g. ``0.60 (95% CI 0.54–0.67)``.

    Each of the three numbers is listed in ``key_numbers.csv`` (keys ``<key>``, ``<key>_low``,
    ``<key>_high``); a missing estimate gives :data:`NOT_ESTIMABLE`, a missing interval the
    estimate alone, and a positive interval wider than :data:`MAX_RATIO_SPAN` (upper / lower)
    says so instead of quoting a meaningless estimate.
    """
    numbers = [_number(estimate), _number(low), _number(high)]
    if numbers[0] is None:
        shown = NOT_ESTIMABLE
    elif (
        numbers[1] is not None
        and numbers[2] is not None
        and numbers[1] > 0
        and numbers[2] / numbers[1] > MAX_RATIO_SPAN
    ):
        # a ratio whose interval spans four orders of magnitude says nothing (sparse data)
        shown = f"{NOT_ESTIMABLE} (too few events: the interval runs from {format(numbers[1], fmt)} to {format(numbers[2], fmt)})"
    elif numbers[1] is None or numbers[2] is None:
        shown = f"{format(numbers[0], fmt)} (no interval)"
    else:
        e, lo, hi = (format(x, fmt) for x in numbers)
        shown = f"{e} (95% CI {lo}–{hi})"
    for suffix, x, part in zip(
        ("", "_low", "_high"), numbers, ("", " (lower 95% limit)", " (upper 95% limit)"), strict=True
    ):
        glued = _state.setdefault("glued", {})
        glued[f"{key}{suffix}"] = {
            "shown": format_value(x, fmt),
            "table": KEY_NUMBERS,
            "row": f"{key}{suffix}",
            "column": "value",
            "fmt": fmt,
            "what": what + part,
            "value": x,
        }
    return _glue(key + "_ci", shown, {"table": None, "parts": [key, f"{key}_low", f"{key}_high"], "fmt": fmt})


def phrase(key: str, text: str) -> str:
    """Glue words (a reason a result is missing, a list of genes): no number of its own.

    Counts inside ``text`` must already have passed :func:`helpers.book.privacy.count_label`.
    """
    return _glue(key, text, {"table": None})


def figure(key: str, fig: plt.Figure | None, missing: str = "") -> None:
    """Glue a figure for a ``{glue:figure}`` directive; ``None`` glues ``missing`` in words.

    The figure gets the "simulated data" mark where the cohort is simulated, and is closed so
    that it is never shown a second time.
    """
    glued = _state.setdefault("glued", {})
    glued[key] = {"shown": "figure" if fig is not None else missing, "table": None, "figure": True}
    if fig is None:
        _myst_glue(
            key, Markdown(f"*{missing or 'This figure cannot be drawn for this cohort.'}*"), display=False
        )
    else:
        _myst_glue(key, mark_simulated(fig), display=False)
        plt.close(fig)
    _write_sources()
