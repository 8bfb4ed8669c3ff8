"""Patients and their index ICB course: covariates, best response, progression, survival.

Every patient starts the index course on day 0. The best response follows an ordinal logit
around each cancer type's targets; progression is observed at the first scheduled scan after
it happens; the resistance class then *emerges* from the response and the progression time (by
the simulator's own rule, :mod:`helpers.simulate.classes`), and survival after progression
follows a Weibull proportional-hazards model in which the class, the covariates and RT after
progression (a time-varying exposure) act (:data:`~helpers.simulate.params.PPS_HR_ACQUIRED`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.simulate.classes import sitc_class
from helpers.simulate.ids import opaque_ids
from helpers.simulate.params import (
    BENEFIT_MONTHS,
    CANCER_TYPES,
    DEATH_WITHOUT_PROGRESSION_PER_DAY,
    MIN_EXPOSURE_WEEKS,
    PPS_HR_ACQUIRED,
    PPS_LOG_HR,
    PPS_RMST_MONTHS,
    PPS_WEIBULL_SHAPE,
    PS_DECLINE_PROBS,
    REGIMEN_RESPONSE_EFFECT,
    RT_DECLINE_LOG_ODDS,
    RT_HR,
    SELECTION_LOF,
    SUBTYPE_PRE_PROBS,
)
from helpers.simulate.scenarios import Scenario, get_scenario
from helpers.units import DAYS_PER_MONTH, SUBTYPES

#: Days between scheduled scans after the first one.
SCAN_GAP_DAYS = 56.0


@dataclass(frozen=True)
class Clinical:
    """The clinical part of a simulated cohort: its two tables and the arrays behind them.

    Every array has one entry per patient, in the order of ``patients``.
    """

    patients: pd.DataFrame
    icb_courses: pd.DataFrame
    patient_ids: np.ndarray
    cancer_type: np.ndarray
    ecog: np.ndarray
    msi: np.ndarray
    tmb_true: np.ndarray  # mutations / Mb before panel sampling
    subtype_pre: np.ndarray  # planted TME subtype before ICB
    progressed: np.ndarray
    progression_day: np.ndarray
    resistance_class: np.ndarray  # the simulator's own class of the index course
    acquired: np.ndarray  # acquired resistance (the term of the planted pps_hr)
    died: np.ndarray
    last_followup: np.ndarray
    gets_rt: np.ndarray  # RT after progression, started before the end of follow-up
    rt_start: np.ndarray
    regimen: np.ndarray
    scenario: Scenario
    selection_carrier: dict[tuple[str, str], np.ndarray]  # baseline-selection LoF (scenario selection)
    ps_decline: np.ndarray  # ECOG points lost at progression (scenario rt_confounded*; else 0)
    pps_hr_acquired: np.ndarray  # planted acquired-vs-primary HR of each patient's cancer type
    rmst_planted: np.ndarray  # RMST of survival after progression to PPS_RMST_MONTHS (days; NaN)


def _weibull_h_inv(h: np.ndarray, scale: np.ndarray, shape: float) -> np.ndarray:
    """Inverse of the Weibull cumulative hazard H(t) = (t/scale)^shape."""
    return scale * np.power(h, 1.0 / shape)


def _weibull_h(t: np.ndarray, scale: np.ndarray, shape: float) -> np.ndarray:
    """The Weibull cumulative hazard H(t) = (t/scale)^shape (0 before time 0)."""
    return np.power(np.maximum(t, 0) / scale, shape)


def _segments(breaks: np.ndarray, multipliers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort each row's change points; return (breaks n×K, multipliers n×(K+1)) in time order.

    ``multipliers[:, 0]`` applies before every change point and ``multipliers[:, k + 1]`` is the
    factor *switched on* at ``breaks[:, k]`` (factors multiply, so the order of switching on does
    not matter): the hazard multiplier of segment j is the product of the factors switched on
    before it.
    """
    order = np.argsort(breaks, axis=1)
    b = np.take_along_axis(breaks, order, axis=1)
    factors = np.take_along_axis(multipliers[:, 1:], order, axis=1)
    seg = np.concatenate([multipliers[:, :1], multipliers[:, :1] * np.cumprod(factors, axis=1)], axis=1)
    return b, seg


