"""Chapter 5, TME states: every table and figure input of the chapter in one result object.

:func:`tme_chapter` scores a canonical cohort (:func:`score_cohort`) and runs each step of the
chapter on it. Each step is a result object with a ``missing`` sentence when the cohort
cannot support it, so the notebook holds no analysis logic: it shows each step's tables and
figures, or its ``missing`` sentence.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from helpers.analysis.lof.matrix import lof_matrix
from helpers.analysis.result import AnalysisResult
from helpers.analysis.tme.compare import (
    COMPARED_CLASSES,
    ICB_SIGNATURES,
    adjusted_class_difference,
    compare_classes,
    compared_strata,
    lof_carrier_effects,
    median_matrix,
    one_sample_per_patient,
    scores_over_time,
    subtype_share_test,
    tme_sample_table,
)
from helpers.analysis.tme.reference import TMEScores, score_tme
from helpers.analysis.tme.strata import STRATA, recorded_strata
from helpers.analysis.tme.subtypes import subtype_agreement, subtype_counts, transition_counts
from helpers.analysis.tme.transitions import (
    compare_transitions,
    paired_samples,
    site_pairs,
    transition_changes,
    transition_summary,
)
from helpers.data.cohort import Cohort, sample_timepoints
from helpers.simulate import load_truth
from helpers.stats.ssgsea import EmptyGeneSetWarning

__all__ = [
    "CarrierEffects",
    "CohortTME",
    "MedianScores",
    "PlantedAgreement",
    "PostProgression",
    "PreTreatment",
    "SignificantCarrierEffects",
    "TMEChapter",
    "Transitions",
    "score_cohort",
    "tme_chapter",
]

#: Fewest patients per class for the post-progression comparison, and fewest pairs.
MIN_PER_CLASS = 3
MIN_PAIRS = 3
#: Fewest patients of a timepoint and class for its median in the heat map.
MIN_GROUP = 5
#: The strata of the class comparison of pre→post changes.
PAIR_STRATA = ("cancer_type", "site_pair")
#: Fewest pre-treatment samples for a within-cohort reference made from them alone.
MIN_CALIBRATION = 10

#: What the chapter and every step say when the cohort has no RNA expression data.
NO_RNA = "The cohort has no RNA expression data."


# ----------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class CohortTME:
    """A canonical cohort's TME scores with its sample table (:func:`score_cohort`).

    Attributes
    ----------
    tme
        The :class:`~helpers.analysis.tme.reference.TMEScores`.
    samples
        :func:`~helpers.analysis.tme.compare.tme_sample_table`.
    calibration
        Which samples a within-cohort reference was made from (a phrase, e.g. "the cohort's
        812 pre-treatment RNA samples"); empty when the scores use a fixed reference.
    """

    tme: TMEScores
    samples: pd.DataFrame
    calibration: str


def score_cohort(
    cohort: Cohort,
    benefit_months: float = 6,
    min_exposure_weeks: float = 6,
    reference: Literal["auto", "shipped", "within_cohort"] = "auto",
) -> CohortTME | None:
    """Score a canonical cohort's RNA samples (None when it has no expression data).

    A within-cohort reference (used when the shipped one does not apply) is made from the
    cohort's pre-treatment RNA samples, or from all RNA samples when fewer than 10 are
    pre-treatment.
    """
    expression = cohort.expression
    if expression is None or expression.shape[1] == 0:
        return None
    timepoint = sample_timepoints(cohort)
    pre = [s for s in expression.columns if timepoint.get(s) == "pre"]
    if len(pre) >= MIN_CALIBRATION:
        calibration = pre
        text = f"the cohort's {len(pre):,} pre-treatment RNA samples"
    else:
        calibration = list(expression.columns)
        text = f"all {len(calibration):,} RNA samples of the cohort (fewer than 10 are pre-treatment)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyGeneSetWarning)  # the coverage table shows them
        scores = score_tme(expression, reference=reference, calibration_samples=calibration)
    samples = tme_sample_table(cohort, scores, benefit_months, min_exposure_weeks)
    return CohortTME(tme=scores, samples=samples, calibration=text if scores.mode == "within-cohort" else "")


# ----------------------------------------------------------------------------- the steps


@dataclass(kw_only=True)
class PreTreatment(AnalysisResult):
    """Subtypes of pre-treatment tumours (one per patient) by cancer type.

    Attributes
    ----------
    counts
        :func:`~helpers.analysis.tme.subtypes.subtype_counts` by ``cancer_type``.
    """

    counts: pd.DataFrame | None = None


@dataclass(kw_only=True)
class PlantedAgreement(AnalysisResult):
    """Called against planted subtypes (simulated cohorts only).

    Attributes
    ----------
    confusion, summary
        As :func:`~helpers.analysis.tme.subtypes.subtype_agreement`.
    """

    confusion: pd.DataFrame | None = None
    summary: pd.Series | None = None


@dataclass(kw_only=True)
class PostProgression(AnalysisResult):
    """Post-progression tumours of acquired against primary resistance.

    Attributes
    ----------
    strata
        The stratifying columns the compared samples record (``cancer_type``, and ``site``
        where recorded).
    stratified
        :func:`~helpers.analysis.tme.compare.compare_classes` within those strata: the
        chapter's class comparison.
    pooled
        The same pooled over strata (confounded by cancer type and site).
    adjusted
        :func:`~helpers.analysis.tme.compare.adjusted_class_difference`: the regression on
        class, cancer type, site and purity (a sensitivity analysis).
    share_test
        :func:`~helpers.analysis.tme.compare.subtype_share_test` (stratified, then pooled).
    counts
        Subtype counts by class (the two compared classes).
    samples
        The post-progression samples of the two classes (one per patient), for the heat map.
    scaled
        Their scaled scores of the chapter's signatures (signatures x every scored sample).
    """

    strata: list[str] = field(default_factory=list)
    stratified: pd.DataFrame | None = None
    pooled: pd.DataFrame | None = None
    adjusted: pd.DataFrame | None = None
    share_test: pd.DataFrame | None = None
    counts: pd.DataFrame | None = None
    samples: pd.DataFrame | None = None
    scaled: pd.DataFrame | None = None


@dataclass(kw_only=True)
class MedianScores(AnalysisResult):
    """Median scaled score of each signature by timepoint and class.

    Attributes
    ----------
    matrix
        Signatures x ``"<timepoint> · <class>"`` groups of at least :data:`MIN_GROUP`
        patients (:func:`~helpers.analysis.tme.compare.median_matrix`).
    """

    matrix: pd.DataFrame | None = None


@dataclass(kw_only=True)
class Transitions(AnalysisResult):
    """Pre-treatment to post-progression moves of patients with both samples.

    Attributes
    ----------
    flows
        ``{resistance class: pre (rows) x post (columns) subtype counts}`` for the two
        compared classes.
    summary
        :func:`~helpers.analysis.tme.transitions.transition_summary`.
    strata
        The strata of the class comparison of changes (``cancer_type``, and ``site_pair``
        where sites are recorded).
    stratified
        :func:`~helpers.analysis.tme.transitions.compare_transitions` within those strata.
    pooled
        The same pooled over strata (a change of biopsy site confounds it).
    changes
        :func:`~helpers.analysis.tme.transitions.transition_changes` (same-site pairs and
        all pairs, per class).
    """

    flows: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: pd.DataFrame | None = None
    strata: list[str] = field(default_factory=list)
    stratified: pd.DataFrame | None = None
    pooled: pd.DataFrame | None = None
    changes: pd.DataFrame | None = None


@dataclass(kw_only=True)
class SignificantCarrierEffects(AnalysisResult):
    """Carrier effects whose q-value is below the FDR.

    Attributes
    ----------
    table
        Rows of :attr:`CarrierEffects.effects` with ``q < fdr``, indexed by gene, cancer
        type and signature.
    """

    table: pd.DataFrame | None = None


@dataclass(kw_only=True)
class CarrierEffects(AnalysisResult):
    """TME scores of LoF carriers against non-carriers after progression.

    Attributes
    ----------
    genes
        The genes asked for that are on a panel of the cohort.
    effects
        :func:`~helpers.analysis.tme.compare.lof_carrier_effects`.
    fdr
        The false discovery rate that marks an effect.
    significant
        The effects with ``q < fdr``.
    """

    genes: list[str] = field(default_factory=list)
    effects: pd.DataFrame | None = None
    fdr: float = 0.1
    significant: SignificantCarrierEffects = field(default_factory=SignificantCarrierEffects)


@dataclass(kw_only=True)
class TMEChapter(AnalysisResult):
    """Everything chapter 5 shows (:func:`tme_chapter`).

    Attributes
    ----------
    scores
        The cohort's scores and sample table (None without RNA).
    signatures
        The chapter's ICB signatures that have scaled scores, in display order.
    pre, agreement, post, medians, transitions, carriers
        The steps of the chapter, each with its own ``missing`` sentence.
    over_time
        :func:`~helpers.analysis.tme.compare.scores_over_time` of the followed signatures.
    """

    scores: CohortTME | None = None
    signatures: list[str] = field(default_factory=list)
    pre: PreTreatment
    agreement: PlantedAgreement
    post: PostProgression
    medians: MedianScores
    transitions: Transitions
    over_time: pd.DataFrame | None = None
    carriers: CarrierEffects

    @property
    def coverage(self) -> pd.DataFrame | None:
        """Genes present per signature (:func:`~helpers.analysis.tme.reference.signature_coverage`)."""
        return None if self.scores is None else self.scores.tme.coverage

    @property
    def samples(self) -> pd.DataFrame | None:
        """Every scored RNA sample with its axes and subtype."""
        return None if self.scores is None else self.scores.samples


def tme_chapter(
    cohort: Cohort,
    cohort_dir: str | Path | None = None,
    *,
    benefit_months: float = 6,
    min_exposure_weeks: float = 6,
    reference: Literal["auto", "shipped", "within_cohort"] = "auto",
    lof_genes: Iterable[str] = ("B2M", "TGFBR2", "CYLD", "RUNX1", "JAK1", "JAK2"),
    min_carriers: int = 3,
    fdr: float = 0.1,
) -> TMEChapter:
    """Run chapter 5 on a canonical cohort.

    Parameters
    ----------
    cohort
        The canonical cohort.
    cohort_dir
        Its folder: a simulated cohort keeps its planted subtypes there (``truth.json``).
    benefit_months, min_exposure_weeks
        The resistance-class parameters.
    reference
        How scores are scaled (:func:`~helpers.analysis.tme.reference.score_tme`).
    lof_genes
        Genes whose LoF carriers are compared with non-carriers.
    min_carriers
        Fewest carriers (and non-carriers) per gene and cancer type for a test.
    fdr
        False discovery rate for the carrier effects.

    Returns
    -------
    TMEChapter
        ``missing`` is set (and every step's too) when the cohort has no RNA expression data.
    """
    scored = score_cohort(cohort, benefit_months, min_exposure_weeks, reference=reference)
    if scored is None:
        return TMEChapter(
            missing=NO_RNA,
            pre=PreTreatment(missing=NO_RNA),
            agreement=PlantedAgreement(missing=NO_RNA),
            post=PostProgression(missing=NO_RNA),
            medians=MedianScores(missing=NO_RNA),
            transitions=Transitions(missing=NO_RNA),
            carriers=CarrierEffects(
                missing=NO_RNA, fdr=fdr, significant=SignificantCarrierEffects(missing=NO_RNA)
            ),
        )
    samples, scaled = scored.samples, scored.tme.scaled
    signatures = scored.tme.available(ICB_SIGNATURES)
    return TMEChapter(
        scores=scored,
        signatures=signatures,
        pre=_pre_treatment(samples),
        agreement=_planted_agreement(cohort, cohort_dir, samples),
        post=_post_progression(samples, scaled, signatures),
        medians=_medians(samples, scaled, signatures),
        transitions=_transitions(samples, scaled),
        over_time=scores_over_time(samples, scaled),
        carriers=_carrier_effects(cohort, samples, scaled, signatures, lof_genes, min_carriers, fdr),
    )


def _pre_treatment(samples: pd.DataFrame) -> PreTreatment:
    pre = one_sample_per_patient(samples, "pre")
    if pre.empty:
        return PreTreatment(missing="No pre-treatment RNA sample.")
    return PreTreatment(counts=subtype_counts(pre, "cancer_type"))


def _planted_agreement(
    cohort: Cohort, cohort_dir: str | Path | None, samples: pd.DataFrame
) -> PlantedAgreement:
    if not cohort.simulated:
        return PlantedAgreement(missing="A real cohort has no planted subtypes to compare with.")
    if cohort_dir is None or not (Path(cohort_dir) / "truth.json").is_file():
        return PlantedAgreement(
            missing="The planted truths of this simulated cohort (truth.json) are not beside it, "
            "so called subtypes cannot be compared with planted ones."
        )
    planted = load_truth(cohort_dir)["tme"]["subtypes"].set_index("sample_id")["planted_subtype"]
    confusion, summary = subtype_agreement(samples.set_index("sample_id")["subtype"], planted)
    return PlantedAgreement(confusion=confusion, summary=summary)


def _post_progression(samples: pd.DataFrame, scaled: pd.DataFrame, signatures: list[str]) -> PostProgression:
    post = one_sample_per_patient(samples, "post")
    per_class = post["resistance_class"].value_counts()
    if min(per_class.get(klass, 0) for klass in COMPARED_CLASSES) < MIN_PER_CLASS:
        return PostProgression(
            missing=f"Fewer than {MIN_PER_CLASS} post-progression samples in acquired or primary "
            "resistance: no comparison."
        )
    compared = post[post["resistance_class"].isin(COMPARED_CLASSES)]
    return PostProgression(
        strata=compared_strata(samples, strata=STRATA),
        stratified=compare_classes(samples, scaled, signatures, strata=STRATA),
        pooled=compare_classes(samples, scaled, signatures, strata=()),
        adjusted=adjusted_class_difference(samples, scaled, signatures, strata=STRATA),
        share_test=subtype_share_test(samples, strata=STRATA),
        counts=subtype_counts(compared, "resistance_class"),
        samples=compared,
        scaled=scaled.loc[signatures],
    )


def _medians(samples: pd.DataFrame, scaled: pd.DataFrame, signatures: list[str]) -> MedianScores:
    matrix = median_matrix(samples, scaled, signatures, min_n=MIN_GROUP)
    if matrix.shape[1] == 0:
        return MedianScores(missing=f"No timepoint and class has {MIN_GROUP} or more patients with RNA.")
    return MedianScores(matrix=matrix)


def _transitions(samples: pd.DataFrame, scaled: pd.DataFrame) -> Transitions:
    pairs = paired_samples(samples)
    pairs = pairs[pairs["resistance_class"].isin(COMPARED_CLASSES)]
    if len(pairs) < MIN_PAIRS:
        return Transitions(
            missing=f"Fewer than {MIN_PAIRS} patients have both a pre-treatment and a "
            "post-progression RNA sample: no transition analysis."
        )
    flows = {
        klass: transition_counts(pairs[pairs["resistance_class"] == klass]) for klass in COMPARED_CLASSES
    }
    strata = recorded_strata(pairs.assign(site_pair=site_pairs(pairs)), PAIR_STRATA)
    return Transitions(
        flows=flows,
        summary=transition_summary(pairs, scaled),
        strata=strata,
        stratified=compare_transitions(pairs, scaled, strata=PAIR_STRATA),
        pooled=compare_transitions(pairs, scaled, strata=()),
        changes=transition_changes(pairs, scaled),
    )


def _carrier_effects(
    cohort: Cohort,
    samples: pd.DataFrame,
    scaled: pd.DataFrame,
    signatures: list[str],
    lof_genes: Iterable[str],
    min_carriers: int,
    fdr: float,
) -> CarrierEffects:
    lof_genes = list(lof_genes)
    if cohort.mutations is None or cohort.panels is None:
        missing = (
            "The cohort has no panel-aware DNA calls (mutations and panels), so LoF carriers "
            "cannot be compared."
        )
        none = f"No carrier effect was estimated, so none has a q-value below {fdr:g}."
        return CarrierEffects(missing=missing, fdr=fdr, significant=SignificantCarrierEffects(missing=none))
    on_panels = set(cohort.panels["gene"])
    genes = [g for g in lof_genes if g in on_panels]
    effects = None
    if genes:
        # A cohort without copy-number calls has no deep deletions: LoF from mutations alone.
        cna = (
            cohort.cna
            if cohort.cna is not None
            else pd.DataFrame(columns=["sample_id", "gene", "copy_state"])
        )
        calls = lof_matrix(cohort.mutations, cna, cohort.samples, cohort.panels, genes=genes)
        effects = lof_carrier_effects(samples, scaled, calls, genes, signatures, min_carriers=min_carriers)
    if effects is None or effects.empty:
        missing = (
            f"No gene of {', '.join(lof_genes)} has {min_carriers} or more LoF carriers and "
            "non-carriers among post-progression samples with RNA in any cancer type."
        )
        return CarrierEffects(
            missing=missing,
            genes=genes,
            fdr=fdr,
            significant=SignificantCarrierEffects(
                missing=f"No carrier effect was estimated, so none has a q-value below {fdr:g}."
            ),
        )
    found = effects[effects["q"] < fdr].set_index(["gene", "cancer_type", "signature"])
    significant = (
        SignificantCarrierEffects(missing=f"No carrier effect has a q-value below {fdr:g}.")
        if found.empty
        else SignificantCarrierEffects(table=found)
    )
    return CarrierEffects(genes=genes, effects=effects, fdr=fdr, significant=significant)
