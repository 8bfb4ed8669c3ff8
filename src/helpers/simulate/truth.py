"""The planted truths of a simulated cohort (``truth.json``) and the power of each planted effect.

DESIGN §5: the default cohort is sized so that each planted effect has at least 80 % power with
the intended method, and the power is recorded beside the effect. The powers here are computed
from the realised group sizes and event counts of the cohort:

* survival after progression and RT: Schoenfeld's formula for a two-sided Wald/log-rank test,
  ``Φ(|log HR| · √(D · p · (1 − p)) − z₁₋α/₂)`` with ``D`` the deaths and ``p`` the share in the
  exposed group;
* acquired LoF: a Monte Carlo estimate (400 draws from the binomial of each group) of how often
  Fisher's exact test reaches ``0.1 / number of panel genes`` (a Bonferroni stand-in for the FDR);
* TME: the normal approximation of the two-sample t-test of the planted IFN shift.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from helpers.data.cohort import Cohort
from helpers.simulate.clinical import Clinical
from helpers.simulate.genomics import Genomics
from helpers.simulate.params import (
    AXIS_LOADINGS,
    CANCER_TYPES,
    GENERATOR_VERSION,
    LOF_SHIFTS,
    PLANTED_LOF,
    POST_SHIFTS,
    PPS_HR_ACQUIRED,
    PPS_LOG_HR,
    RT_HR,
    SUBTYPE_AXES,
    SUBTYPE_PRE_PROBS,
)
from helpers.units import SUBTYPE_NAMES, SUBTYPES


def schoenfeld_power(log_hr: float, deaths: float, share: float, alpha: float = 0.05) -> float:
    """Power of a two-sided test of a hazard ratio with ``deaths`` events (Schoenfeld 1983).

    Parameters
    ----------
    log_hr
        The log hazard ratio to detect.
    deaths
        Number of events in the two groups together.
    share
        Share of the subjects in one of the two groups.
    alpha
        Two-sided significance level.

    Returns
    -------
    float
        The power; 0 where there is no event or only one group.
    """
    if deaths <= 0 or share <= 0 or share >= 1:
        return 0.0
    z = abs(log_hr) * np.sqrt(deaths * share * (1 - share)) - stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.cdf(z))


def fisher_power(
    rng: np.random.Generator, n1: int, p1: float, n0: int, p0: float, alpha: float, draws: int = 400
) -> float:
    """Monte Carlo power of Fisher's exact test of two proportions (``draws`` binomial draws)."""
    if n1 == 0 or n0 == 0:
        return 0.0
    x1 = rng.binomial(n1, p1, draws)
    x0 = rng.binomial(n0, p0, draws)
    hits = 0
    cache: dict[tuple[int, int], float] = {}
    for a, b in zip(x1, x0, strict=True):
        key = (int(a), int(b))
        if key not in cache:
            cache[key] = stats.fisher_exact([[a, n1 - a], [b, n0 - b]])[1]
        hits += cache[key] <= alpha
    return hits / draws


def t_power(d: float, n1: int, n2: int, alpha: float = 0.05) -> float:
    """Power of a two-sided two-sample t-test of a standardised shift ``d`` (normal approximation).

    The noncentral t is numerically fragile for large shifts, hence the normal approximation.
    """
    if n1 < 2 or n2 < 2:
        return 0.0
    z = abs(d) * np.sqrt(n1 * n2 / (n1 + n2)) - stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.cdf(z))


