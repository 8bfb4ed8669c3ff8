"""Radiotherapy courses: salvage RT after progression and RT before the index ICB course.

Who receives RT after progression is decided in :mod:`helpers.simulate.clinical` (ECOG and cancer
type drive it, the confounding of DESIGN §5); here each course gets a schedule, a site and its
in-field and out-of-field (abscopal) responses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.simulate.clinical import Clinical
from helpers.simulate.params import PRIOR_RT_MODALITY_PROBS, RT_MODALITY_PROBS, RT_SCHEDULES, RT_SITES

#: Days from the first fraction to the response assessment.
DAYS_TO_RT_ASSESSMENT = 60.0


def _rt_rows(
    rng: np.random.Generator, pids: np.ndarray, start: np.ndarray, modality_probs: dict[str, float]
) -> pd.DataFrame:
    """One RT course per patient id: schedule and site drawn, modality kept as ``_modality``."""
    m = len(pids)
    mods = list(modality_probs)
    p = np.array(list(modality_probs.values()))
    modality = rng.choice(mods, size=m, p=p / p.sum())
    rows = []
    for i in range(m):
        sched = RT_SCHEDULES[modality[i]]
        total, fx, technique = sched[rng.integers(len(sched))]
        rows.append(
            (
                pids[i],
                float(start[i]),
                RT_SITES[rng.integers(len(RT_SITES))],
                total,
                fx,
                technique,
                modality[i],
            )
        )
    return pd.DataFrame(
        rows,
        columns=["patient_id", "start_day", "site", "total_dose_gy", "fractions", "technique", "_modality"],
    )


def _salvage_rt(rng: np.random.Generator, clinical: Clinical) -> pd.DataFrame:
    """RT after progression with its in-field and out-of-field responses."""
    idx = np.flatnonzero(clinical.gets_rt)
    rt_start, last_followup = clinical.rt_start[idx], clinical.last_followup[idx]
    rows = _rt_rows(rng, clinical.patient_ids[idx], rt_start, RT_MODALITY_PROBS)
    eqd2 = rows["total_dose_gy"] * (rows["total_dose_gy"] / rows["fractions"] + 10) / 12
    # in-field response rises with EQD2; abscopal responses are rare, a little more after SBRT
    p_in = 1 / (1 + np.exp(-(-1.6 + 0.035 * eqd2.to_numpy())))
    p_out = np.where(rows["_modality"] == "SBRT", 0.09, 0.04)
    assessable = rt_start + DAYS_TO_RT_ASSESSMENT < last_followup
    u = rng.random(len(rows))
    in_field = np.where(
        u < p_in * 0.3, "CR", np.where(u < p_in, "PR", np.where(u < p_in + (1 - p_in) * 0.6, "SD", "PD"))
    )
    measurable_out = rng.random(len(rows)) < 0.7
    v = rng.random(len(rows))
    out_field = np.where(v < p_out, "PR", np.where(v < p_out + 0.35, "SD", "PD"))
    rows["in_field_response"] = np.where(assessable, in_field, "NE")
    rows["out_of_field_response"] = np.where(assessable & measurable_out, out_field, None)
    rows.loc[~assessable, "out_of_field_response"] = "NE"
    return rows


def simulate_radiotherapy(rng: np.random.Generator, clinical: Clinical) -> pd.DataFrame:
    """The canonical ``radiotherapy`` table of the simulated cohort.

    Parameters
    ----------
    rng
        The simulation's random generator.
    clinical
        The simulated patients (who gets RT after progression, and when).

    Returns
    -------
    pandas.DataFrame
        Salvage RT after progression (with responses) and RT before the index course of 12 % of
        patients (responses not recorded), sorted by patient and start day, plus a private
        ``_modality`` column that the cohort drops.
    """
    salvage = _salvage_rt(rng, clinical)
    n = len(clinical.patient_ids)
    prior_rt = rng.random(n) < 0.12
    prior_start = -rng.uniform(40, 900, prior_rt.sum())
    prior = _rt_rows(rng, clinical.patient_ids[prior_rt], prior_start, PRIOR_RT_MODALITY_PROBS)
    return (
        pd.concat([prior, salvage], ignore_index=True)
        .sort_values(["patient_id", "start_day"])
        .reset_index(drop=True)
    )
