"""Tumour samples: pre-treatment (fresh or archival), a few on-treatment, post-progression biopsies."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.simulate.clinical import Clinical
from helpers.simulate.ids import opaque_ids
from helpers.simulate.params import PANEL_LARGE, PANEL_SMALL, SITE_PROBS_POST, SITE_PROBS_PRE


def _draw_sites(rng: np.random.Generator, probs: dict[str, float], n: int) -> np.ndarray:
    """``n`` biopsy sites drawn with the given probabilities."""
    p = np.array(list(probs.values()))
    return rng.choice(list(probs), size=n, p=p / p.sum()).astype(object)


def simulate_samples(
    rng: np.random.Generator, clinical: Clinical, scenario_rng: np.random.Generator | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """The canonical ``samples`` rows (without TMB, added by the genomics) and their timepoints.

    Parameters
    ----------
    rng
        The simulation's random generator.
    clinical
        The simulated patients.
    scenario_rng
        The scenario's own generator: where the scenario records biopsy sites
        (``tme_by_type_and_site``), the sites are drawn from it and written to ``site``.

    Returns
    -------
    samples, kind
        The samples sorted by patient and day, with the private columns ``_pidx`` (patient
        position), ``_kind`` (``pre``, ``on`` or ``post``) and ``_cls`` (the simulator's class of
        the patient's course); and the timepoints as an array.
    """
    patient_ids = clinical.patient_ids
    progressed, prog_day = clinical.progressed, clinical.progression_day
    cls, last_followup = clinical.resistance_class, clinical.last_followup
    n = len(patient_ids)
    rows = []  # (patient index, day, kind)
    has_pre = rng.random(n) < 0.85
    archival = rng.random(n) < 0.3
    pre_day = np.where(archival, -rng.uniform(90, 900, n), -(3 + rng.exponential(30, n)))
    for i in np.flatnonzero(has_pre):
        rows.append((i, float(pre_day[i]), "pre"))
    # on-treatment research biopsies (few)
    on = rng.random(n) < 0.04
    on_day = rng.uniform(14, 42, n)
    ok_on = on & (on_day < np.where(progressed, prog_day, np.inf)) & (on_day < last_followup)
    for i in np.flatnonzero(ok_on):
        rows.append((i, float(on_day[i]), "on"))
    # post-progression biopsies: a minority of progressors, more often at acquired resistance
    p_post = np.where(cls == "acquired", 0.6, 0.28)
    post_day = prog_day + rng.uniform(3, 60, n)
    post = progressed & (rng.random(n) < p_post) & (post_day < last_followup)
    for i in np.flatnonzero(post):
        rows.append((i, float(post_day[i]), "post"))
    second_day = prog_day + rng.uniform(61, 240, n)
    second = post & (rng.random(n) < 0.08) & (second_day < last_followup)
    for i in np.flatnonzero(second):
        rows.append((i, float(second_day[i]), "post"))
    rows.sort(key=lambda r: (r[0], r[1]))
    pidx = np.array([r[0] for r in rows])
    day = np.array([r[1] for r in rows])
    kind = np.array([r[2] for r in rows], dtype=object)
    m = len(rows)
    assay = rng.choice(["DNA+RNA", "DNA", "RNA"], size=m, p=[0.72, 0.16, 0.12]).astype(object)
    samples = pd.DataFrame(
        {
            "sample_id": opaque_ids(rng, m, "SM"),
            "patient_id": patient_ids[pidx],
            "collection_day": day,
            "assay": assay,
            "panel_id": np.where(
                np.isin(assay, ["DNA", "DNA+RNA"]),
                np.where(rng.random(m) < 0.7, PANEL_LARGE, PANEL_SMALL),
                None,
            ),
            "purity": np.clip(rng.beta(6, 4, m), 0.1, 0.99).round(2),
            "msi": pd.array(
                np.where(np.isin(assay, ["DNA", "DNA+RNA"]), clinical.msi[pidx], None), dtype="boolean"
            ),
        }
    )
    if clinical.scenario.tme_by_type_and_site:
        srng = scenario_rng if scenario_rng is not None else np.random.default_rng(0)
        site = _draw_sites(srng, SITE_PROBS_PRE, m)
        post_rows = kind == "post"
        acquired_rows = post_rows & (cls[pidx] == "acquired")
        site[acquired_rows] = _draw_sites(srng, SITE_PROBS_POST["acquired"], int(acquired_rows.sum()))
        other_rows = post_rows & ~acquired_rows
        site[other_rows] = _draw_sites(srng, SITE_PROBS_POST["other"], int(other_rows.sum()))
        samples["site"] = site
    samples["_pidx"] = pidx
    samples["_kind"] = kind
    samples["_cls"] = cls[pidx]
    return samples, kind
