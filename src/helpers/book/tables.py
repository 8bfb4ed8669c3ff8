"""Result tables of a chapter: shown on the page and written as CSV for download.

:func:`publish_table` suppresses small counts for restricted cohorts (DESIGN §7), writes the
table into the chapter's results folder (raw column names, numeric values), from where the book
links it, and shows it as a reader would print it (:func:`readable_table`): headers and row
labels in words (:mod:`helpers.book.labels`), an estimate and its interval in one cell, p-values
as a journal prints them and each kind of number with its own precision.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import HTML, display

from helpers.book import labels as vocab
from helpers.book.glue import format_p
from helpers.book.privacy import protect
from helpers.book.session import RESULTS_URL_FROM_CHAPTER, _state

__all__ = ["MAX_UNFOLDED_ROWS", "MISSING", "downloads", "publish_table", "readable_table"]

#: Tables with more rows than this are folded behind a one-line summary (the CSV has them all).
MAX_UNFOLDED_ROWS = 25
#: What a missing number shows on the page (an empty text cell stays empty).
MISSING = "–"

MINUS = "−"
#: Interval column pairs (low, high) and what the interval is; longest tokens first.
_INTERVAL_TOKENS: tuple[tuple[str, str, str | None], ...] = (
    ("ci_lower", "ci_upper", None),
    ("ci_low", "ci_high", None),
    ("CI low", "CI high", None),
    ("lower", "upper", None),
    ("low", "high", None),
    ("q1", "q3", "IQR"),
    ("Q1", "Q3", "IQR"),
)
#: Columns that are never the estimate of an interval.
_NOT_ESTIMATES = {"se", "sd", "z", "coef_se", "log_se"}
_ZERO = re.compile(r"[−-]?0(\.0*)?")
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def publish_table(
    table: pd.DataFrame,
    name: str,
    caption: str = "",
    *,
    count_columns: Iterable[str] | None = None,
    show: bool = True,
    index: bool = True,
    float_format: str | None = None,
    labels: Mapping[str, str] | None = None,
    merge_intervals: bool = True,
    interval_label: str = "95% CI",
    share_columns: Iterable[str] | None = None,
    column_totals_from: tuple | None = None,
    row_totals_from: tuple | None = None,
    nested_rows: Mapping[str, str] | None = None,
) -> None:
    """Show a result table and write it as ``<results_dir>/<name>.csv`` for download.

    Returns nothing (so that a table at the end of a cell is not shown twice); the shown
    and written table is the input after small-count suppression (:func:`protect`). The CSV
    keeps the column names and the numbers as they are; only the page shows them for a reader
    (:func:`readable_table` says how). On the page the table scrolls sideways inside its own
    box when it is wider than the text, and a table of more than :data:`MAX_UNFOLDED_ROWS` rows
    is folded behind a summary line that says how many rows it holds and links its CSV.

    Parameters
    ----------
    float_format
        A format (``"{:.4g}"``) for the numbers of no particular kind, instead of 3
        significant digits; counts, ratios, percentages, months and p-values keep their rules.
    labels
        Words for headers or row labels of this table, over the book's vocabulary.
    merge_intervals
        Show an estimate and its interval in one cell (default); ``False`` keeps the columns.
    interval_label
        What the merged intervals are, in the header ("95% CI").
    share_columns
        Columns to hide beside a hidden count, besides those named as shares
        (:func:`helpers.book.privacy.suppress_small_counts`).
    column_totals_from, row_totals_from
        ``(table name, row label)`` of a table published earlier in the chapter whose row holds
        this table's column totals (or, for ``row_totals_from``, its row totals, by this table's
        row labels), optionally with a third element mapping this table's labels to that row's
        (``{"courses": "not_evaluable"}``). Linked tables: a total hidden there keeps a cell of
        the line hidden here, so that this table's cells do not add up to it.
    nested_rows
        Row label → the row it is a subset of (an attrition table; see
        :func:`helpers.book.privacy.suppress_small_counts`).
    """
    safe = protect(
        table,
        count_columns,
        share_columns=share_columns,
        column_totals=_totals_from(column_totals_from, table.columns),
        row_totals=_totals_from(row_totals_from, table.index),
        nested_rows=nested_rows,
    )
    _state.setdefault("published", {})[name] = safe  # glued numbers are read from here
    results_dir = _state["results_dir"]
    written = False
    if isinstance(results_dir, Path):
        results_dir.mkdir(parents=True, exist_ok=True)
        safe.to_csv(results_dir / f"{name}.csv", index=index)
        written = True
    if show:
        shown = readable_table(
            safe,
            index=index,
            float_format=float_format,
            labels=labels,
            merge_intervals=merge_intervals,
            interval_label=interval_label,
        )
        link = _csv_link(f"{name}.csv") if written and _state.get("chapter") else ""
        html_table = _table_html(shown, name, caption, index=index)
        display(HTML(_table_box(html_table, caption or name, len(safe), link)))


# ----------------------------------------------------------------------------- the page view


def readable_table(
    table: pd.DataFrame,
    *,
    index: bool = True,
    float_format: str | None = None,
    labels: Mapping[str, str] | None = None,
    merge_intervals: bool = True,
    interval_label: str = "95% CI",
) -> pd.DataFrame:
    """The table as the page shows it: text cells, headers and row labels in words.

    * **Intervals**: an estimate and its interval become one cell, ``0.60 (0.54–0.67)``
      (``−0.11 to 1.68`` when a limit is negative), headed "HR (95% CI)". The pairs found are
      ``ci_low``/``ci_high``, ``ci_lower``/``ci_upper``, ``CI low``/``CI high``,
      ``lower``/``upper`` and ``low``/``high``, bare (the estimate is the nearest numeric column
      before them that lies inside every interval, e.g. ``hr, ci_low, ci_high`` or
      ``log_effect, se, p, ci_low, ci_high``) or sharing a prefix or suffix with the estimate
      (``X, X_low, X_high``; ``median_months, median_ci_low, median_ci_high``; ``firth_or,
      firth_ci_lower, firth_ci_upper``; ``pooled_logit, ci_low_logit, ci_high_logit``;
      ``ORR %, CI low %, CI high %``); a median with ``q1``/``q3`` becomes "Median (IQR)".
      A missing interval leaves the estimate alone.
    * **p- and q-values** (:func:`helpers.book.glue.format_p`, the prose's rule): below 0.001
      as "<0.001", below 0.01 with 3 decimals (0.004), else with 2 (0.03, 0.50).
    * **Precision by kind** (:func:`helpers.book.labels.column_kind` and the column's type):
      counts as whole numbers with thousands separators (1,234); ratios (HR, OR, RR, E-value)
      with 2 decimals; percentages with 1 decimal, and shares of 0–1 as percentages with 1
      decimal (header "(%)"); months with 1 decimal; any other number with 3 significant
      digits of the column's typical size, one number of decimals per column (``float_format``
      replaces this rule). Negative numbers take a minus sign (−), infinity is "∞".
    * **Words**: headers and row labels through :func:`helpers.book.labels.label`; the values
      of a text column only when they are all names of one vocabulary (resistance classes,
      signatures, comparisons, ...). ``True``/``False`` read "yes"/"no".
    * Text, such as a suppressed count ("<11"), is left as it is; a missing number shows
      :data:`MISSING`, missing text an empty cell.
    """
    out = table.copy()
    columns = [str(c) for c in out.columns] if not isinstance(out.columns, pd.MultiIndex) else []
    context = set(columns)
    triples = _find_intervals(out) if merge_intervals and columns else []
    merged = {t.estimate: t for t in triples}
    dropped = {p for t in triples for p in (t.low, t.high)}
    # a column of mixed text and numbers (Table 1) prints a row's numbers as its label says
    row_kinds = [vocab.column_kind(v) if isinstance(v, str) else None for v in out.index] if index else None
    cells: dict[int, list[str]] = {}
    headers: list[object] = []
    kinds: list[str | None] = []
    for j, column in enumerate(out.columns):
        if j in dropped:
            continue
        series = out.iloc[:, j]
        kind = _kind(str(column), series, context)
        if j in merged:
            t = merged[j]
            text = _interval_cells(out, t, kind, float_format)
            head = _interval_header(_header(column, kind, labels, context), t.what or interval_label)
        else:
            text = _cells(series, kind, float_format, str(column), row_kinds)
            head = _header(column, kind, labels, context) if columns else column
        cells[len(headers)] = text
        headers.append(head)
        kinds.append(kind)
    shown = pd.DataFrame({k: v for k, v in cells.items()}, index=out.index)
    shown.columns = (
        pd.Index(headers, dtype=object)
        if columns
        else pd.MultiIndex.from_tuples(
            [tuple(vocab.label(x, labels) for x in col) for col in headers], names=out.columns.names
        )
    )
    shown.columns.name = None if columns else shown.columns.name
    shown.attrs["numeric"] = [k is not None and k != "text" for k in kinds]
    if index:
        shown.index = _row_labels(out.index, labels)
        names = [vocab.label(n, labels) if n is not None else None for n in out.index.names]
        if out.index.nlevels == 1:
            shown.index.name = None
            corner = names[0]
            column_name = table.columns.name if columns else None
            if corner and column_name is None:
                shown.columns.name = corner  # one header row: the row labels' name in the corner
            elif corner:
                shown.index.name = corner
                shown.columns.name = vocab.label(column_name, labels)
        else:
            shown.index.names = names
    return shown


@dataclass(frozen=True)
class _Interval:
    estimate: int
    low: int
    high: int
    what: str | None  # None: the confidence interval of the call


def _numeric(series: pd.Series) -> pd.Series:
    return pd.to_numeric(
        series.where(~series.map(lambda v: isinstance(v, (str, bool, np.bool_)))), errors="coerce"
    )


def _inside(est: pd.Series, low: pd.Series, high: pd.Series) -> bool | None:
    """Whether every estimate lies in its interval (``None``: no row has all three)."""
    e, lo, hi = (_numeric(s).astype(float) for s in (est, low, high))
    ok = e.notna() & lo.notna() & hi.notna()
    if not ok.any():
        return None
    tol = 1e-9 * np.maximum(1.0, np.abs(e[ok].replace([np.inf, -np.inf], 0.0)))
    return bool(((lo[ok] - tol <= e[ok]) & (e[ok] <= hi[ok] + tol)).all())


def _find_intervals(table: pd.DataFrame) -> list[_Interval]:
    """The (estimate, low, high) column triples of a table, by position (see readable_table)."""
    names = [str(c) for c in table.columns]
    numeric = [
        pd.api.types.is_numeric_dtype(table.iloc[:, j])
        and not pd.api.types.is_bool_dtype(table.iloc[:, j])
        or (table.iloc[:, j].dtype == object and _numeric(table.iloc[:, j]).notna().any())
        for j in range(len(names))
    ]
    used: set[int] = set()
    found: list[_Interval] = []
    for lo_j, lo_name in enumerate(names):
        if lo_j in used or not numeric[lo_j]:
            continue
        for lo_tok, hi_tok, what in _INTERVAL_TOKENS:
            m = re.search(rf"(?:^|(?<=[_ ])){re.escape(lo_tok)}(?=$|[_ ])", lo_name)
            if not m:
                continue
            prefix, suffix = lo_name[: m.start()], lo_name[m.end() :]
            hi_name = prefix + hi_tok + suffix
            if hi_name not in names:
                continue
            hi_j = names.index(hi_name)
            if hi_j in used or not numeric[hi_j]:
                continue
            exact = (prefix.rstrip("_ ") + suffix) if prefix else suffix.lstrip("_ ")
            candidates = [
                j
                for j, n in enumerate(names)
                if j not in (lo_j, hi_j)
                and j not in used
                and numeric[j]
                and (n == exact or (n.startswith(prefix) and n.endswith(suffix)))
                and n.lower() not in _NOT_ESTIMATES
                and vocab.column_kind(n) not in (vocab.P_VALUE, vocab.Q_VALUE, vocab.COUNT)
                and not pd.api.types.is_integer_dtype(table.iloc[:, j])
            ]
            if what == "IQR":
                candidates = [j for j in candidates if "median" in names[j].lower()]
            ordered = [j for j in candidates if names[j] == exact] + sorted(
                (j for j in candidates if j < lo_j and names[j] != exact), reverse=True
            )
            bare = not prefix.strip("_ ") and not suffix.strip("_ ")
            for est_j in ordered:
                est = table.iloc[:, est_j]
                inside = _inside(est, table.iloc[:, lo_j], table.iloc[:, hi_j])
                # an estimate with no value beside its interval must be named as one
                named = not bare or names[est_j] == exact or vocab.column_kind(names[est_j]) == vocab.RATIO
                if inside is True or (inside is None and named):
                    found.append(_Interval(est_j, lo_j, hi_j, what))
                    used.update((est_j, lo_j, hi_j))
                    break
            break
    return found


def _kind(name: str, series: pd.Series, context: set[str]) -> str | None:
    """How the values of a column are printed: a kind of :mod:`helpers.book.labels`, "bool",
    "text" or ``None`` (numbers of no particular kind in a text column)."""
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    named = vocab.column_kind(name)
    if name == "q" and "df" in context:  # Cochran's Q beside its degrees of freedom
        named = vocab.NUMBER
    if name == "difference" and any(c.startswith("rmst") for c in context):
        named = vocab.MONTHS
    values = _numeric(series)
    if values.notna().sum() == 0:
        return (named or vocab.NUMBER) if pd.api.types.is_numeric_dtype(series) else "text"
    if named in (vocab.P_VALUE, vocab.Q_VALUE):
        return named
    if pd.api.types.is_integer_dtype(series):
        return vocab.COUNT
    if named == vocab.PROPORTION:
        finite = values[np.isfinite(values)]
        return vocab.PROPORTION if ((finite >= 0) & (finite <= 1)).all() else vocab.NUMBER
    if named is not None:
        return named
    if pd.api.types.is_numeric_dtype(series):
        return vocab.NUMBER
    return None  # a text column holding some numbers: each printed on its own


def _header(column: object, kind: str | None, labels: Mapping[str, str] | None, context: set[str]) -> str:
    if str(column) == "q" and "df" in context and not (labels and "q" in labels):
        return "Cochran's Q"
    if str(column) == "difference" and any(c.startswith("rmst") for c in context):
        return "RMST difference (months)"
    text = vocab.label(column, labels)
    if kind == vocab.PROPORTION and "%" not in text:
        text += " (%)"
    return text


def _interval_header(text: str, what: str) -> str:
    """The header of a merged interval: "HR (95% CI)", "Median (months; 95% CI)"."""
    if text.endswith(")"):
        return f"{text[:-1]}; {what})"
    return f"{text} ({what})"


# ----------------------------------------------------------------------------- numbers


def _minus(text: str) -> str:
    return MINUS + text[1:] if text.startswith("-") else text


def _significant(x: float, digits: int = 3) -> str:
    """``x`` with ``digits`` significant digits, never in e-notation (× 10ⁿ for tiny values)."""
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 10 ** (digits - 1):
        return _minus(f"{x:,.0f}")
    if a < 1e-4:
        mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
        return _minus(f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}")
    decimals = digits - 1 - math.floor(math.log10(a))
    return _minus(f"{x:.{decimals}f}")


def _decimals(values: Iterable[float]) -> int | None:
    """Decimals giving 3 significant digits at the column's typical (median) size."""
    finite = [abs(v) for v in values if v is not None and math.isfinite(v) and v != 0]
    if not finite:
        return None
    typical = float(np.median(finite))
    if typical < 1e-4:
        return None
    return int(min(6, max(0, 2 - math.floor(math.log10(typical)))))


class _Printer:
    """Prints the numbers of one column (or one interval triple) by their kind."""

    def __init__(self, kind: str | None, values: Iterable[float], float_format: str | None) -> None:
        self.kind = kind
        self.float_format = float_format
        self.extra = 0  # more decimals, for an interval whose limit would read 0
        self.decimals = _decimals(values) if kind == vocab.NUMBER and float_format is None else None

    def __call__(self, v: float) -> str:
        if math.isinf(v):
            return "∞" if v > 0 else MINUS + "∞"
        kind = self.kind
        if kind in (vocab.P_VALUE, vocab.Q_VALUE):
            return format_p(v)
        if kind == vocab.COUNT:
            return _minus(f"{round(v):,}") if float(v).is_integer() else _significant(v)
        if kind == vocab.RATIO:
            return _minus(f"{v:,.2f}") if v == 0 or abs(v) >= 0.01 else _significant(v, 2)
        if kind in (vocab.PERCENT, vocab.MONTHS):
            return _minus(f"{v:,.{1 + self.extra}f}")
        if kind == vocab.PROPORTION:
            return _minus(f"{100 * v:.{1 + self.extra}f}")
        if kind == vocab.NUMBER and self.float_format is not None:
            return _minus(self.float_format.format(v))
        if kind == vocab.NUMBER and self.decimals is not None:
            text = f"{v:,.{self.decimals + self.extra}f}"
            if v != 0 and float(text.replace(",", "")) == 0:  # far below the column's size
                return _significant(v)
            return _minus(text)
        if float(v).is_integer():  # a number in a text column
            return _minus(f"{round(v):,}")
        return _significant(v)


def _is_missing(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, (float, np.floating)) and math.isnan(v))