def _pps_truth(clinical: Clinical, ct: np.ndarray) -> dict[str, Any]:
    """The planted hazard ratio of survival after progression and its power."""
    progressed, cls, died, acquired = (
        clinical.progressed,
        clinical.resistance_class,
        clinical.died,
        clinical.acquired,
    )
    pps: dict[str, Any] = {
        "pooled": PPS_HR_ACQUIRED,
        "per_cancer_type": {t: PPS_HR_ACQUIRED for t in CANCER_TYPES},
        "model": (
            "Weibull proportional hazards (shape 1.1) of survival after progression, "
            "stratified by cancer type (own baseline per type), conditional on age, "
            "sex, line, log2 TMB and ECOG, with RT after progression as a time-varying "
            "term; the acquired-vs-primary hazard ratio is the same in every cancer "
            "type (no interaction planted). Classes by the default rule "
            "(benefit_months=6, min_exposure_weeks=6)."
        ),
        "covariate_hr": {k: float(np.exp(v)) for k, v in PPS_LOG_HR.items()},
        "rt_hr": RT_HR,
    }
    in_groups = progressed & np.isin(cls, ["acquired", "primary"])
    deaths = died & in_groups
    pps["power"] = {"method": "Schoenfeld formula, two-sided alpha 0.05, observed deaths"}
    pps["power"]["pooled"] = schoenfeld_power(
        np.log(PPS_HR_ACQUIRED), deaths.sum(), acquired[in_groups].mean()
    )
    pps["power"]["per_cancer_type"] = {
        t: schoenfeld_power(
            np.log(PPS_HR_ACQUIRED),
            (deaths & (ct == t)).sum(),
            acquired[in_groups & (ct == t)].mean() if (in_groups & (ct == t)).any() else 0.0,
        )
        for t in CANCER_TYPES
    }
    return pps


def _lof_truth(genomics: Genomics, ct: np.ndarray, power_rng: np.random.Generator) -> list[dict[str, Any]]:
    """Per planted gene: planted and realised prevalences, group sizes and power."""
    samples = genomics.samples
    kind_cls = samples["_cls"].to_numpy()
    dna = samples["panel_id"].notna().to_numpy()
    pidx = samples["_pidx"].to_numpy()
    kinds = samples["_kind"].to_numpy()
    m_genes = len(genomics.genes)
    lof_truth = []
    for (g, t), (p_pre, p_acq, p_prim) in PLANTED_LOF.items():
        in_t = ct[pidx] == t
        post_acq = dna & in_t & (kinds == "post") & (kind_cls == "acquired")
        post_patients = set(pidx[post_acq])
        pre = dna & in_t & (kinds == "pre") & ~np.isin(pidx, list(post_patients))
        n1, n0 = len(post_patients), len(set(pidx[pre]))
        carrier = genomics.lof_carrier[g]
        obs = {
            "pre": float(carrier[dna & in_t & (kinds == "pre")].mean()),
            "post_acquired": float(carrier[post_acq].mean()) if post_acq.any() else None,
            "post_primary": float(carrier[dna & in_t & (kinds == "post") & (kind_cls == "primary")].mean()),
        }
        background = obs["pre"] - p_pre if obs["pre"] > p_pre else 0.0
        power = fisher_power(power_rng, n1, min(p_acq + background, 1), n0, obs["pre"], alpha=0.1 / m_genes)
        lof_truth.append(
            {
                "gene": g,
                "cancer_type": t,
                "planted_prevalence_pre": p_pre,
                "planted_prevalence_post_acquired": p_acq,
                "planted_prevalence_post_primary": p_prim,
                "observed_prevalence": obs,
                "n_post_acquired_patients": n1,
                "n_pre_patients": n0,
                "power": power,
            }
        )
    return lof_truth


def _tme_truth(samples: pd.DataFrame, subtypes: pd.DataFrame) -> dict[str, Any]:
    """The planted subtype of every RNA sample, the planted shifts and the power of the IFN shift."""
    sub_tab = subtypes.copy()
    sam_idx = samples.set_index("sample_id")
    sub_tab["timepoint"] = sam_idx.loc[sub_tab["sample_id"], "_kind"].to_numpy()
    sub_tab["resistance_class"] = sam_idx.loc[sub_tab["sample_id"], "_cls"].to_numpy()
    post = sub_tab[sub_tab["timepoint"] == "post"]
    n_acq = int((post["resistance_class"] == "acquired").sum())
    n_pri = int((post["resistance_class"] == "primary").sum())
    d = POST_SHIFTS["acquired"]["ifn"] - POST_SHIFTS["primary"]["ifn"]
    return {
        "subtypes_file": "truth_tme_subtypes.parquet",
        "subtypes": sub_tab,
        "subtype_names": SUBTYPE_NAMES,
        "subtype_axes": {k: list(v) for k, v in SUBTYPE_AXES.items()},
        "pre_treatment_subtype_probabilities": dict(zip(SUBTYPES, SUBTYPE_PRE_PROBS, strict=True)),
        "post_progression_shifts_sd": POST_SHIFTS,
        "post_progression_subtype_moves": {
            "acquired": "half of the tumours move to an immune-enriched subtype (IE or IE/F)",
            "primary": "30% move to a non-immune subtype (F or D)",
        },
        "lof_carrier_shifts_sd": LOF_SHIFTS,
        "programme_axis_loadings": {k: list(v) for k, v in AXIS_LOADINGS.items()},
        "note": (
            "Shifts are in standard deviations of a programme score that drives every gene "
            "of the signatures mapped to it; signature scores move in the same direction."
        ),
        "power": {
            "ifn_acquired_vs_primary_post": t_power(d / 1.2, n_acq, n_pri),
            "method": "two-sample t-test, alpha 0.05, standardised shift / 1.2",
        },
    }


