"""Sentences of chapter 4 (acquired LoF); the numbers come from :mod:`helpers.analysis.lof`.

The one sentence that says what a cohort lacks is the result's own ``missing``; the sentences
here describe a result that ran. None of them prints a count of patients, so none needs small
counts suppressed.
"""

from __future__ import annotations

import pandas as pd

from helpers.analysis.lof import (
    ALL_PRE_COMPARISON,
    COMPARISON_LABELS,
    DETECTABLE_POWER,
    ENRICHED,
    NOT_SIGNIFICANT,
    NOT_TESTED,
    PAIRED_COMPARISONS,
    SECONDARY_COMPARISON,
    AcquiredLofResult,
    found_table,
    paired_table,
)
from helpers.errors import InputError

__all__ = [
    "parameters_sentence",
    "skipped_sentences",
    "found_sentence",
    "depleted_sentence",
    "all_pre_caveat",
    "power_sentence",
    "selection_sentence",
    "secondary_caption",
    "paired_caption",
]


def _pairs(rows: pd.DataFrame) -> str:
    """'B2M (NSCLC), CYLD (HNSCC) and JAK1 (melanoma)' from rows with gene and cancer_type."""
    items = [f"{g} ({t})" for t, g in zip(rows["cancer_type"], rows["gene"], strict=True)]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _percent(power: float) -> str:
    return f"{100 * power:.0f}%"


def parameters_sentence(result: AcquiredLofResult) -> str:
    """The settings the chapter ran with."""
    return (
        f"benefit window {result.benefit_months:g} months, minimum exposure "
        f"{result.min_exposure_weeks:g} weeks, at least {result.min_carriers} carriers per tested "
        f"gene, FDR {result.fdr:g}"
    )


def skipped_sentences(result: AcquiredLofResult) -> list[str]:
    """One sentence per cancer type and comparison that could not be run (none when all ran)."""
    return [
        f"{row.cancer_type}: {COMPARISON_LABELS[row.comparison]} not run ({row.reason})."
        for row in result.skipped.itertuples(index=False)
    ]


def found_sentence(result: AcquiredLofResult, simulated: bool) -> str:
    """How many gene-by-cancer-type pairs are found, or that none is (the best follow).

    Parameters
    ----------
    result
        An analysis that ran.
    simulated
        Whether the cohort is simulated (the sentence says which kind of data it counts).
    """
    n_found = len(result.found())
    if n_found:
        kind = "simulated" if simulated else "real"
        pairs = "gene-by-cancer-type pair passes" if n_found == 1 else "gene-by-cancer-type pairs pass"
        return (
            f"{n_found} {pairs} the FDR of {result.fdr:g} with LoF more "
            f"common after acquired resistance than before treatment in patients of the same "
            f"class ({kind} data)."
        )
    return (
        f"No gene passes the FDR of {result.fdr:g} with LoF more common after acquired resistance "
        "than before treatment; the genes with the smallest p-values follow."
    )


def depleted_sentence(result: AcquiredLofResult) -> str:
    """The genes whose LoF is *less* common after acquired resistance, or '' when there is none."""
    depleted = result.depleted()
    if depleted.empty:
        return ""
    verb = "is" if len(depleted) == 1 else "are"
    return (
        f"LoF of {_pairs(depleted)} {verb} less common after acquired resistance than before "
        f"treatment in patients of the same class (q at most {result.fdr:g}, odds ratios below 1): "
        "reported as depleted, never as acquired. A depleted LoF may mark a subclone that "
        "treatment removed, or a sample of a different metastasis; it is not a resistance mechanism."
    )


def all_pre_caveat(result: AcquiredLofResult) -> str:
    """The caveat of the comparison with the pre-treatment samples of all patients, with its genes."""
    caveat = (
        "Against the pre-treatment tumours of all patients, a LoF that merely selects patients "
        "before treatment looks acquired: if it predicts benefit, it is more common before "
        "treatment among patients who later have acquired resistance than among all patients, "
        "although no tumour gained it (and a LoF that predicts primary resistance looks depleted). "
        "This comparison has more reference tumours, but it cannot tell selection from "
        "acquisition, so it never decides."
    )
    candidates = result.selection_candidates()
    if candidates.empty:
        return caveat + " No gene is enriched here without also being found in the primary comparison."
    verb = "is" if len(candidates) == 1 else "are"
    return (
        f"{caveat} {_pairs(candidates)} {verb} enriched here but not found in the primary "
        "comparison: either baseline selection, or an acquired LoF that the smaller primary "
        "comparison lacks the power to confirm. The paired gains below tell the two apart: a "
        "selected LoF is carried from the pre-treatment tumour, not gained."
    )