def _as_number(v: object) -> float | None:
    if isinstance(v, (bool, np.bool_, str)) or _is_missing(v):
        return None
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _cells(
    series: pd.Series,
    kind: str | None,
    float_format: str | None,
    name: str = "",
    row_kinds: list[str | None] | None = None,
) -> list[str]:
    if kind == "bool":
        return ["" if _is_missing(v) else ("yes" if bool(v) else "no") for v in series]
    words = vocab.value_labels(series.dropna().tolist(), column=name) if kind in ("text", None) else {}
    numbers = [_as_number(v) for v in series]
    printer = _Printer(kind, [x for x in numbers if x is not None], float_format)
    by_row = row_kinds if kind is None and row_kinds is not None else [None] * len(series)
    out = []
    for v, x, row_kind in zip(series, numbers, by_row, strict=True):
        if x is not None:
            out.append(_Printer(row_kind, [], float_format)(x) if row_kind else printer(x))
        elif _is_missing(v):
            out.append(MISSING if kind not in (None, "text") else "")
        elif isinstance(v, (bool, np.bool_)):
            out.append("yes" if v else "no")
        else:
            out.append(words.get(v, str(v)) if isinstance(v, str) else str(v))
    return out


def _interval_cells(
    table: pd.DataFrame, t: _Interval, kind: str | None, float_format: str | None
) -> list[str]:
    est, low, high = (table.iloc[:, j] for j in (t.estimate, t.low, t.high))
    numbers = [[_as_number(v) for v in s] for s in (est, low, high)]
    values = [x for col in numbers for x in col if x is not None]
    printer = _Printer(kind or vocab.NUMBER, values, float_format)
    limits = [x for col in numbers[1:] for x in col if x is not None and x != 0 and math.isfinite(x)]
    while printer.extra < 2 and any(_ZERO.fullmatch(printer(x)) for x in limits):
        printer.extra += 1  # "1.40 (−0.01 to 2.81)", not "1.4 (−0.0 to 2.8)"
    out = []
    for i in range(len(table)):
        e, lo, hi = (numbers[k][i] for k in range(3))
        if e is None:
            raw = est.iloc[i]
            out.append(MISSING if _is_missing(raw) else str(raw))
            continue
        text = printer(e)
        if lo is not None and hi is not None:
            lo_text, hi_text = printer(lo), printer(hi)
            sep = " to " if lo_text.startswith(MINUS) or hi_text.startswith(MINUS) else "–"
            text = f"{text} ({lo_text}{sep}{hi_text})"
        out.append(text)
    return out


