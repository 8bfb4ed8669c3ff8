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
    PPS_WEIBULL_SHAPE,
    REGIMEN_RESPONSE_EFFECT,
    RT_HR,
    SUBTYPE_PRE_PROBS,
)
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


def _weibull_h_inv(h: np.ndarray, scale: np.ndarray, shape: float) -> np.ndarray:
    """Inverse of the Weibull cumulative hazard H(t) = (t/scale)^shape."""
    return scale * np.power(h, 1.0 / shape)


def _weibull_h(t: np.ndarray, scale: np.ndarray, shape: float) -> np.ndarray:
    """The Weibull cumulative hazard H(t) = (t/scale)^shape (0 before time 0)."""
    return np.power(np.maximum(t, 0) / scale, shape)


def _classes(
    best_response: np.ndarray,
    progression_day: np.ndarray,
    last_assessment_day: np.ndarray,
    stop_day: np.ndarray,
) -> np.ndarray:
    """The simulator's class of each course (all courses start on day 0)."""
    return sitc_class(
        best_response,
        progression_day,
        last_assessment_day,
        stop_day,
        start_day=0.0,
        benefit_months=BENEFIT_MONTHS,
        min_exposure_weeks=MIN_EXPOSURE_WEEKS,
    )


def simulate_clinical(rng: np.random.Generator, n: int) -> Clinical:
    """Simulate ``n`` patients with their index ICB course.

    Parameters
    ----------
    rng
        The simulation's random generator (the draws below are in a fixed order: changing it
        changes every later table).
    n
        Number of patients.

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

    # ---------------- best response (ordinal logit around each type's targets) ---------
    eta = (
        0.35 * (log2_tmb - np.log2([s.tmb_median for s in spec]))
        - 0.4 * (ecog - 1)
        - 0.15 * (line - 1)
        + np.array([REGIMEN_RESPONSE_EFFECT[r] for r in regimen])
        + 0.6 * (immune_rich - 0.44)
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
    cls_prelim = _classes(br_recorded, prog_day, np.full(n, np.nan), np.where(stop_known, stop_day, np.nan))
    acquired = progressed & (cls_prelim == "acquired")

    # ---------------- survival after progression (Weibull PH, time-varying RT) --------
    pps_median = np.array([s.pps_median_months for s in spec]) * DAYS_PER_MONTH
    scale0 = pps_median / np.log(2) ** (1 / PPS_WEIBULL_SHAPE)
    lp = (
        np.log(PPS_HR_ACQUIRED) * acquired
        + PPS_LOG_HR["age_per_10y"] * (age - 65) / 10
        + PPS_LOG_HR["male"] * (~female)
        + PPS_LOG_HR["line_per_step"] * (line - 1)
        + PPS_LOG_HR["log2_tmb"] * (log2_tmb - 3.0)
        + PPS_LOG_HR["ecog_per_point"] * (ecog - 1)
    )
    scale = scale0 * np.exp(-lp / PPS_WEIBULL_SHAPE)
    # RT after progression: ECOG and cancer type decide who is offered it (confounding)
    rt_logit = np.log(
        np.array([s.rt_propensity for s in spec]) / (1 - np.array([s.rt_propensity for s in spec]))
    ) - 0.9 * (ecog - 1)
    rt_planned = progressed & (rng.random(n) < 1 / (1 + np.exp(-rt_logit)))
    rt_delay = 7 + rng.exponential(40, n)
    e = rng.exponential(1.0, n)
    h_at_rt = _weibull_h(rt_delay, scale, PPS_WEIBULL_SHAPE)
    dies_before_rt = ~rt_planned | (e < h_at_rt)
    pps_time = np.where(
        dies_before_rt,
        _weibull_h_inv(e, scale, PPS_WEIBULL_SHAPE),
        _weibull_h_inv(h_at_rt + np.maximum(e - h_at_rt, 0) / RT_HR, scale, PPS_WEIBULL_SHAPE),
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
    )