def power_sentence(result: AcquiredLofResult) -> str:
    """Which planted acquired-LoF effects this simulated cohort is too small to detect.

    From ``result.planted`` (the truth's recorded power of the primary comparison); '' for a
    real cohort (no planted truth).
    """
    planted = result.planted
    if planted is None:
        return ""
    acquired = planted[planted["role"] == "acquired"]
    if acquired.empty:
        return "This simulated cohort plants no acquired LoF effect."
    found = acquired["status"] == ENRICHED
    power = acquired["power"].astype(float)
    weak = acquired[power < DETECTABLE_POWER]
    unknown = acquired[power.isna()]
    strong = acquired[power >= DETECTABLE_POWER]
    threshold = _percent(DETECTABLE_POWER)
    parts = []
    if len(weak):
        listed = [
            f"{g} in {t} (power {_percent(p)}, {'found' if s == ENRICHED else 'not found'})"
            for t, g, p, s in zip(
                weak["cancer_type"], weak["gene"], weak["power"], weak["status"], strict=True
            )
        ]
        parts.append(
            f"This simulated cohort is too small to detect {len(weak)} of its {len(acquired)} planted "
            f"acquired LoF effects with the primary comparison (recorded power below {threshold}): "
            + "; ".join(listed)
            + ". A miss there is what that power predicts, not a failure of the method."
        )
    else:
        each = (
            "its planted acquired LoF effect"
            if len(acquired) == 1
            else f"each of its {len(acquired)} planted acquired LoF effects"
        )
        parts.append(f"The cohort has at least {threshold} recorded power for {each}.")
    if len(unknown):
        parts.append(f"No power is recorded for {_pairs(unknown)}.")
    if len(strong):
        missed = strong[~found.loc[strong.index]]
        n_hit = int(found.loc[strong.index].sum())
        verb = "is" if n_hit == 1 else "are"
        sentence = f"Of the {len(strong)} it has the power to detect, {n_hit} {verb} found"
        parts.append(sentence + (f"; missed: {_pairs(missed)}." if len(missed) else "."))
    return " ".join(parts)


def selection_sentence(result: AcquiredLofResult) -> str:
    """What the analysis says of the planted baseline-selection genes (scenario ``selection``); ''
    when the cohort plants none."""
    planted = result.planted
    if planted is None:
        return ""
    selected = planted[planted["role"] != "acquired"]
    if selected.empty:
        return ""
    roles = {
        "predicts_benefit": "whose baseline LoF predicts benefit",
        "predicts_primary_resistance": "whose baseline LoF predicts primary resistance",
    }
    verdicts = {
        ENRICHED: "found (wrongly)",
        NOT_SIGNIFICANT: "not found",
        NOT_TESTED: "not tested (too few carriers)",
    }
    items = []
    for row in selected.itertuples(index=False):
        verdict = verdicts.get(row.status, f"not found ({row.status})")
        against_all = (
            ""
            if row.status_all_pre == NOT_TESTED
            else f"; against all pre-treatment tumours: {row.status_all_pre}"
        )
        items.append(
            f"{row.gene} in {row.cancer_type}, {roles.get(row.role, row.role)}, is {verdict}{against_all}"
        )
    return (
        "The simulated cohort plants baseline LoF that selects patients and is never gained: "
        + "; ".join(items)
        + ". The primary comparison must find neither."
    )


def secondary_caption(result: AcquiredLofResult, comparison: str = SECONDARY_COMPARISON) -> str:
    """Caption of a secondary comparison's table: empty, or why the table has no rows."""
    if comparison not in (SECONDARY_COMPARISON, ALL_PRE_COMPARISON):
        raise InputError(
            f"secondary_caption: comparison must be a secondary group comparison, got {comparison!r}"
        )
    if len(found_table(result, comparison, rows="top", n=1)):
        return ""
    if comparison == ALL_PRE_COMPARISON:
        return (
            "No gene had enough LoF carriers to be compared with the pre-treatment tumours of all patients."
        )
    return "No gene had enough LoF carriers to be compared between acquired and primary resistance after progression."


def paired_caption(result: AcquiredLofResult, comparison: str) -> str:
    """Caption of a paired comparison's table: its name, and why it has no rows when it has none."""
    if comparison not in PAIRED_COMPARISONS:
        raise InputError(
            f"paired_caption: comparison must be one of {list(PAIRED_COMPARISONS)}, got {comparison!r}"
        )
    label = COMPARISON_LABELS[comparison]
    if len(paired_table(result, comparison, rows="top", n=1)):
        return label
    return f"{label}: no gene had {result.min_carriers} or more pairs carrying a LoF."