def _row_labels(index: pd.Index, labels: Mapping[str, str] | None) -> pd.Index:
    """Row labels in words: a whole vocabulary at once (a column of classes), else one by one."""

    def level(values: pd.Index) -> list[object]:
        words = vocab.value_labels(values.tolist())
        return [
            v if not isinstance(v, str) else (labels or {}).get(v) or words.get(v) or vocab.label(v)
            for v in values
        ]

    if isinstance(index, pd.MultiIndex):
        arrays = [level(index.get_level_values(i)) for i in range(index.nlevels)]
        return pd.MultiIndex.from_arrays(arrays)
    return pd.Index(level(index), dtype=object)


# ----------------------------------------------------------------------------- HTML


def _table_html(shown: pd.DataFrame, name: str, caption: str, *, index: bool) -> str:
    """The shown table as HTML: every text escaped, ids from the table's name."""
    esc = shown.copy()
    esc = esc.map(lambda v: html.escape(str(v)))
    if isinstance(esc.columns, pd.MultiIndex):
        esc.columns = pd.MultiIndex.from_tuples(
            [tuple(html.escape(str(x)) for x in c) for c in esc.columns],
            names=[html.escape(str(n)) if n is not None else None for n in esc.columns.names],
        )
    else:
        esc.columns = pd.Index([html.escape(str(c)) for c in esc.columns], dtype=object)
        esc.columns.name = html.escape(str(shown.columns.name)) if shown.columns.name is not None else None
    if isinstance(esc.index, pd.MultiIndex):
        esc.index = pd.MultiIndex.from_arrays(
            [[html.escape(str(v)) for v in esc.index.get_level_values(i)] for i in range(esc.index.nlevels)],
            names=[html.escape(str(n)) if n is not None else None for n in shown.index.names],
        )
    else:
        esc.index = pd.Index([html.escape(str(v)) for v in esc.index], dtype=object)
        esc.index.name = html.escape(str(shown.index.name)) if shown.index.name is not None else None
    styler = esc.style.set_uuid(re.sub(r"[^A-Za-z0-9_]", "_", name))  # deterministic HTML ids
    numeric = shown.attrs.get("numeric", [])
    right = [{"selector": f"td.col{j}", "props": "text-align: right;"} for j, n in enumerate(numeric) if n]
    if right:
        styler = styler.set_table_styles(right)
    if caption:
        styler = styler.set_caption(html.escape(caption))
    if not index:
        styler = styler.hide(axis="index")
    return styler.to_html()


