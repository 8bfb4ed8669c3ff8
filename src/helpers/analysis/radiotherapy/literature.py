"""Part (a) of the radiotherapy-salvage chapter: the curated literature table and its pooling.

- :func:`load_literature`: the curated table ``data/radiotherapy/rt_salvage_literature.csv``
  (``data/radiotherapy/README.md`` describes it), checked;
- :func:`literature_response_rows`: every row with a response figure and what the chapter does
  with it (the forest plot's rows);
- :func:`pool_literature`: comparable subgroups, pooled (DerSimonian–Laird,
  :func:`helpers.stats.meta.meta_proportions`) only with at least :data:`MIN_STUDIES_TO_POOL`
  studies;
- :func:`literature_analysis`: the three together, as the chapter's :class:`LiteratureResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.analysis.result import AnalysisResult
from helpers.errors import InputError, Violation, check, raise_violations, require_columns
from helpers.stats.meta import meta_proportions

__all__ = [
    "LITERATURE_PATH",
    "MIN_STUDIES_TO_POOL",
    "LiteratureResult",
    "literature_analysis",
    "literature_response_rows",
    "load_literature",
    "pool_literature",
]

#: The curated literature table (``data/radiotherapy/README.md`` describes it).
LITERATURE_PATH = Path(__file__).resolve().parents[4] / "data" / "radiotherapy" / "rt_salvage_literature.csv"

#: Fewest comparable studies a subgroup needs to be pooled (DESIGN §4); fewer are shown only.
MIN_STUDIES_TO_POOL = 3

_LITERATURE_NUMERIC = (
    "table2_row",
    "ref_no",
    "n",
    "total_dose_gy",
    "fractions",
    "dose_per_fraction_gy",
    "orr_events",
    "orr_n",
    "orr_pct_reported",
    "dcr_pct_reported",
)
_LITERATURE_REQUIRED = (
    "study_id",
    "record_type",
    "source",
    "setting",
    "arm",
    "arm_role",
    "linked_ids",
    "rt_modality",
    "response_unit",
    "response_scope",
    "orr_events",
    "orr_n",
    "orr_pct_reported",
    "n",
)


def load_literature(path: str | Path | None = None) -> pd.DataFrame:
    """Read the curated literature table of RT salvage outcomes (CSV, never pickle).

    Parameters
    ----------
    path : str or Path, optional
        Defaults to :data:`LITERATURE_PATH` (``data/radiotherapy/rt_salvage_literature.csv``).

    Returns
    -------
    pandas.DataFrame
        One row per record, text columns with ``""`` for blanks and the numeric columns
        (``n``, doses, ``orr_events``, ``orr_n``, reported percentages) as floats (NaN blank).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    InputError
        A column the chapter needs is missing, a numeric column holds text, response counts are
        inconsistent or a study_id is repeated. Example rows are labelled by their line in the
        file (the header is line 1).
    """
    path = Path(path) if path is not None else LITERATURE_PATH
    if not path.is_file():
        raise FileNotFoundError(f"load_literature: no literature table at {path}")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    require_columns(table, _LITERATURE_REQUIRED, path.name)
    # the examples of an error message show the line of the file (header = line 1)
    lines = table.set_axis(pd.RangeIndex(2, len(table) + 2, name="line"))
    violations: list[Violation] = []
    for column in _LITERATURE_NUMERIC:
        if column not in table.columns:
            continue
        text = table[column].str.strip().replace("", np.nan)
        numbers = pd.to_numeric(text, errors="coerce")
        check(
            violations,
            lines,
            text.notna() & numbers.isna(),
            table=path.name,
            column=column,
            show=["study_id"],
            rule="must be a number (or blank)",
        )
        table[column] = numbers.astype(float)
    raise_violations(violations, f"load_literature: {path.name}")
    events, totals = table["orr_events"], table["orr_n"]
    lines = table.set_axis(pd.RangeIndex(2, len(table) + 2, name="line"))
    check(
        violations,
        lines,
        events.notna() != totals.notna(),
        table=path.name,
        column="orr_n",
        show=["study_id", "orr_events"],
        rule="orr_events and orr_n must be given together",
    )
    check(
        violations,
        lines,
        events > totals,
        table=path.name,
        column="orr_events",
        show=["study_id", "orr_n"],
        rule="must not exceed orr_n",
    )
    check(
        violations,
        lines,
        totals <= 0,
        table=path.name,
        column="orr_n",
        show=["study_id"],
        rule="must be at least 1",
    )
    check(
        violations,
        lines,
        table["study_id"].duplicated(keep=False),
        table=path.name,
        column="study_id",
        rule="must be unique",
    )
    raise_violations(violations, f"load_literature: {path.name}")
    return table


def _short_source(source: str) -> str:
    """'Lin J, et al. 2022, Radiat Oncol (ref. 100)' -> 'Lin 2022'."""
    author = source.split(",")[0].split(" ")[0] if source else "?"
    year = next(
        (
            tok.strip(",.")
            for tok in source.split()
            if tok.strip(",.").isdigit() and len(tok.strip(",.")) == 4
        ),
        "",
    )
    return f"{author} {year}".strip()


def _poolable(table: pd.DataFrame) -> pd.Series:
    """Rows that may enter a pooled estimate (data/radiotherapy/README.md, 'Which rows ...')."""
    return (
        (table["record_type"] == "text")
        & (table["arm_role"] == "rt")
        & table["orr_events"].notna()
        & (table["response_unit"] == "patient")
        & (table["setting"] != "")
        & (table["response_scope"] != "")
    )


def literature_response_rows(literature: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Every literature row that reports a response figure, with what the chapter does with it.

    A row is *shown* in the forest plot when its response is a patient-level figure: with
    counts (events/n) it gets a Wald confidence interval on the logit scale (metafor's
    ``escalc(measure="PLO")`` with 0.5 added to 0 or n events, as used for pooling); with a
    printed percentage only it is shown as a point without interval. A Table 2 row whose linked
    text rows already report a figure is a duplicate and is not shown again; a percentage whose
    unit cannot be a patient rate (``response_unit == "unclear"``) is not shown.

    Parameters
    ----------
    literature : pandas.DataFrame
        From :func:`load_literature`.
    level : float, default 0.95
        Confidence level of the per-study intervals.

    Returns
    -------
    pandas.DataFrame
        Columns ``study_id, label, setting, response_scope, rt_modality, arm_role, events, n,
        orr, ci_low, ci_high, orr_pct_reported, shown, poolable, reason`` (proportions on the
        0-1 scale), ordered by setting, scope, arm role and modality.
    """
    require_columns(literature, _LITERATURE_REQUIRED, "literature")
    table = literature[literature["record_type"] != "ongoing"]
    has_figure = table["orr_events"].notna() | table["orr_pct_reported"].notna()
    table = table[has_figure]
    with_figure = set(table["study_id"])
    rows = []
    poolable = _poolable(table)
    for index, row in table.iterrows():
        linked = [s for s in str(row["linked_ids"]).split(";") if s]
        events, n = row["orr_events"], row["orr_n"]
        if row["record_type"] == "table2" and any(s in with_figure for s in linked):
            shown, reason = (
                False,
                "Table 2 duplicate of text row(s) " + ", ".join(s for s in linked if s in with_figure),
            )
        elif row["response_unit"] == "unclear":
            shown, reason = False, "percentage cannot be a patient-level rate (unit unclear)"
        elif pd.notna(events):
            shown, reason = True, "counts"
        else:
            shown, reason = True, "printed percentage only (no counts derivable)"
        if shown and row["arm_role"] == "icb_alone":
            reason += "; ICB-alone comparator, not an RT result"
        orr = ci_low = ci_high = np.nan
        if pd.notna(events):
            one = meta_proportions([events], [n], "logit", level)
            orr = events / n
            ci_low, ci_high = float(one.study_ci_low[0]), float(one.study_ci_high[0])
        elif pd.notna(row["orr_pct_reported"]):
            orr = row["orr_pct_reported"] / 100.0
        arm = str(row["arm"])
        arm = arm if len(arm) <= 48 else arm[:47] + "…"
        label = _short_source(str(row["source"]))
        label += f": {arm}" if arm else ""
        label += (
            f" (Table 2, row {int(row['table2_row'])})"
            if row["record_type"] == "table2" and pd.notna(row.get("table2_row"))
            else ""
        )
        rows.append(
            {
                "study_id": row["study_id"],
                "label": label,
                "setting": row["setting"],
                "response_scope": row["response_scope"] or "unreported",
                "rt_modality": row["rt_modality"] or "not given",
                "arm_role": row["arm_role"],
                "events": events,
                "n": n if pd.notna(n) else row["n"],
                "orr": orr,
                "ci_low": ci_low,
                "ci_high": ci_high,
                "orr_pct_reported": row["orr_pct_reported"],
                "shown": shown,
                "poolable": bool(poolable.loc[index]),
                "reason": reason,
            }
        )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    return out.sort_values(
        ["setting", "response_scope", "arm_role", "rt_modality", "study_id"],
        ascending=[False, True, False, True, True],
        kind="stable",
    ).reset_index(drop=True)


