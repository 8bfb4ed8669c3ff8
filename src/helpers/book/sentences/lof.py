"""Sentences of chapter 4 (acquired LoF); the numbers come from :mod:`helpers.analysis.lof`.

:func:`glue_results` glues every number, gene list and sentence that the chapter's prose quotes.
The one sentence that says what a cohort lacks is the result's own ``missing``; where the
analysis did not run, :data:`NOT_RUN` stands in the place of the sentences that describe its
results. Gene lists are words (``B2M (NSCLC)``). The only counts of patients the prose states
are glued with :func:`helpers.book.glue.count`, so small counts of restricted cohorts are
suppressed; the other sentences print no count of patients.
"""

from __future__ import annotations

import pandas as pd

from helpers.analysis.lof import (
    ALL_PRE_COMPARISON,
    COMPARISON_LABELS,
    DETECTABLE_POWER,
    ENRICHED,
    FOUND_GENES_TABLE,
    NOT_SIGNIFICANT,
    NOT_TESTED,
    PAIRED_ACQUIRED,
    PAIRED_COMPARISONS,
    PAIRED_PRIMARY,
    PRIMARY_COMPARISON,
    SECONDARY_COMPARISON,
    TOP_GENES_TABLE,
    AcquiredLofResult,
    found_table,
    leading_genes,
    paired_table,
)
from helpers.book import glue, privacy
from helpers.errors import InputError

__all__ = [
    "NOT_RUN",
    "all_pre_caveat",
    "depleted_sentence",
    "found_sentence",
    "glue_results",
    "paired_caption",
    "parameters_sentence",
    "power_sentence",
    "secondary_caption",
    "selection_sentence",
    "skipped_sentence",
    "truth_summary",
]

#: What the prose says where a result would be, when the cohort cannot support the analysis.
NOT_RUN = "The comparisons of this chapter could not be run on this cohort (see Samples)."

#: The comparisons as the prose names them.
_COMPARISON_NAMES = {
    PRIMARY_COMPARISON: "the primary comparison",
    ALL_PRE_COMPARISON: "the comparison with the pre-treatment tumours of all patients",
    SECONDARY_COMPARISON: "the comparison of acquired with primary resistance after progression",
    PAIRED_ACQUIRED: "the paired test in acquired resistance",
    PAIRED_PRIMARY: "the paired test in primary resistance",
}
_ORDER = list(_COMPARISON_NAMES)

#: The columns of :attr:`AcquiredLofResult.availability` whose totals the prose states.
_TOTALS = {
    "ch4_post_acquired": (
        "post-progression, acquired",
        "patients with acquired resistance and a post-progression DNA sample",
    ),
    "ch4_pre_acquired": (
        "pre-treatment, primary comparison",
        "patients with acquired resistance and a pre-treatment DNA sample only (primary reference)",
    ),
    "ch4_pairs_acquired": (
        "pairs, acquired",
        "patients with acquired resistance and both a pre-treatment and a post-progression DNA sample",
    ),
}


