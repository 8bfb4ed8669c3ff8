"""Sentences and the banner of chapter 7 (validation on real patients).

The numbers come from :mod:`helpers.analysis.validation`; :func:`glue_results` glues those the
chapter's prose quotes. Counts of the public cohorts are published already, so they are never
suppressed; the run's own cohort is described without counts.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.analysis.validation import (
    HEADLINE_SIGNATURES,
    POOLED_COHORTS,
    PUBLIC_COHORTS,
    BaselineLof,
    BiomarkerMeta,
    ChapterChecks,
    FactsCheck,
    PublicClasses,
    PublicCohorts,
    PublicPPS,
    PublicTME,
    RunCohortReport,
)
from helpers.book import glue
from helpers.data.cohort import Cohort

__all__ = [
    "BIOMARKER_KEYS",
    "banner_html",
    "biomarker_cohorts_sentence",
    "biomarker_sentence",
    "facts_sentence",
    "glue_results",
    "run_cohort_sentence",
]


def banner_html(public_dir: Path | None, cohort: Cohort) -> str:
    """The note at the top of chapter 7: which sections show the run's cohort, which real data.

    Parameters
    ----------
    public_dir
        The folder of public cohorts, or None if it was not found (the note then says that
        those sections are empty).
    cohort
        The cohort of this run.
    """
    name = html.escape(cohort.name)
    if cohort.simulated:
        title = "Simulated data and real published cohorts"
        first = (
            f"The first section describes the cohort of this run, <b>{name}</b>, which is <b>simulated</b>."
        )
        kind = "warning"
    else:
        title = "Real cohort and real published cohorts"
        first = (
            f"The first section describes the cohort of this run, <b>{name}</b> "
            f"(access: {html.escape(cohort.access)})."
        )
        kind = "note"
    where = (
        " The folder of public cohorts was not found, so those sections are empty."
        if public_dir is None
        else ""
    )
    return (
        f"<div class='admonition {kind}'><p class='admonition-title'>{title}</p><p>{first} "
        "Every other section applies the book's methods to <b>real patients</b> of "
        "published immunotherapy cohorts: open, de-identified data whose counts are "
        f"published, so they are shown unsuppressed.{where}</p></div>"
    )


def run_cohort_sentence(cohort: Cohort) -> str:
    """One sentence on the cohort of this run (simulated, or imported with how many repairs)."""
    if cohort.simulated:
        return (
            f"This run's cohort, {cohort.name}, is simulated: it has every table the book "
            "needs and no import repairs."
        )
    n_rep = len(cohort.meta.get("repairs") or [])
    return (
        f"This run's cohort, {cohort.name}, is a real cohort (access: {cohort.access}) "
        f"imported from {cohort.meta.get('source', 'an unknown source')}; "
        f"{n_rep} repair rule{'s' if n_rep != 1 else ''} applied at import "
        f"(below), and {cohort.meta.get('pfs_death_rule', 'no PFS death rule recorded')}."
    )


def facts_sentence(facts: FactsCheck) -> str:
    """How many facts of FACTS.md agree (empty when no public cohort was loaded)."""
    if facts.n_facts == 0:
        return ""
    n_fail = facts.n_failed
    agreed = f"{facts.n_facts - n_fail} of {facts.n_facts} facts agree"
    return agreed + ("." if n_fail == 0 else f"; {n_fail} do not (see the table).")


def _effect(row: pd.Series | None, name: str) -> str:
    """``an odds ratio of 1.65 (95% CI 0.91–2.99, p = 0.08)`` from a pooled row."""
    if row is None or not np.isfinite(float(row["effect"])):
        return f"no pooled {name} (fewer than two cohorts)"
    p = float(row["p"])
    p_text = "p < 0.001" if p < 0.001 else f"p = {p:.2g}"
    return (
        f"{name} {row['effect']:.2f} (95% CI {row['effect_low']:.2f}–{row['effect_high']:.2f}, {p_text}, "
        f"I² {row['i2']:.0f}%, {int(row['k'])} cohorts)"
    )


def biomarker_sentence(meta: BiomarkerMeta, signature: str) -> str:
    """What one SD of a signature's score goes with, pooled over all cohorts and in melanoma."""
    if meta.missing:
        return meta.missing
    name = HEADLINE_SIGNATURES.get(signature, signature)
    text = (
        f"{name[0].upper()}{name[1:]}: per within-cohort SD of the pre-treatment score, "
        f"{_effect(meta.pooled_row(signature, 'response'), 'an odds ratio of response of')} and "
        f"{_effect(meta.pooled_row(signature, 'overall survival'), 'a hazard ratio of death of')} "
        "over all cohorts"
    )
    mel_r = meta.pooled_row(signature, "response", "melanoma anti-PD-1")
    mel_s = meta.pooled_row(signature, "overall survival", "melanoma anti-PD-1")
    if mel_r is not None and np.isfinite(float(mel_r["effect"])):
        text += (
            f"; in the melanoma anti-PD-1 cohorts alone, {mel_r['effect']:.2f} "
            f"({mel_r['effect_low']:.2f}–{mel_r['effect_high']:.2f})"
        )
        if mel_s is not None and np.isfinite(float(mel_s["effect"])):
            text += f" and {mel_s['effect']:.2f} ({mel_s['effect_low']:.2f}–{mel_s['effect_high']:.2f})"
    return text + "."


