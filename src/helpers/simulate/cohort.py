"""A deterministic simulated real-world ICB cohort with planted, known truths.

The simulation mimics a pan-cancer clinicogenomic real-world data set: patients start an index
ICB course on day 0, respond or not, progress (observed at scheduled scans), may be re-biopsied
after progression, may receive radiotherapy after progression, and die or are censored at a data
cut-off. Resistance classes are never labelled: they *emerge* from the simulated best responses
and progression times. The book recovers them with
:func:`helpers.analysis.resistance.classify_resistance`; the simulator derives the truths that
depend on a class with its own, independent implementation of the same rule
(:mod:`helpers.simulate.classes`), so that the tests can catch a mistake in the book's.

Planted truths (all written to ``truth.json``; see :func:`simulate_cohort`):

* ``pps_hr``: survival after progression follows a Weibull proportional-hazards model,
  stratified by cancer type (each type its own baseline), with log hazard
  ``log(pps_hr)·acquired + age, sex, line, log2 TMB and ECOG terms + log(rt_hr)·RT(t)``.
  ``acquired`` is the class given by the default rule (6 months, 6 weeks).
* ``acquired_lof``: LoF alterations gained after ICB in acquired-resistance tumours for
  B2M/TGFBR2 (NSCLC), CYLD (HNSCC), RUNX1 (TNBC), JAK1/JAK2 (melanoma); every other panel
  gene carries only background mutations (``null_genes``).
* ``tme``: every RNA sample has a planted TME subtype (Bagaev et al. 2021); acquired-resistance
  post-progression tumours are inflamed but dysfunctional; LoF carriers show immune-escape
  programmes.
* ``rt``: radiotherapy after progression has a planted hazard ratio, given as a time-varying
  exposure; ECOG performance status drives both who receives RT and survival (confounding).

Everything here is simulated: no patient data went into it. Rates are chosen to be
realistic (response ~15-45 %, median PFS ~2-8 months, median survival after primary
resistance ~4-8 months), and the default cohort is sized so that each planted effect has at
least 80 % power with the intended method (the power is computed and stored in the truth,
:mod:`helpers.simulate.truth`).

The parts, in the order they draw from the one random generator: :mod:`~helpers.simulate.clinical`
(patients and courses), :mod:`~helpers.simulate.radiotherapy`, :mod:`~helpers.simulate.samples`,
:mod:`~helpers.simulate.genomics`, :mod:`~helpers.simulate.expression`; the planted parameters are
in :mod:`helpers.simulate.params`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.data.cohort import Cohort
from helpers.data.validate import validate
from helpers.errors import ParameterError
from helpers.simulate.clinical import performance_status_table, simulate_clinical
from helpers.simulate.expression import simulate_expression
from helpers.simulate.genomics import load_panel_genes, simulate_genomics
from helpers.simulate.params import GENERATOR_VERSION, PANEL_MB
from helpers.simulate.radiotherapy import simulate_radiotherapy
from helpers.simulate.samples import simulate_samples
from helpers.simulate.scenarios import get_scenario
from helpers.simulate.truth import planted_truth

#: The smallest cohort the simulator makes (fewer patients leave cancer types empty).
MIN_PATIENTS = 50


def simulate_cohort(
    n_patients: int = 5000, seed: int = 0, scenario: str = "default"
) -> tuple[Cohort, dict[str, Any]]:
    """Simulate a real-world ICB cohort: the default one, or a named scenario.

    Parameters
    ----------
    n_patients
        Number of patients (the default cohort has 5,000; tests use ≤ 1,000).
    seed
        Seed of the random generator; the same (n_patients, seed, scenario) gives identical
        tables.
    scenario
        A name of :data:`helpers.simulate.scenarios.SCENARIOS`. A scenario's own draws come from a
        second generator seeded with ``[seed, 11]``, so that what a scenario does not change is
        drawn as in ``default`` up to the first quantity it changes.

    Returns
    -------
    cohort, truth
        The validated :class:`~helpers.data.cohort.Cohort` and a dict of planted truths (the
        ``tme`` entry holds the planted subtype of every RNA sample as a DataFrame under
        ``"subtypes"``; :func:`save_simulated` writes it beside ``truth.json``).

    Raises
    ------
    helpers.errors.ParameterError
        If ``n_patients`` is below 50 (a ValueError), or the scenario is unknown.
    """
    if int(n_patients) < MIN_PATIENTS:
        raise ParameterError(f"n_patients must be at least {MIN_PATIENTS}, got {n_patients}")
    spec = get_scenario(scenario)
    n = int(n_patients)
    rng = np.random.default_rng(seed)
    scenario_rng = np.random.default_rng([seed, 11])

    clinical = simulate_clinical(rng, n, spec, scenario_rng)
    radiotherapy = simulate_radiotherapy(rng, clinical)
    samples, sample_kind = simulate_samples(rng, clinical, scenario_rng)
    panel_genes = load_panel_genes()
    genomics = simulate_genomics(
        rng,
        samples,
        sample_kind,
        clinical.cancer_type,
        clinical.tmb_true,
        panel_genes,
        selection_carrier=clinical.selection_carrier,
    )
    expr, subtypes = simulate_expression(
        rng, genomics.samples, sample_kind, clinical, genomics.lof_carrier, panel_genes
    )

    public_samples = genomics.samples.drop(columns=[c for c in genomics.samples.columns if c.startswith("_")])
    extra_tables = {}
    if spec.record_performance_status:
        extra_tables["performance_status"] = performance_status_table(scenario_rng, clinical)
    name = f"Simulated real-world ICB cohort (seed {seed}, {n} patients)"
    if spec.name != "default":
        name = f"Simulated real-world ICB cohort, scenario {spec.name} (seed {seed}, {n} patients)"
    cohort = Cohort(
        tables={
            "patients": clinical.patients,
            "icb_courses": clinical.icb_courses,
            "samples": public_samples,
            "mutations": genomics.mutations,
            "cna": genomics.cna,
            "panels": genomics.panels,
            "expression": expr,
            "radiotherapy": radiotherapy.drop(columns=["_modality"]),
            **extra_tables,
        },
        meta={
            "name": name,
            "source": f"helpers.simulate {GENERATOR_VERSION}",
            "simulated": True,
            "access": "open",
            "panel_sizes_mb": PANEL_MB,
            "version": GENERATOR_VERSION,
            "parameters": {"n_patients": n, "seed": int(seed), "scenario": spec.name},
            "repairs": [],
        },
    )
    validate(cohort, where="simulated cohort")
    truth = planted_truth(cohort, seed, clinical, genomics, subtypes, panel_genes)
    return cohort, truth


def save_simulated(cohort: Cohort, truth: dict[str, Any], path: str | Path) -> Path:
    """Write a simulated cohort with ``truth.json`` and ``truth_tme_subtypes.parquet``.

    Parameters
    ----------
    cohort, truth
        What :func:`simulate_cohort` returned.
    path
        The cohort folder to write.

    Returns
    -------
    pathlib.Path
        The folder written.
    """
    truth = dict(truth)
    tme = dict(truth["tme"])
    subtypes = tme.pop("subtypes")
    truth["tme"] = tme
    return cohort.save(path, extra_json={"truth.json": truth}, extra_tables={"truth_tme_subtypes": subtypes})


def load_truth(path: str | Path) -> dict[str, Any]:
    """Read ``truth.json`` (and the planted subtype table) of a saved simulated cohort.

    Parameters
    ----------
    path
        The cohort folder.

    Returns
    -------
    dict
        The truth; ``truth["tme"]["subtypes"]`` holds the planted subtype table where its file
        is present.
    """
    path = Path(path)
    truth = json.loads((path / "truth.json").read_text())
    f = path / truth["tme"]["subtypes_file"]
    if f.is_file():
        truth["tme"]["subtypes"] = pd.read_parquet(f)
    return truth