def _piecewise_h(
    t: np.ndarray, scale: np.ndarray, shape: float, b: np.ndarray, seg: np.ndarray
) -> np.ndarray:
    """Cumulative hazard at ``t`` (one per row) of a Weibull hazard times a step multiplier."""
    edges = np.concatenate([np.zeros((len(t), 1)), b, np.full((len(t), 1), np.inf)], axis=1)
    lo = np.minimum(edges[:, :-1], t[:, None])
    hi = np.minimum(edges[:, 1:], t[:, None])
    h0 = _weibull_h(hi, scale[:, None], shape) - _weibull_h(lo, scale[:, None], shape)
    return (seg * h0).sum(axis=1)


def _piecewise_h_inv(
    e: np.ndarray, scale: np.ndarray, shape: float, b: np.ndarray, seg: np.ndarray
) -> np.ndarray:
    """Time at which the piecewise cumulative hazard of :func:`_piecewise_h` reaches ``e``.

    Written by hand: the hazard changes at per-patient times (RT start, the end of a fading
    effect), which no sampler in scipy or lifelines draws from.
    """
    n = len(e)
    edges = np.concatenate([np.zeros((n, 1)), b], axis=1)  # segment starts
    h_edges = np.stack(
        [
            np.where(
                np.isfinite(edges[:, k]),
                _piecewise_h(np.nan_to_num(edges[:, k], posinf=0.0), scale, shape, b, seg),
                np.inf,
            )
            for k in range(edges.shape[1])
        ],
        axis=1,
    )
    k = (h_edges <= e[:, None]).sum(axis=1) - 1  # the segment in which e is reached
    rows = np.arange(n)
    start, h_start, m = edges[rows, k], h_edges[rows, k], seg[rows, k]
    h0_target = _weibull_h(start, scale, shape) + (e - h_start) / m
    return _weibull_h_inv(h0_target, scale, shape)


def _planted_rmst(
    scale: np.ndarray, shape: float, b: np.ndarray, seg: np.ndarray, horizon_days: float, steps: int = 400
) -> np.ndarray:
    """Each row's RMST to ``horizon_days`` under its planted survival curve (trapezoid rule)."""
    grid = np.linspace(0.0, horizon_days, steps + 1)
    surv = np.stack(
        [np.exp(-_piecewise_h(np.full(len(scale), t), scale, shape, b, seg)) for t in grid], axis=1
    )
    return np.trapezoid(surv, grid, axis=1)


def _classes(
    best_response: np.ndarray,
    progression_day: np.ndarray,
    last_assessment_day: np.ndarray,
    stop_day: np.ndarray,
    regimen: np.ndarray,
) -> np.ndarray:
    """The simulator's class of each course (all courses start on day 0; SITC defaults)."""
    return sitc_class(
        best_response,
        progression_day,
        last_assessment_day,
        stop_day,
        start_day=0.0,
        benefit_months=BENEFIT_MONTHS,
        min_exposure_weeks=MIN_EXPOSURE_WEEKS,
        regimen=regimen,
    )