def pool_literature(
    literature: pd.DataFrame, min_studies: int = MIN_STUDIES_TO_POOL, level: float = 0.95
) -> pd.DataFrame:
    """Random-effects pooled objective response per comparable subgroup of the literature.

    Comparable rows (DESIGN §4, ``data/radiotherapy/README.md``): text records of RT arms with
    patient-level response counts, grouped by setting (salvage after ICB failure vs RT with ICB
    in ICB-naive patients) and response scope (overall, in-field, out-of-field); within each,
    one subgroup per RT modality plus one over all modalities. A subgroup with at least
    ``min_studies`` rows is pooled with :func:`meta_proportions` (DerSimonian–Laird) on the
    logit scale (primary) and the Freeman–Tukey scale (check); a smaller one is listed with
    its studies and ``status`` saying it is shown, not pooled.

    Parameters
    ----------
    literature : pandas.DataFrame
        From :func:`load_literature`.
    min_studies : int, default 3
        Fewest studies to pool.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per subgroup: ``setting, response_scope, rt_modality, k, events, n, studies,
        status``, and for pooled subgroups ``pooled_logit, ci_low_logit, ci_high_logit, tau2,
        i2_pct, q, df, p_q, pooled_ft, ci_low_ft, ci_high_ft`` (proportions on the 0-1 scale;
        heterogeneity of the logit model).
    """
    where = "pool_literature"
    require_columns(literature, _LITERATURE_REQUIRED, "literature")
    if not (isinstance(min_studies, (int, np.integer)) and min_studies >= 2):
        raise InputError(f"{where}: min_studies must be a whole number >= 2, got {min_studies!r}")
    rows = literature[_poolable(literature)]
    columns = [
        "setting",
        "response_scope",
        "rt_modality",
        "k",
        "events",
        "n",
        "studies",
        "status",
        "pooled_logit",
        "ci_low_logit",
        "ci_high_logit",
        "tau2",
        "i2_pct",
        "q",
        "df",
        "p_q",
        "pooled_ft",
        "ci_low_ft",
        "ci_high_ft",
    ]
    out = []
    for (setting, scope), group in rows.groupby(["setting", "response_scope"], sort=True):
        modalities = sorted(m for m in group["rt_modality"].unique() if m not in ("", "mixed"))
        subgroups = [(m, group[group["rt_modality"] == m]) for m in modalities]
        subgroups.append(("all modalities", group))
        for modality, sub in subgroups:
            k = len(sub)
            record = {
                "setting": setting,
                "response_scope": scope,
                "rt_modality": modality,
                "k": k,
                "events": int(sub["orr_events"].sum()),
                "n": int(sub["orr_n"].sum()),
                "studies": "; ".join(sub["study_id"]),
            }
            if k >= min_studies:
                events = pd.Series(sub["orr_events"].to_numpy(), index=sub["study_id"])
                logit = meta_proportions(events, sub["orr_n"].to_numpy(), "logit", level)
                ft = meta_proportions(events, sub["orr_n"].to_numpy(), "freeman-tukey", level)
                record.update(
                    status="pooled",
                    pooled_logit=logit.pooled,
                    ci_low_logit=logit.ci_low,
                    ci_high_logit=logit.ci_high,
                    tau2=logit.tau2,
                    i2_pct=logit.i2,
                    q=logit.q,
                    df=logit.df,
                    p_q=logit.p_q,
                    pooled_ft=ft.pooled,
                    ci_low_ft=ft.ci_low,
                    ci_high_ft=ft.ci_high,
                )
            else:
                record["status"] = f"shown, not pooled (k = {k} < {min_studies})"
            out.append(record)
    return pd.DataFrame(out, columns=columns)