def biomarker_cohorts_sentence(meta: BiomarkerMeta) -> str:
    """Which cohorts entered the pooled biomarker analysis, with how many patients."""
    if meta.missing:
        return meta.missing
    c = meta.cohorts
    melanoma = c.index[c["melanoma anti-PD-1 analysis"] == "yes"]
    return (
        f"{len(c)} public cohorts that share no patients entered ({', '.join(c.index)}): "
        f"{int(c['response: evaluable'].sum())} patients with a best response "
        f"({int(c['response: responders (CR/PR)'].sum())} responders) and "
        f"{int(c['OS: patients'].sum())} with overall survival ({int(c['OS: deaths'].sum())} deaths); "
        f"the melanoma anti-PD-1 sensitivity analysis has {len(melanoma)} ({', '.join(melanoma)})."
    )


# --------------------------------------------------------------------------------------------
# the numbers chapter 7's prose quotes
# --------------------------------------------------------------------------------------------

#: Keys of the headline signatures in the glue keys (``ch7_bm_<key>_...``).
BIOMARKER_KEYS: dict[str, str] = {signature: signature.lower() for signature in HEADLINE_SIGNATURES}

#: The phenotype-trend signatures the prose quotes, with their glue keys.
_TREND_KEYS = {"IFNG_AYERS2017": "ifng", "TCELL_INFLAMED_GEP": "gep"}

#: The LoF genes the prose quotes (B2M and TGFBR2 are never reported, so never assayed).
_LOF_GENES = ("CYLD", "RUNX1", "JAK1", "JAK2")

#: The public cohort whose PFS events on the day of death the prose quotes.
_CHOWELL = PUBLIC_COHORTS["chowell2021_pancancer_msk"]


def _short(label: str) -> str:
    """``Riaz 2017`` from ``Riaz 2017 (melanoma, nivolumab)``."""
    return label.split(" (")[0]


def _names(labels: list[str]) -> str:
    if not labels:
        return "none"
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _check(checks: list[tuple[str, str, pd.DataFrame]], name: str) -> pd.DataFrame:
    """The table ``name`` of a list of ``(name, caption, table)`` checks (empty if absent)."""
    return next((table for n, _, table in checks if n == name), pd.DataFrame())