def _and(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _pairs(rows: pd.DataFrame) -> str:
    """'B2M (NSCLC), CYLD (HNSCC) and JAK1 (melanoma)' from rows with gene and cancer_type."""
    return _and([f"{g} ({t})" for t, g in zip(rows["cancer_type"], rows["gene"], strict=True)])


def _percent(power: float) -> str:
    return f"{100 * power:.0f}%"


def _tested(result: AcquiredLofResult, comparison: str) -> bool:
    """Whether any gene was tested in ``comparison`` (in any cancer type)."""
    results = result.results
    if results.empty:
        return False
    return bool((results["tested"].astype(bool) & (results["comparison"] == comparison)).any())


def _enriched(result: AcquiredLofResult, comparison: str) -> pd.DataFrame:
    """Genes enriched (q within the FDR, odds ratios above 1) in a group comparison."""
    results = result.results
    if results.empty:
        return results
    rows = results[(results["comparison"] == comparison) & (results["status"] == ENRICHED)]
    return rows.sort_values(["cancer_type", result.q_column, "gene"])


def _paired_gains(result: AcquiredLofResult, comparison: str) -> tuple[pd.DataFrame, bool]:
    """Genes gained significantly more often than lost within pairs, and whether any was tested."""
    paired = result.paired
    tested = bool(
        len(paired) and (paired["tested"].astype(bool) & (paired["comparison"] == comparison)).any()
    )
    found = paired_table(result, comparison, rows="found")
    return found[found["gained"].astype(int) > found["lost"].astype(int)], tested


def _gene_list(result: AcquiredLofResult, rows: pd.DataFrame, tested: bool) -> str:
    """A list of genes in words: the genes, ``none``, or why none could be tested."""
    if not result.available:
        return "not tested"
    if len(rows):
        return _pairs(rows)
    return "none" if tested else "none, as no gene had enough LoF carriers to be tested"


def parameters_sentence(result: AcquiredLofResult) -> str:
    """The settings the chapter ran with."""
    return (
        f"benefit window {result.benefit_months:g} months, minimum exposure "
        f"{result.min_exposure_weeks:g} weeks, at least {result.min_carriers} carriers per tested "
        f"gene, FDR {result.fdr:g}"
    )


def _comparisons_phrase(comparisons: tuple[str, ...]) -> str:
    """The comparisons as the prose names them, with 'every comparison' and the like for sets."""
    if set(comparisons) == set(_ORDER):
        return "every comparison"
    groups, paired = _ORDER[:3], _ORDER[3:]
    names = []
    if set(groups) <= set(comparisons):
        names.append("the three comparisons of groups")
    else:
        names += [_COMPARISON_NAMES[c] for c in comparisons if c in groups]
    if set(paired) <= set(comparisons):
        names.append("both paired tests")
    else:
        names += [_COMPARISON_NAMES[c] for c in comparisons if c in paired]
    return _and(names)


def skipped_sentence(result: AcquiredLofResult) -> str:
    """Which comparisons could not be run in which cancer types ('' when the analysis did not
    run at all: ``missing`` says why).

    Cancer types whose skipped comparisons are the same share one clause; the table of samples
    shows the empty groups that stopped them (``result.skipped`` has the reasons).
    """
    if not result.available:
        return ""
    skipped = result.skipped
    if skipped.empty:
        return "Every comparison could be run in every cancer type."
    by_type = skipped.groupby("cancer_type", sort=True)["comparison"].agg(
        lambda c: tuple(sorted(set(c), key=_ORDER.index))
    )
    groups: dict[tuple[str, ...], list[str]] = {}
    for cancer_type, comparisons in by_type.items():
        groups.setdefault(comparisons, []).append(str(cancer_type))
    clauses = [
        f"in {_and(types)}, {_comparisons_phrase(comparisons)}"
        for comparisons, types in sorted(groups.items(), key=lambda g: (-len(g[0]), g[1]))
    ]
    return (
        "Some comparisons lack the samples they need (the empty groups of the table) and were not run: "
        + "; ".join(clauses)
        + "."
    )


def found_sentence(result: AcquiredLofResult) -> str:
    """How many gene-by-cancer-type pairs are found, and which; or that none is, and why."""
    if not result.available:
        return NOT_RUN
    found = result.found()
    if len(found):
        pairs = "gene-by-cancer-type pair passes" if len(found) == 1 else "gene-by-cancer-type pairs pass"
        return (
            f"{len(found)} {pairs} the FDR of {result.fdr:g} with LoF more common after acquired "
            f"resistance than before treatment in patients of the same class: {_pairs(found)}."
        )
    if not _tested(result, PRIMARY_COMPARISON):
        return (
            "No gene had enough LoF carriers to be tested in the primary comparison, in any cancer "
            "type, so no gene can be found and the table below is empty."
        )
    return (
        f"No gene passes the FDR of {result.fdr:g} with LoF more common after acquired resistance "
        "than before treatment; the table lists the genes with the smallest p-values instead."
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
        if len(acquired) == 1:
            effects = "its planted acquired LoF effect"
        elif len(weak) == len(acquired):
            effects = f"any of its {len(acquired)} planted acquired LoF effects"
        else:
            effects = f"{len(weak)} of its {len(acquired)} planted acquired LoF effects"
        parts.append(
            f"This simulated cohort is too small to detect {effects} with the primary comparison "
            f"(recorded power below {threshold}): "
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
        if len(strong) == 1:
            sentence = "The one it has the power to detect is " + ("found." if n_hit else "missed.")
        else:
            verb = "is" if n_hit == 1 else "are"
            sentence = f"Of the {len(strong)} it has the power to detect, {n_hit} {verb} found"
            sentence += f"; missed: {_pairs(missed)}." if len(missed) else "."
        parts.append(sentence)
    return " ".join(parts)


def truth_summary(result: AcquiredLofResult) -> str:
    """One sentence on how the calls of a simulated cohort compare with its planted effects.

    '' for a real cohort or an analysis that did not run.
    """
    planted = result.planted
    if planted is None or not result.available:
        return ""
    acquired = planted[planted["role"] == "acquired"]
    n = len(acquired)
    if n == 0:
        return "This simulated cohort plants no acquired LoF effect."
    strong = acquired[acquired["power"].astype(float) >= DETECTABLE_POWER]
    s, hits = len(strong), int((strong["status"] == ENRICHED).sum())
    threshold = _percent(DETECTABLE_POWER)
    if s == 0:
        effects = (
            "its planted acquired LoF effect" if n == 1 else f"any of its {n} planted acquired LoF effects"
        )
        return (
            f"This simulated cohort has less than {threshold} power for {effects}, so a miss is "
            "what that power predicts."
        )
    if n == 1:
        effects = "its planted acquired LoF effect"
    elif s == n:
        effects = f"all {n} of its planted acquired LoF effects"
    else:
        effects = f"{s} of its {n} planted acquired LoF effects"
    if s == 1:
        outcome = "and finds it" if hits else "but misses it"
    else:
        outcome = f"and finds {hits} of them"
    return f"This simulated cohort has at least {threshold} power for {effects}, {outcome}."


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


def _glue_totals(result: AcquiredLofResult) -> None:
    """Glue the patients of each sample group over all cancer types.

    A total is stated only where every cell it adds up is shown in the published table of
    samples: with one cell hidden, the total minus the shown cells would give it back.
    """
    availability = result.availability
    shown = privacy.protect(availability)
    for key, (column, what) in _TOTALS.items():
        if column in shown.columns and shown[column].map(lambda v: isinstance(v, str)).any():
            glue.phrase(key, glue.SUPPRESSED)
        else:
            total = int(availability[column].sum()) if column in availability.columns else 0
            glue.count(key, total, what=what)


def _glue_leading_gene(result: AcquiredLofResult) -> None:
    """Glue the leading gene of the primary comparison, its Firth odds ratio and its q-value.

    The leading gene is the first found gene, or the gene with the smallest p-value when none is
    found: the first row of :func:`helpers.analysis.lof.leading_genes`, which is a row of the
    published table of found genes (or of the best genes).
    """
    what = "Firth odds ratio of the leading gene, primary comparison"
    q_what = "q-value of the leading gene, primary comparison"
    leading = leading_genes(result, n=1)
    if leading.empty:
        glue.phrase("ch4_top_gene", "none (no gene was tested)")
        glue.interval("ch4_top_or", None, None, None, what=what)
        glue.value("ch4_top_q", None, "p", what=q_what)
        return
    top = leading.iloc[0]
    results = result.results
    row = results[
        (results["comparison"] == PRIMARY_COMPARISON)
        & (results["cancer_type"] == top["cancer_type"])
        & (results["gene"] == top["gene"])
    ].iloc[0]
    glue.phrase("ch4_top_gene", f"{top['gene']} ({top['cancer_type']})")
    glue.interval("ch4_top_or", row["firth_or"], row["firth_ci_lower"], row["firth_ci_upper"], what=what)
    table = FOUND_GENES_TABLE if len(result.found()) else TOP_GENES_TABLE
    where = {"cancer type": top["cancer_type"], "gene": top["gene"]}
    glue.cell("ch4_top_q", table, where, f"q ({result.criterion})", "p")


def glue_results(result: AcquiredLofResult) -> None:
    """Glue the numbers, gene lists and sentences that chapter 4's prose quotes.

    Call it once, after the chapter's tables are published (the leading gene's q-value is read
    from the published table of found genes). Where the analysis did not run, the sentences
    give way to ``missing`` (key ``ch4_missing``) and :data:`NOT_RUN`, and the gene lists say
    that nothing was tested.
    """
    available = result.available
    glue.phrase("ch4_parameters", parameters_sentence(result))
    glue.value("ch4_fdr", result.fdr, "g", what="false discovery rate (Benjamini-Hochberg, per cancer type)")
    glue.phrase("ch4_missing", result.missing or "")
    glue.phrase("ch4_skipped", skipped_sentence(result))
    _glue_totals(result)

    tested = _tested(result, PRIMARY_COMPARISON)
    glue.phrase("ch4_found", found_sentence(result))
    glue.phrase("ch4_found_genes", _gene_list(result, result.found(), tested))
    glue.phrase("ch4_depleted_genes", _gene_list(result, result.depleted(), tested))
    if not available:
        depleted = NOT_RUN
    elif not tested:
        depleted = "No gene could be tested, so none is depleted."
    else:
        depleted = depleted_sentence(result) or (
            "No gene passes the FDR with LoF less common after acquired resistance than before treatment."
        )
    glue.phrase("ch4_depleted", depleted)
    _glue_leading_gene(result)

    glue.phrase("ch4_truth_summary", truth_summary(result))
    if not available:
        power = NOT_RUN
    elif result.planted is None:
        power = "This cohort holds real data, so it has no planted effects to check the calls against."
    else:
        power = " ".join(s for s in (power_sentence(result), selection_sentence(result)) if s)
    glue.phrase("ch4_power", power)

    glue.phrase("ch4_all_pre_caveat", all_pre_caveat(result) if available else NOT_RUN)
    glue.phrase(
        "ch4_secondary_genes",
        _gene_list(result, _enriched(result, SECONDARY_COMPARISON), _tested(result, SECONDARY_COMPARISON)),
    )
    for comparison, key in ((PAIRED_ACQUIRED, "ch4_gained_acquired"), (PAIRED_PRIMARY, "ch4_gained_primary")):
        gains, paired_tested = _paired_gains(result, comparison)
        glue.phrase(key, _gene_list(result, gains, paired_tested))
