"""Sentences and the banner of chapter 7 (validation on real patients).

The numbers come from :mod:`helpers.analysis.validation`. Counts of the public cohorts are
published already, so they are never suppressed; the run's own cohort is described without
counts.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.analysis.validation import HEADLINE_SIGNATURES, BiomarkerMeta, FactsCheck
from helpers.data.cohort import Cohort

__all__ = [
    "banner_html",
    "biomarker_cohorts_sentence",
    "biomarker_sentence",
    "facts_sentence",
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