def simulate_clinical(
    rng: np.random.Generator,
    n: int,
    scenario: Scenario | None = None,
    scenario_rng: np.random.Generator | None = None,
) -> Clinical:
    """Simulate ``n`` patients with their index ICB course.

    Parameters
    ----------
    rng
        The simulation's random generator (the draws below are in a fixed order: changing it
        changes every later table).
    n
        Number of patients.
    scenario
        What the scenario changes (:mod:`helpers.simulate.scenarios`; ``None``: ``default``).
    scenario_rng
        The generator of the scenario's own draws (so that the default draws stay in order);
        needed by every scenario but ``default``.

    Returns
    -------
    Clinical
        The ``patients`` and ``icb_courses`` tables and the per-patient arrays that the other
        parts of the simulation (radiotherapy, samples, genomics, expression, truth) build on.
    """
    # ---------------- patients and baseline covariates ---------------------------------
    types = list(CANCER_TYPES)
    shares = np.array([CANCER_TYPES[t].share for t in types])
    ct = rng.choice(types, size=n, p=shares / shares.sum())
    spec = [CANCER_TYPES[t] for t in ct]
    female = rng.random(n) < np.array([s.female for s in spec])
    age = np.clip(rng.normal(65, 10, n), 22, 92).round(1)
    ecog = rng.choice([0, 1, 2], size=n, p=[0.35, 0.50, 0.15]).astype(float)
    line = rng.choice([1, 2, 3], size=n, p=[0.55, 0.32, 0.13]).astype(float)
    msi = rng.random(n) < np.array([s.msi_rate for s in spec])
    log2_tmb = np.log2([s.tmb_median for s in spec]) + rng.normal(0, 1.0, n) + np.where(msi, 2.5, 0.0)
    tmb_true = np.power(2.0, log2_tmb)
    regimen = np.array(
        [
            rng.choice(list(s.regimens), p=np.array(list(s.regimens.values())) / sum(s.regimens.values()))
            for s in spec
        ],
        dtype=object,
    )
    subtype_pre = rng.choice(SUBTYPES, size=n, p=SUBTYPE_PRE_PROBS)
    immune_rich = np.isin(subtype_pre, ["IE/F", "IE"])
    scenario = scenario or get_scenario("default")
    srng = scenario_rng if scenario_rng is not None else np.random.default_rng(0)
    # baseline-selection LoF, drawn before the response it shapes (scenario selection)
    selection_carrier: dict[tuple[str, str], np.ndarray] = {}
    selection_eta = np.zeros(n)
    if scenario.selection:
        for (gene, t), sel in SELECTION_LOF.items():
            carrier = (ct == t) & (srng.random(n) < sel.prevalence)
            selection_carrier[(gene, t)] = carrier
            selection_eta += sel.response_log_odds * carrier
    # where TME baselines differ by type and site, the response must not depend on the baseline
    # subtype, so that within a type and site the classes share one TME distribution
    immune_response_effect = 0.0 if scenario.tme_by_type_and_site else 0.6

    # ---------------- best response (ordinal logit around each type's targets) ---------
    eta = (
        0.35 * (log2_tmb - np.log2([s.tmb_median for s in spec]))
        - 0.4 * (ecog - 1)
        - 0.15 * (line - 1)
        + np.array([REGIMEN_RESPONSE_EFFECT[r] for r in regimen])
        + immune_response_effect * (immune_rich - 0.44)
        + selection_eta
    )
    p_ge = np.stack(
        [  # P(Y >= SD), P(Y >= PR), P(Y >= CR) at eta = 0
            np.array([s.p_sd + s.p_pr + s.p_cr for s in spec]),
            np.array([s.p_pr + s.p_cr for s in spec]),
            np.array([s.p_cr for s in spec]),
        ],
        axis=1,
    )
    theta = np.log(p_ge / (1 - p_ge))
    latent = eta + rng.logistic(size=n)
    category = (latent[:, None] > -theta).sum(axis=1)  # 0 PD, 1 SD, 2 PR, 3 CR
    response = np.array(["PD", "SD", "PR", "CR"], dtype=object)[category]

    # ---------------- time line: scans, progression, deaths before progression --------
    followup_to_cutoff = rng.uniform(150, 1600, n)  # administrative censoring
    first_scan = rng.normal(56, 6, n).clip(42, 80)
    early_death = rng.random(n) < (0.02 + 0.025 * ecog)
    early_death_day = rng.uniform(8, 40, n)
    not_assessed = rng.random(n) < 0.02  # evaluable scans missing: NE
    death_np = rng.exponential(1 / DEATH_WITHOUT_PROGRESSION_PER_DAY, n)
    cured = np.where(
        category == 3, rng.random(n) < 0.55, np.where(category == 2, rng.random(n) < 0.25, False)
    )
    # a LoF that predicts benefit predicts response, not cure: its carriers' responses end, so that
    # they are enriched among acquired resistance (the trap of scenario selection)
    for (gene, t), carrier in selection_carrier.items():
        if SELECTION_LOF[(gene, t)].role == "predicts_benefit":
            cured &= ~carrier
    after_first = np.select(
        [category == 1, category == 2, category == 3],
        [
            rng.lognormal(np.log(3.3 * DAYS_PER_MONTH), 0.7, n),
            rng.lognormal(np.log(13 * DAYS_PER_MONTH), 0.8, n),
            rng.lognormal(np.log(24 * DAYS_PER_MONTH), 0.8, n),
        ],
        0.0,
    )
    true_prog = np.where(category == 0, first_scan, first_scan + after_first)
    true_prog = np.where(cured, np.inf, true_prog)
    # observed at the first scheduled scan at or after the true progression
    k = np.ceil(np.maximum(true_prog - first_scan, 0) / SCAN_GAP_DAYS)
    prog_obs = first_scan + k * SCAN_GAP_DAYS + rng.uniform(-5, 5, n) * (k > 0)
    prog_obs = np.where(np.isfinite(true_prog), prog_obs, np.inf)
    death_before = np.where(early_death, early_death_day, death_np)
    progressed = np.isfinite(prog_obs) & (prog_obs < np.minimum(death_before, followup_to_cutoff))
    progressed &= ~early_death
    prog_day = np.where(progressed, prog_obs, np.nan)
    response = np.where(early_death | not_assessed, "NE", response).astype(object)

    # ---------------- stop day and the classes the default rule gives -----------------
    tox_stop = np.where(rng.random(n) < 0.10, rng.uniform(14, 180, n), np.inf)
    stop_progressors = prog_day + rng.uniform(0, 28, n) + np.where(rng.random(n) < 0.1, 60, 0)
    stop_day = np.where(progressed, np.minimum(stop_progressors, tox_stop), np.minimum(730.0, tox_stop))
    stop_known = rng.random(n) > 0.10  # unknown stop day in 10 % of courses
    response_recorded = rng.random(n) > 0.08  # best response not abstracted in 8 %
    br_recorded = np.where(response_recorded, response, None)

    # The last progression-free assessment is finalised after deaths are known; for the class
    # of a progressor only progression timing and exposure matter, so it is left unknown here.
    cls_prelim = _classes(
        br_recorded, prog_day, np.full(n, np.nan), np.where(stop_known, stop_day, np.nan), regimen
    )
    acquired = progressed & (cls_prelim == "acquired")

    # ---------------- survival after progression (Weibull, time-varying factors) ------
    # The hazard is the type's Weibull baseline times exp(covariates) times step factors that
    # switch on after progression: RT from its first fraction (rt_hr) and, in non_ph, the end
    # of the acquired-resistance advantage.
    pps_median = np.array([s.pps_median_months for s in spec]) * DAYS_PER_MONTH
    scale0 = pps_median / np.log(2) ** (1 / PPS_WEIBULL_SHAPE)
    hr_acq = np.array([scenario.pps_hr_by_type.get(t, PPS_HR_ACQUIRED) for t in ct])
    if scenario.pps_fade is not None:
        hr_acq = np.full(n, scenario.pps_fade[0])
    ps_decline = np.zeros(n)
    if scenario.progression_decline:
        ps_decline = np.where(progressed, srng.choice(len(PS_DECLINE_PROBS), size=n, p=PS_DECLINE_PROBS), 0)
        ps_decline = np.minimum(ps_decline, 4 - ecog).astype(float)
    lp = (
        PPS_LOG_HR["age_per_10y"] * (age - 65) / 10
        + PPS_LOG_HR["male"] * (~female)
        + PPS_LOG_HR["line_per_step"] * (line - 1)
        + PPS_LOG_HR["log2_tmb"] * (log2_tmb - 3.0)
        + PPS_LOG_HR["ecog_per_point"] * (ecog - 1 + ps_decline)
    )
    scale = scale0 * np.exp(-lp / PPS_WEIBULL_SHAPE)
    # RT after progression: ECOG (and, in rt_confounded, its decline at progression) and cancer
    # type decide who is offered it (confounding)
    rt_logit = (
        np.log(np.array([s.rt_propensity for s in spec]) / (1 - np.array([s.rt_propensity for s in spec])))
        - 0.9 * (ecog - 1)
        + RT_DECLINE_LOG_ODDS * ps_decline
    )
    rt_planned = progressed & (rng.random(n) < 1 / (1 + np.exp(-rt_logit)))
    rt_delay = 7 + rng.exponential(40, n)
    e = rng.exponential(1.0, n)
    rt_hr = RT_HR if scenario.rt_hr is None else scenario.rt_hr
    fade_day = np.inf if scenario.pps_fade is None else scenario.pps_fade[1] * DAYS_PER_MONTH
    breaks = np.stack([np.where(rt_planned, rt_delay, np.inf), np.where(acquired, fade_day, np.inf)], axis=1)
    factors = np.stack(
        [np.where(acquired, hr_acq, 1.0), np.full(n, rt_hr), np.where(acquired, 1.0 / hr_acq, 1.0)], axis=1
    )
    b, seg = _segments(breaks, factors)
    pps_time = _piecewise_h_inv(e, scale, PPS_WEIBULL_SHAPE, b, seg)
    rmst_planted = np.full(n, np.nan)
    groups = progressed & np.isin(cls_prelim, ["acquired", "primary"])
    rmst_planted[groups] = _planted_rmst(
        scale[groups], PPS_WEIBULL_SHAPE, b[groups], seg[groups], PPS_RMST_MONTHS * DAYS_PER_MONTH
    )
    death_day = np.where(progressed, prog_day + pps_time, death_before)
    died = death_day <= followup_to_cutoff
    last_followup = np.minimum(death_day, followup_to_cutoff)
    rt_start = prog_day + rt_delay
    gets_rt = rt_planned & (rt_start < last_followup)

    # ---------------- assessments and course table -------------------------------------
    end_pf = np.where(progressed, prog_day, last_followup)  # progression-free up to here
    n_scans_pf = np.floor((end_pf - first_scan - 1e-6) / SCAN_GAP_DAYS)
    last_pf_scan = np.where(n_scans_pf >= 0, first_scan + n_scans_pf * SCAN_GAP_DAYS, np.nan)
    last_pf_scan = np.where((response == "NE") & ~progressed & early_death, np.nan, last_pf_scan)
    last_pf_scan = np.where(not_assessed & ~progressed, np.nan, last_pf_scan)
    stop_day = np.minimum(stop_day, last_followup)

    patient_ids = opaque_ids(rng, n, "PT")
    patients = pd.DataFrame(
        {
            "patient_id": patient_ids,
            "cancer_type": ct,
            "sex": np.where(female, "female", "male"),
            "age_at_icb": age,
            "ecog": ecog,
            "last_followup_day": last_followup,
            "death": died,
        }
    )
    courses = pd.DataFrame(
        {
            "patient_id": patient_ids,
            "line": line,
            "regimen": regimen,
            "start_day": 0.0,
            "stop_day": np.where(stop_known, stop_day, np.nan),
            "best_response": br_recorded,
            "progression_day": prog_day,
            "last_assessment_day": last_pf_scan,
        }
    )
    cls_final = _classes(
        courses["best_response"].to_numpy(dtype=object),
        courses["progression_day"].to_numpy(),
        courses["last_assessment_day"].to_numpy(),
        courses["stop_day"].to_numpy(),
        regimen,
    )
    if not np.array_equal(cls_final[progressed], cls_prelim[progressed]):
        raise AssertionError("simulation bug: classes of progressors changed after follow-up")
    return Clinical(
        patients=patients,
        icb_courses=courses,
        patient_ids=patient_ids,
        cancer_type=ct,
        ecog=ecog,
        msi=msi,
        tmb_true=tmb_true,
        subtype_pre=subtype_pre,
        progressed=progressed,
        progression_day=prog_day,
        resistance_class=cls_final,
        acquired=acquired,
        died=died,
        last_followup=last_followup,
        gets_rt=gets_rt,
        rt_start=rt_start,
        regimen=regimen,
        scenario=scenario,
        selection_carrier=selection_carrier,
        ps_decline=ps_decline,
        pps_hr_acquired=hr_acq,
        rmst_planted=rmst_planted,
    )


def performance_status_table(rng: np.random.Generator, clinical: Clinical) -> pd.DataFrame:
    """The ``performance_status`` table: ECOG at baseline (day 0) and at progression.

    The assessment at progression is made within the 6 days after the progression day (before
    any RT after progression, which starts at least 7 days after it) and only while the patient
    is followed; it carries the baseline ECOG plus the decline at progression.

    Parameters
    ----------
    rng
        The scenario's generator (the days of the assessments at progression).
    clinical
        The simulated patients.

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``day``, ``ecog`` (0-4), sorted by patient and day.
    """
    n = len(clinical.patient_ids)
    day = clinical.progression_day + rng.uniform(0, 6, n)
    at_progression = clinical.progressed & (day < clinical.last_followup)
    baseline = pd.DataFrame({"patient_id": clinical.patient_ids, "day": 0.0, "ecog": clinical.ecog})
    later = pd.DataFrame(
        {
            "patient_id": clinical.patient_ids[at_progression],
            "day": day[at_progression].round(1),
            "ecog": (clinical.ecog + clinical.ps_decline)[at_progression],
        }
    )
    return (
        pd.concat([baseline, later], ignore_index=True)
        .sort_values(["patient_id", "day"])
        .reset_index(drop=True)
    )