@dataclass(kw_only=True)
class LiteratureResult(AnalysisResult):
    """Part (a) of the chapter: the literature table, its response rows and pooled subgroups.

    The literature does not depend on the cohort, so ``missing`` is always ``None``.

    Attributes
    ----------
    literature : pandas.DataFrame
        :func:`load_literature`.
    responses : pandas.DataFrame
        :func:`literature_response_rows` (with ``study_id``).
    pooled : pandas.DataFrame
        :func:`pool_literature`.
    """

    literature: pd.DataFrame = field(default_factory=pd.DataFrame)
    responses: pd.DataFrame = field(default_factory=pd.DataFrame)
    pooled: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def response_table(self) -> pd.DataFrame:
        """The response rows as the book publishes them (labelled by study, no ``study_id``)."""
        return self.responses.drop(columns=["study_id"])


def literature_analysis(
    path: str | Path | None = None, min_studies: int = MIN_STUDIES_TO_POOL, level: float = 0.95
) -> LiteratureResult:
    """Read the literature table, list its response rows and pool the comparable subgroups.

    Parameters
    ----------
    path : str or Path, optional
        The literature table (default :data:`LITERATURE_PATH`).
    min_studies : int, default 3
        Fewest studies to pool.
    level : float, default 0.95
        Confidence level of the per-study and pooled intervals.
    """
    literature = load_literature(path)
    return LiteratureResult(
        literature=literature,
        responses=literature_response_rows(literature, level),
        pooled=pool_literature(literature, min_studies, level),
    )
