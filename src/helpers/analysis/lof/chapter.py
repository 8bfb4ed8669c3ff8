"""The acquired-LoF analysis of chapter 4 (DESIGN §4) on a canonical cohort, per cancer type.

:func:`acquired_lof_analysis` chooses one DNA sample per patient and group
(:func:`select_lof_samples`), calls LoF panel-aware (:mod:`.matrix`), runs the group comparisons
and the paired test of each cancer type (:mod:`.compare`), gives each gene its status
(:func:`~helpers.analysis.lof.calls.call_status`: enriched, depleted, ...) and returns an
:class:`AcquiredLofResult`. :func:`discovery_report` scores what it found against the planted
truth of a simulated cohort.

The primary comparison (revision of December 2026) sets post-progression samples of acquired
resistance against pre-treatment samples of patients whose index course is *also* acquired
resistance: a LoF that merely selects patients into that class before treatment is as common in
both groups, so it is not read as acquisition. A gene is *found* only when that comparison passes
the FDR and its LoF is enriched (odds ratio above 1 in both tests that decide); a gene that passes
with odds ratios below 1 is reported as *depleted*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.analysis.derive import sample_table as derive_sample_table
from helpers.analysis.lof.calls import (
    PLANTED_COLUMNS,
    call_status,
    planted_effects,
    planted_lof_pairs,
    selection_pairs,
)
from helpers.analysis.lof.compare import COMPARE_COLUMNS, compare_groups, paired_gain_test
from helpers.analysis.lof.matrix import (
    WHOLE_EXOME_KEY,
    lof_covariates,
    lof_event_kinds,
    lof_matrix,
    tmb_per_mb,
)
from helpers.analysis.lof.names import (
    ALL_PRE_COMPARISON,
    COMPARISON_LABELS,
    CRITERION_COLUMNS,
    DEPLETED,
    ENRICHED,
    FOUND_CRITERIA,
    GROUP_COMPARISONS,
    LOF_GROUPS,
    PAIRED_ACQUIRED,
    PAIRED_PRIMARY,
    PRIMARY_COMPARISON,
    SECONDARY_COMPARISON,
)
from helpers.analysis.result import AnalysisResult
from helpers.data.cohort import Cohort
from helpers.errors import InputError, require_columns

__all__ = [
    "select_lof_samples",
    "AcquiredLofResult",
    "acquired_lof_analysis",
    "discovery_report",
]

_Q_COLUMNS = {k: v[1] for k, v in CRITERION_COLUMNS.items()}
_P_COLUMNS = {k: v[0] for k, v in CRITERION_COLUMNS.items()}
#: Every comparison :func:`acquired_lof_analysis` runs by default.
ALL_COMPARISONS = (*GROUP_COMPARISONS, PAIRED_ACQUIRED, PAIRED_PRIMARY)

_SAMPLE_TABLE_COLUMNS = (
    "sample_id",
    "patient_id",
    "collection_day",
    "timepoint",
    "has_dna",
    "cancer_type",
    "resistance_class",
)


def select_lof_samples(sample_table: pd.DataFrame) -> pd.DataFrame:
    """One DNA sample per patient and group for the acquired-LoF comparisons.

    Parameters
    ----------
    sample_table
        :func:`helpers.analysis.derive.sample_table` (columns sample_id, patient_id, collection_day,
        timepoint, has_dna, cancer_type, resistance_class).

    Returns
    -------
    pandas.DataFrame
        Columns sample_id, patient_id, cancer_type, resistance_class, collection_day, group
        (``pre``, ``post_acquired``, ``post_primary``), ``primary_reference`` (True for a pre
        sample that is a reference of the primary comparison) and ``all_pre_reference`` (True for
        a pre sample that is a reference of the secondary comparison with all pre-treatment
        samples). Rules:

        * only samples with a DNA assay and a known cancer type;
        * ``pre``: the pre-treatment sample nearest day 0 (the latest on or before it), whatever
          the patient's class: it is the tumour the ICB course started on;
        * ``post_acquired`` / ``post_primary``: the earliest post-progression sample of a patient
          whose index course is acquired / primary resistance: the tumour closest to the
          moment resistance became manifest, before later lines of therapy reshape it. Patients of
          other classes (not evaluable) are not used after progression;
        * ties (same day) are broken by sample_id, so the choice is deterministic; samples
          without a collection day (timepoint from the source's label) come last;
        * ``primary_reference``: the pre sample of a patient whose index course is acquired
          resistance and who has no ``post_acquired`` sample. A patient with both counts in the
          post-progression group only, so the two groups of the primary comparison are
          independent; the pre sample is kept for the paired analysis;
        * ``all_pre_reference``: the pre sample of any patient without a ``post_acquired``
          sample, whatever the class (the secondary comparison that reads baseline selection as
          acquisition).

    Raises
    ------
    InputError
        Missing columns.
    """
    require_columns(sample_table, _SAMPLE_TABLE_COLUMNS, "sample_table")
    table = sample_table.loc[
        sample_table["has_dna"].fillna(False).astype(bool) & sample_table["cancer_type"].notna(),
        list(_SAMPLE_TABLE_COLUMNS),
    ].copy()
    table["collection_day"] = pd.to_numeric(table["collection_day"], errors="coerce")
    table["_undated"] = table["collection_day"].isna()

    pre = table[table["timepoint"] == "pre"].sort_values(
        ["patient_id", "_undated", "collection_day", "sample_id"],
        ascending=[True, True, False, True],
    )
    pre = pre.drop_duplicates("patient_id").assign(group="pre")
    post = table[(table["timepoint"] == "post") & table["resistance_class"].isin(["acquired", "primary"])]
    post = post.sort_values(["patient_id", "_undated", "collection_day", "sample_id"])
    post = post.drop_duplicates("patient_id")
    post = post.assign(group="post_" + post["resistance_class"].astype(str))

    chosen = pd.concat([pre, post], ignore_index=True).drop(columns=["timepoint", "has_dna", "_undated"])
    acquired_post = set(chosen.loc[chosen["group"] == "post_acquired", "patient_id"])
    unpaired_pre = (chosen["group"] == "pre") & ~chosen["patient_id"].isin(acquired_post)
    chosen["primary_reference"] = unpaired_pre & (chosen["resistance_class"] == "acquired")
    chosen["all_pre_reference"] = unpaired_pre
    chosen["group"] = pd.Categorical(chosen["group"], categories=list(LOF_GROUPS))
    chosen = chosen.sort_values(["cancer_type", "group", "patient_id"], kind="mergesort")
    return chosen.reset_index(drop=True)


@dataclass(kw_only=True)
class AcquiredLofResult(AnalysisResult):
    """Everything the acquired-LoF chapter shows, from :func:`acquired_lof_analysis`.

    Attributes
    ----------
    samples
        The chosen samples (:func:`select_lof_samples`).
    lof
        LoF matrix of the chosen samples (1 LoF, 0 wild type, NaN not assayed), indexed by
        sample_id.
    events
        :func:`~helpers.analysis.lof.matrix.lof_event_kinds` of the chosen samples.
    results
        Group comparisons, one row per cancer type, comparison and gene with at least one carrier
        (the columns of :func:`~helpers.analysis.lof.compare.compare_groups` plus cancer_type,
        comparison, ``status`` (:func:`~helpers.analysis.lof.calls.call_status`: enriched,
        depleted, ...; every comparison), ``found`` (primary comparison and enriched) and
        ``depleted`` (primary comparison and depleted)).
    paired
        Paired gains, one row per cancer type, comparison (acquired or primary pairs) and gene with
        at least one carrier (the columns of :func:`~helpers.analysis.lof.compare.paired_gain_test`).
    availability
        Patients per cancer type in each group and pairs, and how many genes were tested.
    skipped
        Cancer types and comparisons that could not be run, with the reason.
    planted
        A simulated cohort's planted LoF effects beside their calls
        (:func:`~helpers.analysis.lof.calls.planted_effects`: recorded power, whether the cohort
        can detect each, status in the primary comparison); ``None`` when no truth was given
        (real cohorts).
    benefit_months, min_exposure_weeks, min_carriers, fdr, criterion
        The settings used.
    missing
        ``None``, or the sentence saying what the cohort lacks (then the tables are empty).
    """

    samples: pd.DataFrame
    lof: pd.DataFrame
    events: pd.DataFrame
    results: pd.DataFrame
    paired: pd.DataFrame
    availability: pd.DataFrame
    skipped: pd.DataFrame
    benefit_months: float
    min_exposure_weeks: float
    min_carriers: int
    fdr: float
    criterion: str
    planted: pd.DataFrame | None = None

    @property
    def q_column(self) -> str:
        """The q-value column that decides ``found``."""
        return _Q_COLUMNS[self.criterion]

    @property
    def p_column(self) -> str:
        """The p-value column behind :attr:`q_column`."""
        return _P_COLUMNS[self.criterion]

    def _rows(self, column: str) -> pd.DataFrame:
        rows = self.results[self.results[column].astype(bool)] if len(self.results) else self.results
        return rows.sort_values(["cancer_type", self.q_column, "gene"]).reset_index(drop=True)

    def found(self) -> pd.DataFrame:
        """Genes found: primary comparison, q ≤ fdr, LoF enriched by every deciding test."""
        return self._rows("found")

    def depleted(self) -> pd.DataFrame:
        """Genes of the primary comparison with q ≤ fdr whose LoF is *less* common after acquired
        resistance (odds ratios below 1): reported as depleted, never as acquired."""
        return self._rows("depleted")

    def selection_candidates(self) -> pd.DataFrame:
        """Genes enriched against the pre-treatment samples of *all* patients but not found.

        The pattern of a LoF that selects patients into acquired resistance before treatment (a
        LoF that predicts benefit), rather than one acquired during it. Columns cancer_type, gene,
        the odds ratios and q-value against all pre-treatment samples, and ``status_primary``.
        """
        columns = ["cancer_type", "gene", "fisher_or", "firth_or", self.q_column, "status_primary"]
        if self.results.empty:
            return pd.DataFrame(columns=columns)
        results = self.results
        all_pre = results[(results["comparison"] == ALL_PRE_COMPARISON) & (results["status"] == ENRICHED)]
        primary = results[results["comparison"] == PRIMARY_COMPARISON].set_index(["cancer_type", "gene"])
        keys = list(zip(all_pre["cancer_type"], all_pre["gene"], strict=True))
        status = [primary.loc[k, "status"] if k in primary.index else "not tested" for k in keys]
        out = all_pre.assign(status_primary=status)
        out = out[out["status_primary"] != ENRICHED]
        return out.sort_values(["cancer_type", self.q_column, "gene"])[columns].reset_index(drop=True)


_SKIPPED_COLUMNS = ("cancer_type", "comparison", "reason")
_PAIRED_COLUMNS = (
    "cancer_type",
    "comparison",
    "gene",
    "n_pairs",
    "gained",
    "lost",
    "both",
    "tested",
    "reason",
    "p_value",
    "q_value",
)


_FLAGS = ("tested", "found", "depleted")


def _empty_results() -> pd.DataFrame:
    columns = ["cancer_type", "comparison", *COMPARE_COLUMNS, "status", "found", "depleted"]
    return pd.DataFrame({c: pd.Series(dtype=bool if c in _FLAGS else object) for c in columns})


def _empty_paired() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=bool if c == "tested" else object) for c in _PAIRED_COLUMNS})


def acquired_lof_analysis(
    cohort: Cohort,
    benefit_months: float = 6,
    min_exposure_weeks: float = 6,
    min_carriers: int = 3,
    fdr: float = 0.1,
    comparisons: Sequence[str] = ALL_COMPARISONS,
    criterion: str = "both",
    profile_ci: bool = True,
    truth: Mapping | None = None,
) -> AcquiredLofResult:
    """The acquired-LoF analysis of DESIGN §4 on a canonical cohort, per cancer type.

    Parameters
    ----------
    cohort
        A :class:`helpers.data.cohort.Cohort`.
    benefit_months, min_exposure_weeks
        Resistance-class rule (:func:`helpers.analysis.derive.sample_table`).
    min_carriers
        Genes with fewer LoF carriers in the two groups together (pairs with LoF, for the paired
        test) are not tested.
    fdr
        Benjamini–Hochberg level, applied within each cancer type and comparison.
    comparisons
        Which of :data:`PRIMARY_COMPARISON` (acquired post-progression vs acquired pre-treatment),
        :data:`ALL_PRE_COMPARISON` (acquired post-progression vs pre-treatment of all patients),
        :data:`SECONDARY_COMPARISON` (post-progression, acquired vs primary),
        :data:`PAIRED_ACQUIRED`, :data:`PAIRED_PRIMARY` to run (default all).
    criterion
        Which q-value of the primary comparison must pass ``fdr`` for a gene to be *found*
        (with every deciding odds ratio above 1; below 1 it is *depleted*).
        ``"both"`` (default): ``max_q``, Benjamini–Hochberg of the larger of the Fisher and Firth
        p-values, so a gene is found only when it is enriched beyond what TMB, purity and MSI
        explain (Firth) *and* the enrichment holds by an exact test (Fisher). Each guards
        against the other's failure: post-progression tumours carry more mutations, so
        Fisher's test alone calls large genes of hypermutated tumours; the chi-square p-values
        of the Firth penalised likelihood-ratio test are too small in the far tail when carriers
        are few and the groups unbalanced. ``"firth"`` and ``"fisher"`` use one test alone
        (sensitivity analyses and ``scripts/validate_lof_fdr.py``).
    profile_ci
        Passed to :func:`~helpers.analysis.lof.compare.compare_groups` (False: no Firth
        intervals, faster).
    truth
        A simulated cohort's ``truth.json`` (:func:`~helpers.analysis.lof.calls.cohort_truth`):
        fills ``planted`` with each planted effect, its recorded power and its call. None (real
        cohorts): ``planted`` is None.

    Returns
    -------
    AcquiredLofResult
        When the cohort lacks what the analysis needs (DNA calls, post-progression DNA samples of
        acquired resistance, pre-treatment DNA samples), ``missing`` says so in one sentence and
        the tables are empty; nothing is raised.

    Raises
    ------
    InputError
        Unknown comparison or criterion, fdr outside (0, 1), min_carriers < 1, and bad tables
        (as :func:`~helpers.analysis.lof.matrix.lof_matrix`).
    """
    unknown = [c for c in comparisons if c not in COMPARISON_LABELS]
    if unknown:
        raise InputError(
            f"acquired_lof_analysis: unknown comparison(s) {unknown}; known: {list(COMPARISON_LABELS)}"
        )
    if criterion not in FOUND_CRITERIA:
        raise InputError(
            f"acquired_lof_analysis: criterion must be one of {FOUND_CRITERIA}, got {criterion!r}"
        )
    if not 0.0 < float(fdr) < 1.0:
        raise InputError(f"acquired_lof_analysis: fdr must lie in (0, 1), got {fdr}")
    if int(min_carriers) != min_carriers or min_carriers < 1:
        raise InputError(
            f"acquired_lof_analysis: min_carriers must be a positive integer, got {min_carriers}"
        )
    min_carriers = int(min_carriers)
    settings = {
        "benefit_months": float(benefit_months),
        "min_exposure_weeks": float(min_exposure_weeks),
        "min_carriers": min_carriers,
        "fdr": float(fdr),
        "criterion": criterion,
    }

    table = derive_sample_table(cohort, benefit_months, min_exposure_weeks)
    chosen = select_lof_samples(table)
    availability = _availability(chosen)
    missing = _missing_data(cohort, chosen)
    if missing is not None:
        return AcquiredLofResult(
            samples=chosen,
            lof=pd.DataFrame(index=pd.Index([], name="sample_id")),
            events=lof_event_kinds(None, None),
            results=_empty_results(),
            paired=_empty_paired(),
            availability=availability,
            skipped=pd.DataFrame(columns=list(_SKIPPED_COLUMNS)),
            planted=None if truth is None else pd.DataFrame(columns=list(PLANTED_COLUMNS)),
            missing=missing,
            **settings,
        )

    samples = cohort.samples.set_index("sample_id").loc[chosen["sample_id"]].reset_index()
    mutations = cohort.mutations if cohort.mutations is not None else _no_rows("mutations")
    cna = cohort.cna if cohort.cna is not None else _no_rows("cna")
    mutations = mutations[mutations["sample_id"].isin(chosen["sample_id"])]
    cna = cna[cna["sample_id"].isin(chosen["sample_id"])]
    panels = cohort.panels if cohort.panels is not None else _no_rows("panels")
    lof = lof_matrix(mutations, cna, samples, panels)
    events = lof_event_kinds(mutations, cna, lof.columns)

    covariates = lof_covariates(samples, _computed_tmb(cohort, samples, mutations, panels))

    results, paired, skipped = [], [], []
    groups = chosen.set_index("sample_id")
    for cancer_type in sorted(groups["cancer_type"].unique()):
        in_type = groups[groups["cancer_type"] == cancer_type]
        for comparison in comparisons:
            if comparison in GROUP_COMPARISONS:
                labels = _comparison_labels(in_type, comparison)
                counts = labels.value_counts()
                absent = [g for g in ("case", "reference") if counts.get(g, 0) == 0]
                if absent:
                    skipped.append(
                        {
                            "cancer_type": cancer_type,
                            "comparison": comparison,
                            "reason": _skip_reason(comparison, absent),
                        }
                    )
                    continue
                out = compare_groups(
                    lof.loc[labels.index],
                    labels,
                    covariates.loc[labels.index],
                    min_carriers=min_carriers,
                    case_group="case",
                    profile_ci=profile_ci,
                )
                out = out[(out["carriers_case"] + out["carriers_ref"]) > 0]
                results.append(out.assign(cancer_type=cancer_type, comparison=comparison))
            else:
                wanted = "post_acquired" if comparison == PAIRED_ACQUIRED else "post_primary"
                post = in_type[in_type["group"] == wanted]
                pre = in_type[(in_type["group"] == "pre") & in_type["patient_id"].isin(post["patient_id"])]
                if pre.empty:
                    skipped.append(
                        {
                            "cancer_type": cancer_type,
                            "comparison": comparison,
                            "reason": "no patient with both a pre-treatment and a "
                            "post-progression DNA sample",
                        }
                    )
                    continue
                pre_lof = lof.loc[pre.index].set_axis(pre["patient_id"].to_numpy())
                post_lof = lof.loc[post.index].set_axis(post["patient_id"].to_numpy())
                out = paired_gain_test(pre_lof, post_lof, min_carriers=min_carriers)
                out = out[(out["gained"] + out["lost"] + out["both"]) > 0]
                paired.append(out.assign(cancer_type=cancer_type, comparison=comparison))

    front = ["cancer_type", "comparison", "gene"]
    result_table = _empty_results()
    if results:
        result_table = pd.concat(results, ignore_index=True)
        result_table["status"] = call_status(result_table, criterion, fdr)
        primary = result_table["comparison"] == PRIMARY_COMPARISON
        result_table["found"] = primary & (result_table["status"] == ENRICHED)
        result_table["depleted"] = primary & (result_table["status"] == DEPLETED)
        result_table = result_table[front + [c for c in result_table.columns if c not in front]]
        result_table = result_table.sort_values(
            ["cancer_type", "comparison", "max_p", "firth_p", "gene"], na_position="last", kind="mergesort"
        ).reset_index(drop=True)
    paired_table = _empty_paired()
    if paired:
        paired_table = pd.concat(paired, ignore_index=True)
        paired_table = paired_table[front + [c for c in paired_table.columns if c not in front]]
        paired_table = paired_table.sort_values(
            ["cancer_type", "comparison", "p_value", "gene"], na_position="last", kind="mergesort"
        ).reset_index(drop=True)
    tested = result_table[result_table["tested"]].groupby(["cancer_type", "comparison"]).size()
    for comparison, name in (
        (PRIMARY_COMPARISON, "primary"),
        (ALL_PRE_COMPARISON, "vs all pre-treatment"),
        (SECONDARY_COMPARISON, "acquired vs primary post"),
    ):
        if comparison in comparisons:
            availability[f"genes tested ({name})"] = [
                int(tested.get((t, comparison), 0)) for t in availability.index
            ]
    return AcquiredLofResult(
        samples=chosen,
        lof=lof,
        events=events,
        results=result_table,
        paired=paired_table,
        availability=availability,
        skipped=pd.DataFrame(skipped, columns=list(_SKIPPED_COLUMNS)),
        planted=None if truth is None else planted_effects(result_table, truth, criterion, fdr),
        missing=None,
        **settings,
    )


def _computed_tmb(
    cohort: Cohort, samples: pd.DataFrame, mutations: pd.DataFrame, panels: pd.DataFrame
) -> pd.Series | None:
    """TMB per Mb from the mutations, where samples lack a recorded TMB and sizes are known."""
    sizes = cohort.meta.get("panel_sizes_mb") or {}
    recorded = samples["tmb"] if "tmb" in samples.columns else pd.Series(np.nan, index=samples.index)
    if not sizes or recorded.notna().all():
        return None
    panel = samples["panel_id"] if "panel_id" in samples.columns else pd.Series(None, index=samples.index)
    keys = panel.where(panel.notna(), WHOLE_EXOME_KEY).astype(str)
    if not set(keys) <= set(sizes) or any(sizes[k] is None for k in set(keys)):
        return None  # a panel of unknown size: no TMB rather than a wrong one
    return tmb_per_mb(mutations, samples, sizes, panels)


def discovery_report(
    result: AcquiredLofResult,
    truth: Mapping,
    criterion: str | None = None,
    comparison: str = PRIMARY_COMPARISON,
) -> dict[str, object]:
    """Genes found by a group comparison, scored against the planted truth.

    Parameters
    ----------
    result
        From :func:`acquired_lof_analysis` on a simulated cohort.
    truth
        Its ``truth.json`` (:func:`helpers.simulate.load_truth`).
    criterion
        One of :data:`~helpers.analysis.lof.names.FOUND_CRITERIA`; default the one ``result``
        used.
    comparison
        The group comparison whose enriched genes count as found: the primary one (the book's
        call), or a secondary one to show what it would have found.

    Returns
    -------
    dict
        ``found`` (sorted (cancer_type, gene) pairs whose q-value passes and whose LoF is enriched
        by every deciding test), ``true`` and ``false`` discoveries (a planted gene found in
        another cancer type is false; so is a baseline-selection gene of the ``selection``
        scenario), ``fdp`` (false / found, 0 when nothing is found), ``planted_found``
        ({(cancer_type, gene): bool}), ``selection_found`` (the selection genes among the found)
        and ``depleted`` (pairs that pass with odds ratios below 1).
    """
    criterion = criterion or result.criterion
    if criterion not in FOUND_CRITERIA:
        raise InputError(f"discovery_report: criterion must be one of {FOUND_CRITERIA}, got {criterion!r}")
    if comparison not in GROUP_COMPARISONS:
        raise InputError(
            f"discovery_report: comparison must be one of {list(GROUP_COMPARISONS)}, got {comparison!r}"
        )
    planted = set(planted_lof_pairs(truth))
    selected = set(selection_pairs(truth))
    results = result.results
    part = results[results["comparison"] == comparison] if len(results) else results
    status = call_status(part, criterion, result.fdr)

    def pairs(rows: pd.DataFrame) -> list[tuple[str, str]]:
        return sorted(zip(rows["cancer_type"].astype(str), rows["gene"].astype(str), strict=True))

    found = pairs(part[status == ENRICHED])
    false = [pair for pair in found if pair not in planted]
    return {
        "found": found,
        "true": [pair for pair in found if pair in planted],
        "false": false,
        "fdp": len(false) / len(found) if found else 0.0,
        "planted_found": {pair: pair in set(found) for pair in sorted(planted)},
        "selection_found": [pair for pair in found if pair in selected],
        "depleted": pairs(part[status == DEPLETED]),
    }


def _no_rows(table: str) -> pd.DataFrame:
    columns = {
        "mutations": ["sample_id", "gene", "variant_classification"],
        "cna": ["sample_id", "gene", "copy_state"],
        "panels": ["panel_id", "gene"],
    }[table]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _comparison_labels(in_type: pd.DataFrame, comparison: str) -> pd.Series:
    """'case' / 'reference' per sample of one cancer type for a group comparison."""
    case = in_type["group"] == "post_acquired"
    if comparison == PRIMARY_COMPARISON:
        reference = in_type["primary_reference"].astype(bool)
    elif comparison == ALL_PRE_COMPARISON:
        reference = in_type["all_pre_reference"].astype(bool)
    else:
        reference = in_type["group"] == "post_primary"
    labels = pd.Series(np.where(case, "case", np.where(reference, "reference", None)), index=in_type.index)
    return labels.dropna()


def _skip_reason(comparison: str, absent: list[str]) -> str:
    names = {
        PRIMARY_COMPARISON: {
            "case": "post-progression DNA sample of acquired resistance",
            "reference": "pre-treatment DNA sample of a patient with acquired resistance "
            "(and no post-progression sample)",
        },
        ALL_PRE_COMPARISON: {
            "case": "post-progression DNA sample of acquired resistance",
            "reference": "pre-treatment DNA sample",
        },
        SECONDARY_COMPARISON: {
            "case": "post-progression DNA sample of acquired resistance",
            "reference": "post-progression DNA sample of primary resistance",
        },
    }[comparison]
    return "no " + " and no ".join(names[a] for a in absent)


def _availability(chosen: pd.DataFrame) -> pd.DataFrame:
    """Patients per cancer type in each group of :func:`select_lof_samples`, and pairs."""
    counts = chosen.groupby(["cancer_type", "group"], observed=False).size().unstack("group", fill_value=0)
    counts = counts.reindex(columns=list(LOF_GROUPS), fill_value=0)
    table = pd.DataFrame(index=counts.index)
    table["pre-treatment"] = counts["pre"]
    for column, label in (
        ("primary_reference", "pre-treatment, primary comparison"),
        ("all_pre_reference", "pre-treatment, all patients (secondary)"),
    ):
        reference = chosen[chosen[column]].groupby("cancer_type").size()
        table[label] = reference.reindex(counts.index, fill_value=0)
    table["post-progression, acquired"] = counts["post_acquired"]
    table["post-progression, primary"] = counts["post_primary"]
    has_pre = set(chosen.loc[chosen["group"] == "pre", "patient_id"])
    for group, label in (("post_acquired", "pairs, acquired"), ("post_primary", "pairs, primary")):
        paired = chosen[(chosen["group"] == group) & chosen["patient_id"].isin(has_pre)]
        table[label] = paired.groupby("cancer_type").size().reindex(counts.index, fill_value=0)
    table.index.name = "cancer_type"
    return table.astype(int)


def _missing_data(cohort: Cohort, chosen: pd.DataFrame) -> str | None:
    """One sentence on what the cohort lacks for the acquired-LoF analysis, or None."""
    has_calls = any(t is not None and len(t) for t in (cohort.mutations, cohort.cna))
    if not has_calls:
        return (
            "This cohort has no DNA alteration calls (no mutations or copy-number table), so "
            "loss-of-function alterations cannot be called and this chapter has nothing to show."
        )
    names_panels = "panel_id" in cohort.samples.columns and cohort.samples["panel_id"].notna().any()
    if cohort.panels is None and names_panels:
        return (
            "Samples of this cohort name gene panels but the cohort has no panels table, so a "
            "gene that was not assayed cannot be told from a wild-type gene; add the panels "
            "table to run this chapter."
        )
    groups = chosen["group"].astype(str)
    if not (groups == "post_acquired").any():
        if (groups == "post_primary").any():
            return (
                "This cohort has post-progression DNA samples only after primary resistance, "
                "none after acquired resistance, so LoF alterations acquired after ICB cannot "
                "be compared with pre-treatment tumours."
            )
        return (
            "This cohort has no DNA samples taken after progression on ICB (only "
            "pre-treatment or on-treatment tumours), so LoF alterations acquired after ICB "
            "cannot be looked for: the comparisons of this chapter need post-progression DNA."
        )
    if not chosen["all_pre_reference"].any() and not (groups == "post_primary").any():
        return (
            "This cohort has post-progression DNA samples of acquired resistance but no "
            "pre-treatment DNA samples and no post-progression samples of primary resistance "
            "to compare them with."
        )
    return None
