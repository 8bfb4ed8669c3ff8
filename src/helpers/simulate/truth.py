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
from helpers.data.genesets import SIGNATURE_DIR, read_gmt
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
    PPS_RMST_MONTHS,
    PS_DECLINE_PROBS,
    RT_DECLINE_LOG_ODDS,
    RT_HR,
    SELECTION_LOF,
    SITE_PROBS_POST,
    SITE_PROBS_PRE,
    SUBTYPE_AXES,
    SUBTYPE_PRE_PROBS,
    TME_SITE_OFFSETS,
    TME_TYPE_OFFSETS,
)
from helpers.simulate.scenarios import SCENARIOS
from helpers.units import DAYS_PER_MONTH, SUBTYPE_NAMES, SUBTYPES


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
    scenario = clinical.scenario
    per_type = {t: float(scenario.pps_hr_by_type.get(t, PPS_HR_ACQUIRED)) for t in CANCER_TYPES}
    constant = scenario.pps_fade is None and not scenario.pps_hr_by_type
    pps: dict[str, Any] = {
        # one pooled hazard ratio exists only where it is the same in every type and time
        "pooled": PPS_HR_ACQUIRED if constant else None,
        "per_cancer_type": per_type if scenario.pps_fade is None else None,
        "model": (
            "Weibull proportional hazards (shape 1.1) of survival after progression, "
            "stratified by cancer type (own baseline per type), conditional on age, "
            "sex, line, log2 TMB and ECOG, with RT after progression as a time-varying "
            "term. Classes by the simulator's SITC rule (benefit_months=6, min_exposure_weeks=6, "
            "6 months' exposure for acquired resistance, 12 weeks after the last dose, ICB+chemo "
            "by progression timing)."
        ),
        "interaction": (
            "none: the same acquired-vs-primary hazard ratio in every cancer type"
            if constant
            else "the acquired-vs-primary hazard ratio differs by cancer type or over time"
        ),
        "covariate_hr": {k: float(np.exp(v)) for k, v in PPS_LOG_HR.items()},
        "rt_hr": RT_HR if scenario.rt_hr is None else scenario.rt_hr,
    }
    if scenario.pps_fade is not None:
        pps["fade"] = {"hr_early": scenario.pps_fade[0], "months": scenario.pps_fade[1], "hr_after": 1.0}
    in_groups = progressed & np.isin(cls, ["acquired", "primary"])
    deaths = died & in_groups
    log_hr = np.log(PPS_HR_ACQUIRED)
    pps["power"] = {"method": "Schoenfeld formula, two-sided alpha 0.05, observed deaths"}
    pps["power"]["pooled"] = schoenfeld_power(log_hr, deaths.sum(), acquired[in_groups].mean())
    pps["power"]["per_cancer_type"] = {
        t: schoenfeld_power(
            np.log(per_type[t]) if scenario.pps_fade is None else log_hr,
            (deaths & (ct == t)).sum(),
            acquired[in_groups & (ct == t)].mean() if (in_groups & (ct == t)).any() else 0.0,
        )
        for t in CANCER_TYPES
    }
    return pps


def _rmst_truth(clinical: Clinical, ct: np.ndarray) -> dict[str, Any]:
    """The planted RMST difference (acquired − primary) of survival after progression.

    Per cancer type: the mean over the type's acquired patients of the RMST of their planted
    survival curve (RT as planned included) minus the same mean over its primary patients, the
    within-type marginal contrast that Kaplan–Meier curves estimate; pooled: the per-type
    differences weighted by the number of acquired + primary patients of each type.
    """
    cls, rmst = clinical.resistance_class, clinical.rmst_planted / DAYS_PER_MONTH
    groups = clinical.progressed & np.isin(cls, ["acquired", "primary"])
    per_type: dict[str, float] = {}
    weights: dict[str, int] = {}
    for t in CANCER_TYPES:
        acq, pri = groups & (ct == t) & (cls == "acquired"), groups & (ct == t) & (cls == "primary")
        if acq.any() and pri.any():
            per_type[t] = float(rmst[acq].mean() - rmst[pri].mean())
            weights[t] = int(acq.sum() + pri.sum())
    total = sum(weights.values())
    pooled = sum(per_type[t] * weights[t] for t in per_type) / total if total else None
    return {
        "rmst_months": PPS_RMST_MONTHS,
        "difference_months": {"pooled": pooled, **per_type},
        "weights": weights,
        "definition": (
            "per cancer type, the mean planted RMST (months, to rmst_months after progression) of "
            "the acquired patients minus that of the primary patients; pooled: weighted by the "
            "acquired + primary patients of each type"
        ),
    }