def _rt_truth(clinical: Clinical) -> dict[str, Any]:
    """The planted effect of RT after progression, its confounder and its power."""
    progressed, gets_rt, died = clinical.progressed, clinical.gets_rt, clinical.died
    ecog_prog = clinical.ecog[progressed]
    rt: dict[str, Any] = {
        "hr": RT_HR,
        "model": (
            "RT after progression multiplies the hazard of death by hr from its first "
            "fraction on (time-varying exposure), in the same stratified Weibull model "
            "as pps_hr."
        ),
        "confounder": "ecog",
        "confounding": (
            "ECOG performance status lowers the chance of RT after progression "
            "(log-odds -0.9 per point) and raises the hazard of death (HR 1.55 per "
            "point); cancer type sets the baseline RT propensity."
        ),
        "n_progressors_with_rt": int(gets_rt.sum()),
        "rt_share_by_ecog": {
            str(int(e)): float(gets_rt[progressed][ecog_prog == e].mean()) for e in (0, 1, 2)
        },
        "in_field_response": "P(CR or PR) = expit(-1.6 + 0.035 EQD2) with alpha/beta 10",
        "out_of_field_response": "P(PR) = 0.09 after SBRT, 0.04 otherwise (abscopal)",
    }
    rt["power"] = {
        "method": "Schoenfeld formula with the share of progressors given RT",
        "value": schoenfeld_power(np.log(RT_HR), (died & progressed).sum(), gets_rt[progressed].mean()),
    }
    return rt


def planted_truth(
    cohort: Cohort,
    seed: int,
    clinical: Clinical,
    genomics: Genomics,
    subtypes: pd.DataFrame,
    panel_genes: list[str],
) -> dict[str, Any]:
    """The ``truth.json`` content of a simulated cohort (DESIGN §5).

    Parameters
    ----------
    cohort
        The simulated cohort.
    seed
        Its seed (the power of the LoF effects is estimated with its own generator seeded by
        ``[seed, 7]``, so the cohort's random stream is untouched).
    clinical, genomics, subtypes
        The parts of the simulation the truths are read from.
    panel_genes
        The large panel (every gene without a planted effect is a null gene).

    Returns
    -------
    dict
        ``pps_hr``, ``acquired_lof``, ``null_genes``, ``tme`` (with the subtype table under
        ``"subtypes"``), ``rt``, the cancer-type parameters and the provenance of the cohort.
    """
    ct = cohort.patients["cancer_type"].to_numpy()
    power_rng = np.random.default_rng([seed, 7])
    planted = {g for g, _ in PLANTED_LOF}
    return {
        "seed": int(seed),
        "n_patients": len(clinical.patient_ids),
        "generator_version": GENERATOR_VERSION,
        "simulated": True,
        "pps_hr": _pps_truth(clinical, ct),
        "acquired_lof": _lof_truth(genomics, ct, power_rng),
        "null_genes": [g for g in panel_genes if g not in planted],
        "tme": _tme_truth(genomics.samples, subtypes),
        "rt": _rt_truth(clinical),
        "cancer_types": {
            t: {
                "share": s.share,
                "p_cr": s.p_cr,
                "p_pr": s.p_pr,
                "p_sd": s.p_sd,
                "pps_median_months_primary_reference": s.pps_median_months,
            }
            for t, s in CANCER_TYPES.items()
        },
    }