def _csv_link(filename: str) -> str:
    """A link to a result file of this chapter (the form :func:`downloads` lists)."""
    chapter = _state["chapter"]
    return (
        f"<a href='{RESULTS_URL_FROM_CHAPTER}/{chapter}/{html.escape(filename)}'>{html.escape(filename)}</a>"
    )


def published(name: str) -> pd.DataFrame:
    """The table ``name`` as this chapter published it (after suppression): for a figure of it."""
    tables = _state.get("published", {})
    if name not in tables:
        raise KeyError(f"table {name!r} has not been published in this chapter")
    return tables[name]


def _totals_from(source: tuple | None, labels: Iterable[object]) -> dict | None:
    """The cells of a published table's row that are totals of ``labels`` (as published)."""
    if source is None:
        return None
    name, row, *rest = source
    renamed: Mapping = rest[0] if rest else {}
    published = _state.get("published", {})
    if name not in published:
        raise KeyError(f"totals are read from table {name!r}, which this chapter has not published yet")
    cells = published[name].loc[row]
    wanted = {label: renamed.get(label, label) for label in labels}
    return {label: cells[other] for label, other in wanted.items() if other in cells.index}


def _table_box(table_html: str, title: str, n_rows: int, csv_link: str = "") -> str:
    """The table in a box that scrolls sideways; folded behind a summary when it is long."""
    box = f"<div class='result-table' style='overflow-x: auto; max-width: 100%;'>{table_html}</div>"
    if n_rows <= MAX_UNFOLDED_ROWS:
        return box
    where = f"; download all rows: {csv_link}" if csv_link else "; the CSV below has them all"
    summary = f"{html.escape(title)}: {n_rows:,} rows (click to show{where})"
    return f"<details class='result-table-fold'><summary>{summary}</summary>{box}</details>"


def downloads() -> None:
    """List this chapter's result files with links (shown at the end of a chapter)."""
    results_dir = _state["results_dir"]
    if not isinstance(results_dir, Path) or not results_dir.is_dir():
        display(HTML("<p>No result files were written (no results folder was given).</p>"))
        return
    files = sorted(p.name for p in results_dir.glob("*.csv"))
    items = "".join(f"<li>{_csv_link(f)}</li>" for f in files)
    display(HTML(f"<p>Result tables of this chapter (CSV):</p><ul>{items}</ul>"))