def _lof_truth(genomics: Genomics, ct: np.ndarray, power_rng: np.random.Generator) -> list[dict[str, Any]]:
    """Per planted gene: planted and realised prevalences, group sizes and power.

    The group sizes are those of the book's primary comparison: one post-progression DNA sample
    per acquired-resistance patient vs the pre-treatment DNA samples of acquired-resistance
    patients without one (same class, so baseline selection cannot read as acquisition).
    """
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
        pre_acq = (
            dna & in_t & (kinds == "pre") & (kind_cls == "acquired") & ~np.isin(pidx, list(post_patients))
        )
        n1, n0 = len(post_patients), len(set(pidx[pre_acq]))
        carrier = genomics.lof_carrier[g]
        obs = {
            "pre": _share(carrier, dna & in_t & (kinds == "pre")),
            "post_acquired": _share(carrier, post_acq),
            "post_primary": _share(carrier, dna & in_t & (kinds == "post") & (kind_cls == "primary")),
        }
        background = obs["pre"] - p_pre if obs["pre"] is not None and obs["pre"] > p_pre else 0.0
        power = fisher_power(
            power_rng, n1, min(p_acq + background, 1), n0, p_pre + background, alpha=0.1 / m_genes
        )
        lof_truth.append(
            {
                "gene": g,
                "cancer_type": t,
                "planted_prevalence_pre": p_pre,
                "planted_prevalence_post_acquired": p_acq,
                "planted_prevalence_post_primary": p_prim,
                "planted_odds_ratio": float(p_acq / (1 - p_acq) / (p_pre / (1 - p_pre))),
                "observed_prevalence": obs,
                "n_post_acquired_patients": n1,
                "n_pre_patients": n0,
                "power": power,
                "power_comparison": "acquired post-progression vs acquired pre-treatment (unpaired)",
            }
        )
    return lof_truth


def _share(carrier: np.ndarray, rows: np.ndarray) -> float | None:
    """Share of carriers among ``rows`` (None where there is no such sample: JSON has no NaN)."""
    return float(carrier[rows].mean()) if rows.any() else None


def _selection_truth(clinical: Clinical, genomics: Genomics) -> list[dict[str, Any]]:
    """The baseline-selection genes of scenario ``selection`` with their realised prevalences."""
    samples = genomics.samples
    dna = samples["panel_id"].notna().to_numpy()
    kinds, cls_s, pidx = samples["_kind"].to_numpy(), samples["_cls"].to_numpy(), samples["_pidx"].to_numpy()
    rows = []
    for (g, t), sel in SELECTION_LOF.items():
        in_t = clinical.cancer_type[pidx] == t
        carrier = genomics.lof_carrier[g]
        pre = dna & in_t & (kinds == "pre")
        rows.append(
            {
                "gene": g,
                "cancer_type": t,
                "role": sel.role,
                "planted_prevalence_pre": sel.prevalence,
                "response_log_odds": sel.response_log_odds,
                "gained_after_icb": False,
                "prevalence_pre_by_class": {
                    c: float(carrier[pre & (cls_s == c)].mean()) if (pre & (cls_s == c)).any() else None
                    for c in ("primary", "acquired", "ongoing_benefit", "not_evaluable")
                },
            }
        )
    return rows


