"""Sentences of chapter 5 (TME states); the numbers come from :mod:`helpers.analysis.tme`.

The one sentence that says what a cohort or a step lacks is the result's own ``missing``; the
sentences here describe a result that ran. The agreement sentence counts RNA samples of a
simulated cohort only (a real cohort has no planted subtypes), so no count needs suppressing.
"""

from __future__ import annotations

from helpers.analysis.tme import PlantedAgreement, TMEChapter, TMEScores

__all__ = ["agreement_sentence", "scaling_sentence", "scoring_sentences"]


def scaling_sentence(scores: TMEScores) -> str:
    """How the scores were scaled: against the shipped reference, or within the cohort."""
    if scores.mode == "within-cohort":
        n_samples = scores.reference.statistics["n_samples"].iloc[0]
        return (
            f"The shipped public reference does not apply to this cohort ({scores.check.reason}), "
            "so scores are scaled within the cohort: against the median and MAD of "
            f"{n_samples:,} of its own samples (its pre-treatment tumours where given), summarised "
            "once and then held fixed. Subtypes are therefore relative to this cohort's untreated "
            "tumours and are not comparable with other cohorts' subtypes."
        )
    return (
        f"Scores are scaled against the fixed reference {scores.reference.name!r} "
        f"({scores.reference.description}); {scores.check.reason}."
    )


def scoring_sentences(result: TMEChapter) -> list[str]:
    """What the chapter opens with: how scores were scaled, and from which samples.

    A cohort without RNA expression data has no scores: the chapter then opens by saying it
    has nothing to show (each step repeats only the short ``missing`` sentence).
    """
    if result.scores is None:
        return ["This cohort has no RNA expression data, so this chapter has nothing to show."]
    sentences = [scaling_sentence(result.scores.tme)]
    if result.scores.calibration:
        sentences.append(f"The within-cohort reference was made from {result.scores.calibration}.")
    return sentences


def agreement_sentence(agreement: PlantedAgreement) -> str:
    """Accuracy and Cohen's kappa of called against planted subtypes (a step that ran)."""
    summary = agreement.summary
    return (
        f"accuracy {summary['accuracy']:.3f}, Cohen's kappa {summary['kappa']:.3f} "
        f"over {int(summary['n']):,} samples"
    )