def glue_results(
    cohort: Cohort,
    public: PublicCohorts,
    *,
    run: RunCohortReport,
    facts: FactsCheck,
    classes: PublicClasses,
    pps: PublicPPS,
    baseline: BaselineLof,
    tme: PublicTME,
    biomarkers: BiomarkerMeta,
    extra: ChapterChecks,
    repairs: pd.DataFrame,
) -> None:
    """Glue the numbers and phrases that chapter 7's prose quotes.

    Call it once, after the chapter's tables are published. The numbers of the public cohorts
    are published data: they are read from the tables published inside
    :func:`helpers.book.privacy.open_published_data` (never suppressed) or glued as key numbers;
    the cohort of this run is described without counts of patients. Where the public cohorts
    (or one of them) are not found, the counts read 0 or "none", the estimates "not
    estimable", and a phrase of each section says why.

    Parameters
    ----------
    cohort, public
        The cohort of this run and the public cohorts (:func:`helpers.analysis.validation.
        open_public_cohorts`).
    run, facts, classes, pps, baseline, tme, biomarkers, extra
        The results of the chapter's sections (:mod:`helpers.analysis.validation`).
    repairs
        :func:`helpers.analysis.validation.public_repairs` of the public cohorts.
    """
    # the cohort of this run
    glue.phrase("ch7_run_cohort", run_cohort_sentence(cohort))
    supported = run.chapter_support["supported"] if len(run.chapter_support) else pd.Series(dtype=str)
    glue.value("ch7_chapters", len(supported), "d", what="chapters of the book")
    for status in ("yes", "partly", "no"):
        glue.value(
            f"ch7_run_{status}",
            int((supported == status).sum()),
            "d",
            what=f"chapters the cohort of this run supports: {status}",
        )

    # the public cohorts and the facts
    glue.value("ch7_public_cohorts", len(public.cohorts), "d", what="public cohorts loaded")
    glue.phrase("ch7_public_missing", public.missing or "")
    glue.value("ch7_facts", facts.n_facts, "d", what="facts of FACTS.md checked")
    glue.value("ch7_facts_agree", facts.n_facts - facts.n_failed, "d", what="facts of FACTS.md that agree")
    glue.value("ch7_facts_failed", facts.n_failed, "d", what="facts of FACTS.md that do not agree")

    # resistance classes: PFS events on the day of death
    table = classes.table
    day_of_death = "PFS events on the day of death"
    total = int(table[day_of_death].sum()) if len(table) else 0
    glue.value("ch7_death_day_total", total, "d", what="PFS events on the day of death, all public cohorts")
    glue.cell("ch7_death_day_chowell", "public_classes_both_rules", _CHOWELL, day_of_death, ",d")
    for rule, key in (("FACTS", "facts"), ("book", "book")):
        glue.cell(
            f"ch7_chowell_not_evaluable_{key}",
            "public_classes_both_rules",
            _CHOWELL,
            f"not_evaluable ({rule})",
            ",d",
        )

    # survival after progression
    per_cohort = pps.table[~pps.table.index.str.startswith("pooled")] if len(pps.table) else pps.table
    with_hr = per_cohort[per_cohort["hr"].notna()] if len(per_cohort) else per_cohort
    glue.value(
        "ch7_pps_with_hr", len(with_hr), "d", what="public cohorts with a PPS hazard ratio of their own"
    )
    glue.value(
        "ch7_pps_below_1",
        int((with_hr["hr"] < 1).sum()) if len(with_hr) else 0,
        "d",
        what="public cohorts whose PPS hazard ratio (acquired vs primary) is below 1",
    )
    pooled_names = [_short(pps.sets[f]["cohort"].iat[0]) for f in POOLED_COHORTS if f in pps.sets]
    glue.phrase("ch7_pps_pooled_names", _names(pooled_names))
    pooled_label = next((label for label in pps.table.index if str(label).startswith("pooled")), None)
    pooled = pps.table.loc[pooled_label] if pooled_label is not None else pd.Series(dtype=float)
    glue.interval(
        "ch7_pps_hr",
        pooled.get("hr"),
        pooled.get("ci_low"),
        pooled.get("ci_high"),
        what="pooled hazard ratio of death after progression, acquired vs primary, public cohorts",
    )
    for cls in ("acquired", "primary"):
        for what, key, fmt in (
            ("patients", "n", ",d"),
            ("deaths", "deaths", ",d"),
            ("median PPS (months)", "median", ".1f"),
        ):
            glue.cell(f"ch7_pps_{cls}_{key}", "public_pps", pooled_label or "pooled", f"{cls}: {what}", fmt)

    # loss of function before treatment (IMvigor210)
    glue.phrase("ch7_lof_missing", baseline.missing or "")
    for gene in _LOF_GENES:
        glue.cell(f"ch7_lof_{gene.lower()}", "public_imvigor210_baseline_lof", gene, "LoF carriers", ",d")
        glue.cell(
            f"ch7_lof_{gene.lower()}_assayed", "public_imvigor210_baseline_lof", gene, "samples assayed", ",d"
        )

    # tumour microenvironment
    glue.phrase("ch7_tme_missing", tme.missing or "")
    for signature, key in _TREND_KEYS.items():
        for phenotype in ("desert", "excluded", "inflamed"):
            glue.cell(
                f"ch7_trend_{key}_{phenotype}",
                "public_tme_phenotype_trend",
                signature,
                f"median_{phenotype}",
                ".2f",
            )
        glue.cell(f"ch7_trend_{key}_p", "public_tme_phenotype_trend", signature, "jt_p", "p")
    for column, fmt in (
        ("inflamed_immune_enriched", ",d"),
        ("inflamed_n", ",d"),
        ("other_immune_enriched", ",d"),
        ("other_n", ",d"),
        ("odds_ratio", ".1f"),
        ("p", "p"),
    ):
        glue.cell(f"ch7_subtype_{column}", "public_tme_subtype_fisher", "IMvigor210", column, fmt)
    response = _check(tme.checks, "public_tme_response")
    auc = response["auc"].astype(float) if len(response) else pd.Series(dtype=float)
    glue.value("ch7_auc_cohorts", len(auc), "d", what="public cohorts with an IFN-γ AUC of response")
    glue.value("ch7_auc_min", auc.min() if len(auc) else None, ".2f", what="lowest IFN-γ AUC of response")
    glue.value("ch7_auc_max", auc.max() if len(auc) else None, ".2f", what="highest IFN-γ AUC of response")

    # pooled biomarkers
    glue.phrase("ch7_bm_missing", biomarkers.missing or "")
    c = biomarkers.cohorts
    glue.value("ch7_bm_cohorts", len(c), "d", what="public cohorts in the pooled biomarker analysis")
    glue.phrase("ch7_bm_cohort_names", _names(list(c.index)))
    for column, key in (
        ("response: evaluable", "response_n"),
        ("response: responders (CR/PR)", "responders"),
        ("OS: patients", "os_n"),
        ("OS: deaths", "os_deaths"),
    ):
        glue.value(
            f"ch7_bm_{key}",
            int(c[column].sum()) if len(c) else 0,
            ",d",
            what=f"pooled biomarker analysis, {column}",
        )
    melanoma = list(c.index[c["melanoma anti-PD-1 analysis"] == "yes"]) if len(c) else []
    glue.value(
        "ch7_bm_melanoma_cohorts", len(melanoma), "d", what="cohorts of the melanoma anti-PD-1 analysis"
    )
    glue.phrase("ch7_bm_melanoma_names", _names(melanoma))
    for signature, key in BIOMARKER_KEYS.items():
        for outcome, short in (("response", "or"), ("overall survival", "hr")):
            for analysis, suffix in (("all cohorts", ""), ("melanoma anti-PD-1", "_mel")):
                row = biomarkers.pooled_row(signature, outcome, analysis) if len(biomarkers.pooled) else None
                row = row if row is not None else pd.Series(dtype=float)
                glue.interval(
                    f"ch7_bm_{key}_{short}{suffix}",
                    row.get("effect"),
                    row.get("effect_low"),
                    row.get("effect_high"),
                    what=f"pooled {outcome} effect per SD of {signature}, {analysis}",
                )
                if not suffix:
                    glue.value(
                        f"ch7_bm_{key}_{short}_p",
                        row.get("p"),
                        "p",
                        what=f"p of the pooled {outcome} effect, {signature}",
                    )
    every = (
        biomarkers.pooled[biomarkers.pooled["analysis"] == "all cohorts"] if len(biomarkers.pooled) else None
    )
    glue.value(
        "ch7_bm_signatures",
        every["signature"].nunique() if every is not None else 0,
        "d",
        what="signatures of the pooled biomarker analysis",
    )
    for outcome, key in (("response", "response"), ("overall survival", "os")):
        q = (
            every.loc[every["outcome"] == outcome, "q_bh"].astype(float)
            if every is not None
            else pd.Series(dtype=float)
        )
        glue.value(
            f"ch7_bm_q05_{key}",
            int((q < 0.05).sum()),
            "d",
            what=f"signatures with a BH q below 0.05, {outcome}",
        )

    # further checks and the repairs
    glue.phrase(
        "ch7_extra",
        extra.missing
        or f"The chapter modules define {len(extra.checks)} further check(s); their tables follow.",
    )
    glue.value("ch7_repairs", len(repairs), "d", what="repair rules applied to the public cohorts")
    glue.value(
        "ch7_repaired_rows",
        int(repairs["rows"].sum()) if len(repairs) else 0,
        ",d",
        what="rows changed by repairs at import, public cohorts",
    )
    glue.value(
        "ch7_repaired_cohorts",
        repairs["cohort"].nunique() if len(repairs) else 0,
        "d",
        what="public cohorts with a repair at import",
    )