def _tme_truth(samples: pd.DataFrame, subtypes: pd.DataFrame, clinical: Clinical) -> dict[str, Any]:
    """The planted subtype of every RNA sample, the planted shifts and the power of the IFN shift."""
    sub_tab = subtypes.copy()
    sam_idx = samples.set_index("sample_id")
    sub_tab["timepoint"] = sam_idx.loc[sub_tab["sample_id"], "_kind"].to_numpy()
    sub_tab["resistance_class"] = sam_idx.loc[sub_tab["sample_id"], "_cls"].to_numpy()
    post = sub_tab[sub_tab["timepoint"] == "post"]
    n_acq = int((post["resistance_class"] == "acquired").sum())
    n_pri = int((post["resistance_class"] == "primary").sum())
    by_type_and_site = clinical.scenario.tme_by_type_and_site
    d = 0.0 if by_type_and_site else POST_SHIFTS["acquired"]["ifn"] - POST_SHIFTS["primary"]["ifn"]
    tme: dict[str, Any] = {
        "subtypes_file": "truth_tme_subtypes.parquet",
        "subtypes": sub_tab,
        "subtype_names": SUBTYPE_NAMES,
        "subtype_axes": {k: list(v) for k, v in SUBTYPE_AXES.items()},
        "pre_treatment_subtype_probabilities": dict(zip(SUBTYPES, SUBTYPE_PRE_PROBS, strict=True)),
        "post_progression_shifts_sd": {} if by_type_and_site else POST_SHIFTS,
        "post_progression_subtype_moves": (
            {"every class": "30% move to a non-immune subtype (F or D)"}
            if by_type_and_site
            else {
                "acquired": "half of the tumours move to an immune-enriched subtype (IE or IE/F)",
                "primary": "30% move to a non-immune subtype (F or D)",
            }
        ),
        "lof_carrier_shifts_sd": {} if by_type_and_site else LOF_SHIFTS,
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
    if by_type_and_site:
        # every programme's acquired-vs-primary shift within type and site is exactly 0, and a
        # zero shift is 0 on every scale: so is that of every signature score
        tme["class_shift_scaled"] = {name: 0.0 for name in _icb_signature_names()}
        tme["baseline_offsets_latent"] = {
            "cancer_type": {k: list(v) for k, v in TME_TYPE_OFFSETS.items()},
            "site": {k: list(v) for k, v in TME_SITE_OFFSETS.items()},
            "axes": ["immune", "fibrotic"],
        }
        tme["site_probabilities"] = {"pre": SITE_PROBS_PRE, "post": SITE_PROBS_POST}
        tme["response_depends_on_subtype"] = False
    return tme


def _icb_signature_names() -> list[str]:
    """Names of the ICB signatures shipped in ``data/signatures/icb_signatures.gmt``."""
    return list(read_gmt(SIGNATURE_DIR / "icb_signatures.gmt"))


def _rt_truth(clinical: Clinical) -> dict[str, Any]:
    """The planted effect of RT after progression, its confounder and its power."""
    progressed, gets_rt, died = clinical.progressed, clinical.gets_rt, clinical.died
    scenario = clinical.scenario
    ecog_prog = clinical.ecog[progressed]
    hr = RT_HR if scenario.rt_hr is None else scenario.rt_hr
    rt: dict[str, Any] = {
        "hr": hr,
        "model": (
            "RT after progression multiplies the hazard of death by hr from its first "
            "fraction on (time-varying exposure), in the same stratified Weibull model "
            "as pps_hr."
        ),
        "confounder": "ecog",
        "confounder_recorded": "patients.ecog",
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
    if scenario.progression_decline:
        decline = clinical.ps_decline[progressed]
        rt["confounder"] = "decline of ECOG performance status at progression"
        rt["confounder_recorded"] = "performance_status" if scenario.record_performance_status else None
        rt["confounding"] = (
            "At progression ECOG worsens by 0, 1 or 2 points (probabilities "
            f"{', '.join(f'{p:g}' for p in PS_DECLINE_PROBS)}); each point lowers the log-odds of "
            f"RT after progression by {-RT_DECLINE_LOG_ODDS:g} and raises the hazard of death as a "
            "baseline ECOG point does (HR 1.55); baseline ECOG and cancer type act as in default. "
            "RT itself has no effect."
        )
        rt["decline_share"] = float((decline > 0).mean()) if decline.size else 0.0
        rt["rt_share_by_decline"] = {
            str(k): float(gets_rt[progressed][decline == k].mean())
            for k in range(len(PS_DECLINE_PROBS))
            if (decline == k).any()
        }
    rt["power"] = {
        "method": "Schoenfeld formula with the share of progressors given RT",
        "value": schoenfeld_power(np.log(hr), (died & progressed).sum(), gets_rt[progressed].mean()),
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
    scenario = clinical.scenario
    if scenario.selection:
        planted |= {g for g, _ in SELECTION_LOF}
    truth: dict[str, Any] = {
        "scenario": scenario.name,
        "scenario_description": SCENARIOS[scenario.name],
        "seed": int(seed),
        "n_patients": len(clinical.patient_ids),
        "generator_version": GENERATOR_VERSION,
        "simulated": True,
        "pps_hr": _pps_truth(clinical, ct),
        "pps_rmst": _rmst_truth(clinical, ct),
        "acquired_lof": _lof_truth(genomics, ct, power_rng),
        "null_genes": [g for g in panel_genes if g not in planted],
        "tme": _tme_truth(genomics.samples, subtypes, clinical),
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
    if scenario.selection:
        truth["selection"] = _selection_truth(clinical, genomics)
    return truth
