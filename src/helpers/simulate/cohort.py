"""A deterministic simulated real-world ICB cohort with planted, known truths.

The simulation mimics a pan-cancer clinicogenomic real-world data set: patients start an index
ICB course on day 0, respond or not, progress (observed at scheduled scans), may be re-biopsied
after progression, may receive radiotherapy after progression, and die or are censored at a data
cut-off. Resistance classes are never labelled: they *emerge* from the simulated best responses
and progression times and are recovered by :func:`helpers.analysis.resistance.classify_resistance`.

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
least 80 % power with the intended method (the power is computed and stored in the truth).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from helpers.data.cohort import Cohort, validate
from helpers.data.genesets import read_gmt
from helpers.analysis.resistance import classify_resistance
from helpers.units import DAYS_PER_MONTH

GENERATOR_VERSION = "1.0"
DATA_DIR = Path(__file__).resolve().parents[3] / "data"


@dataclass(frozen=True)
class CancerTypeSpec:
    """Simulation parameters of one cancer type."""

    share: float
    p_cr: float
    p_pr: float
    p_sd: float
    tmb_median: float  # mutations / Mb
    female: float
    pps_median_months: float  # median survival after primary resistance (reference covariates)
    msi_rate: float
    regimens: dict[str, float]
    rt_propensity: float  # baseline probability of RT after progression (ECOG 1)


_MONO = {"anti-PD-1": 0.75, "anti-PD-L1": 0.25}
CANCER_TYPES: dict[str, CancerTypeSpec] = {
    "NSCLC": CancerTypeSpec(0.40, 0.03, 0.22, 0.30, 8.0, 0.42, 5.0, 0.01,
                            {"anti-PD-1": 0.45, "anti-PD-L1": 0.12, "ICB+chemo": 0.38,
                             "PD-1+CTLA-4": 0.05}, 0.35),
    "Melanoma": CancerTypeSpec(0.12, 0.10, 0.30, 0.20, 14.0, 0.40, 7.5, 0.0,
                               {"anti-PD-1": 0.55, "PD-1+CTLA-4": 0.38, "anti-CTLA-4": 0.07},
                               0.35),
    "RCC": CancerTypeSpec(0.09, 0.04, 0.26, 0.35, 2.5, 0.28, 8.0, 0.0,
                          {"anti-PD-1": 0.55, "PD-1+CTLA-4": 0.45}, 0.30),
    "HNSCC": CancerTypeSpec(0.09, 0.03, 0.14, 0.25, 5.0, 0.25, 4.5, 0.0,
                            {"anti-PD-1": 0.75, "ICB+chemo": 0.25}, 0.30),
    "Urothelial": CancerTypeSpec(0.09, 0.06, 0.16, 0.20, 7.0, 0.25, 4.5, 0.01, _MONO, 0.25),
    "TNBC": CancerTypeSpec(0.06, 0.05, 0.15, 0.22, 3.5, 1.0, 5.5, 0.0,
                           {"ICB+chemo": 0.85, "anti-PD-1": 0.15}, 0.30),
    "Gastro-oesophageal": CancerTypeSpec(0.07, 0.02, 0.13, 0.25, 4.0, 0.30, 4.0, 0.05,
                                         {"anti-PD-1": 0.45, "ICB+chemo": 0.55}, 0.20),
    "Other": CancerTypeSpec(0.08, 0.03, 0.15, 0.25, 4.0, 0.45, 5.0, 0.04, _MONO, 0.25),
}

#: Planted truths of survival after progression (log hazard ratios per unit).
PPS_HR_ACQUIRED = 0.60
PPS_LOG_HR = {
    "age_per_10y": np.log(1.10),
    "male": np.log(1.12),
    "line_per_step": np.log(1.15),
    "log2_tmb": np.log(0.95),
    "ecog_per_point": np.log(1.55),
}
PPS_WEIBULL_SHAPE = 1.1
#: Hazard of death without a recorded progression (other causes, and clinical deterioration
#: that real-world records do not document as progression).
DEATH_WITHOUT_PROGRESSION_PER_DAY = 0.0008  # ~2.4 % a month
RT_HR = 0.75

#: Planted acquired LoF: (gene, cancer type) -> prevalence before ICB, after acquired and after
#: primary resistance (LoF planted on top of background mutations).
PLANTED_LOF = {
    ("B2M", "NSCLC"): (0.01, 0.14, 0.01),
    ("TGFBR2", "NSCLC"): (0.01, 0.12, 0.01),
    ("CYLD", "HNSCC"): (0.01, 0.32, 0.01),
    ("RUNX1", "TNBC"): (0.01, 0.40, 0.01),
    ("JAK1", "Melanoma"): (0.01, 0.20, 0.01),
    ("JAK2", "Melanoma"): (0.01, 0.22, 0.01),
}

#: TME programmes that shape expression; every signature gene is driven by one programme.
PROGRAMMES = ("immune", "ifn", "mhci", "exhaustion", "myeloid", "stroma", "angio", "proliferation",
              "emt", "tgfb", "wnt", "glycolysis", "oxphos")
#: Loadings of each programme on the two subtype axes (immune, fibrotic).
AXIS_LOADINGS = {
    "immune": (1.0, 0.0), "ifn": (0.9, 0.0), "mhci": (0.6, 0.0), "exhaustion": (0.8, 0.0),
    "myeloid": (0.6, 0.3), "stroma": (0.0, 1.0), "angio": (0.0, 0.8), "emt": (0.0, 0.6),
    "tgfb": (0.0, 0.7), "proliferation": (-0.3, -0.3), "wnt": (-0.2, 0.0),
    "glycolysis": (0.0, 0.0), "oxphos": (0.0, 0.0),
}
SUBTYPES = ("IE/F", "IE", "F", "D")
SUBTYPE_NAMES = {"IE/F": "immune-enriched, fibrotic", "IE": "immune-enriched, non-fibrotic",
                 "F": "fibrotic", "D": "depleted"}
#: Means of the (immune, fibrotic) axes per subtype.
SUBTYPE_AXES = {"IE/F": (1.0, 1.0), "IE": (1.1, -0.9), "F": (-0.9, 1.1), "D": (-1.0, -0.9)}
SUBTYPE_PRE_PROBS = (0.22, 0.22, 0.26, 0.30)
#: Planted programme shifts (standard deviations) in post-progression tumours.
POST_SHIFTS = {
    "acquired": {"ifn": 0.6, "exhaustion": 0.8, "immune": 0.3},
    "primary": {"ifn": -0.2, "immune": -0.2},
}
#: Immune-escape programme shifts in post-progression carriers of each planted LoF gene.
LOF_SHIFTS = {
    "B2M": {"mhci": -1.0},
    "TGFBR2": {"emt": 0.8},
    "CYLD": {"proliferation": 0.8},
    "RUNX1": {"glycolysis": 0.8},
    "JAK1": {"ifn": -0.8},
    "JAK2": {"ifn": -0.8},
}

#: Set-name keywords → programme (first match wins); used to drive signature genes.
_PROGRAMME_OF_SET = (
    ("MHCI", "mhci"), ("ANTIGEN_PRESENTATION", "mhci"), ("IFNG", "ifn"),
    ("TCELL_INFLAMED", "ifn"), ("CHECKPOINT", "exhaustion"), ("DYSFUNCTION", "exhaustion"),
    ("NEUTROPHIL", "myeloid"), ("GRANULOCYTE", "myeloid"), ("MDSC", "myeloid"),
    ("MACROPHAGE", "myeloid"), ("PROTUMOR", "myeloid"), ("CAF", "stroma"),
    ("MATRIX", "stroma"), ("ANGIO", "angio"), ("ENDOTHELIUM", "angio"),
    ("PROLIFERATION", "proliferation"), ("EMT", "emt"), ("TGFB", "tgfb"), ("WNT", "wnt"),
    ("GLYCOLYSIS", "glycolysis"), ("OXPHOS", "oxphos"),
)

VARIANT_MIX = {
    "Missense_Mutation": 0.600, "Silent": 0.200, "Nonsense_Mutation": 0.060,
    "Frame_Shift_Del": 0.035, "Frame_Shift_Ins": 0.015, "Splice_Site": 0.030,
    "Splice_Region": 0.030, "In_Frame_Del": 0.015, "In_Frame_Ins": 0.005,
    "Translation_Start_Site": 0.006, "Nonstop_Mutation": 0.004,
}
TRUNCATING = ("Nonsense_Mutation", "Frame_Shift_Del", "Frame_Shift_Ins", "Splice_Site",
              "Translation_Start_Site", "Nonstop_Mutation")
NONSYNONYMOUS = tuple(v for v in VARIANT_MIX if v not in ("Silent", "Splice_Region"))
N_BACKGROUND_GENES = 3000
PANEL_LARGE, PANEL_SMALL = "SIM-P468", "SIM-P341"
PANEL_MB = {PANEL_LARGE: 1.22, PANEL_SMALL: 0.98}

RT_SCHEDULES = {  # modality -> list of (total Gy, fractions, technique)
    "SBRT": [(24.0, 3, "SBRT"), (30.0, 5, "SBRT"), (27.0, 3, "SBRT"), (20.0, 1, "SRS"),
             (40.0, 5, "SBRT"), (50.0, 4, "SBRT")],
    "hypofractionated": [(30.0, 10, "3D-CRT"), (20.0, 5, "3D-CRT"), (8.0, 1, "3D-CRT"),
                         (36.0, 12, "IMRT")],
    "conventional": [(50.0, 25, "IMRT"), (60.0, 30, "IMRT"), (45.0, 25, "3D-CRT")],
    "low_dose": [(2.0, 2, "low-dose"), (4.0, 4, "low-dose"), (2.0, 1, "low-dose")],
}
RT_MODALITY_PROBS = {"SBRT": 0.35, "hypofractionated": 0.40, "conventional": 0.17,
                     "low_dose": 0.08}
RT_SITES = ("bone", "brain", "lung", "lymph node", "liver", "soft tissue", "adrenal")


def load_panel_genes() -> list[str]:
    """Genes of the simulated large panel (the MSK-IMPACT 468 gene list shipped in data/)."""
    path = DATA_DIR / "panels" / "impact468_genes.txt"
    genes = [ln.strip() for ln in path.read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    return list(dict.fromkeys(genes))


def load_signature_sets() -> dict[str, list[str]]:
    """All gene sets shipped in data/signatures/, the ICB signatures first.

    The order matters to the simulation: a gene listed by several sets is driven by the
    programme of the first, so the specific ICB signatures (IFN-γ, GEP, MHC-I, dysfunction,
    ...) claim their genes before the broader Bagaev immune signatures.
    """
    folder = DATA_DIR / "signatures"
    files = sorted(folder.glob("*.gmt"), key=lambda f: (f.name != "icb_signatures.gmt", f.name))
    sets: dict[str, list[str]] = {}
    for gmt in files:
        sets.update(read_gmt(gmt))
    if not sets:
        raise FileNotFoundError(f"no gene sets found in {folder}")
    return sets


def _programme_of(set_name: str) -> str:
    key = set_name.upper()
    for word, prog in _PROGRAMME_OF_SET:
        if word in key:
            return prog
    return "immune"  # the remaining Bagaev sets are immune-cell and cytokine signatures


def _opaque_ids(rng: np.random.Generator, n: int, prefix: str) -> np.ndarray:
    """Unique opaque identifiers such as ``PT-7f3a9c21``."""
    seen: set[str] = set()
    out = []
    while len(out) < n:
        v = f"{prefix}-{rng.integers(0, 2**32):08x}"
        if v not in seen:
            seen.add(v)
            out.append(v)
    return np.array(out, dtype=object)


def _weibull_h_inv(h: np.ndarray, scale: np.ndarray, shape: float) -> np.ndarray:
    """Inverse of the Weibull cumulative hazard H(t) = (t/scale)^shape."""
    return scale * np.power(h, 1.0 / shape)


def _weibull_h(t: np.ndarray, scale: np.ndarray, shape: float) -> np.ndarray:
    return np.power(np.maximum(t, 0) / scale, shape)


def simulate_cohort(n_patients: int = 5000, seed: int = 0) -> tuple[Cohort, dict[str, Any]]:
    """Simulate the default real-world ICB cohort.

    Parameters
    ----------
    n_patients
        Number of patients (the default cohort has 5,000; tests use ≤ 1,000).
    seed
        Seed of the random generator; the same (n_patients, seed) gives identical tables.

    Returns
    -------
    cohort, truth
        The validated :class:`~helpers.data.cohort.Cohort` and a dict of planted truths (the
        ``tme`` entry holds the planted subtype of every RNA sample as a DataFrame under
        ``"subtypes"``; :func:`save_simulated` writes it beside ``truth.json``).
    """
    if int(n_patients) < 50:
        raise ValueError(f"n_patients must be at least 50, got {n_patients}")
    n = int(n_patients)
    rng = np.random.default_rng(seed)

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
    log2_tmb = (np.log2([s.tmb_median for s in spec]) + rng.normal(0, 1.0, n)
                + np.where(msi, 2.5, 0.0))
    tmb_true = np.power(2.0, log2_tmb)
    regimen = np.array([rng.choice(list(s.regimens), p=np.array(list(s.regimens.values()))
                                   / sum(s.regimens.values())) for s in spec], dtype=object)
    subtype_pre = rng.choice(SUBTYPES, size=n, p=SUBTYPE_PRE_PROBS)
    immune_rich = np.isin(subtype_pre, ["IE/F", "IE"])

    # ---------------- best response (ordinal logit around each type's targets) ---------
    reg_effect = {"anti-PD-1": 0.0, "anti-PD-L1": -0.1, "anti-CTLA-4": -0.6,
                  "PD-1+CTLA-4": 0.3, "ICB+chemo": 0.4}
    eta = (0.35 * (log2_tmb - np.log2([s.tmb_median for s in spec]))
           - 0.4 * (ecog - 1) - 0.15 * (line - 1)
           + np.array([reg_effect[r] for r in regimen]) + 0.6 * (immune_rich - 0.44))
    p_ge = np.stack([  # P(Y >= SD), P(Y >= PR), P(Y >= CR) at eta = 0
        np.array([s.p_sd + s.p_pr + s.p_cr for s in spec]),
        np.array([s.p_pr + s.p_cr for s in spec]),
        np.array([s.p_cr for s in spec])], axis=1)
    theta = np.log(p_ge / (1 - p_ge))
    latent = eta + rng.logistic(size=n)
    category = (latent[:, None] > -theta).sum(axis=1)  # 0 PD, 1 SD, 2 PR, 3 CR
    response = np.array(["PD", "SD", "PR", "CR"], dtype=object)[category]

    # ---------------- time line: scans, progression, deaths before progression --------
    followup_to_cutoff = rng.uniform(150, 1600, n)  # administrative censoring
    first_scan = rng.normal(56, 6, n).clip(42, 80)
    scan_gap = 56.0
    early_death = rng.random(n) < (0.02 + 0.025 * ecog)
    early_death_day = rng.uniform(8, 40, n)
    not_assessed = rng.random(n) < 0.02  # evaluable scans missing: NE
    death_np = rng.exponential(1 / DEATH_WITHOUT_PROGRESSION_PER_DAY, n)
    cured = np.where(category == 3, rng.random(n) < 0.55,
                     np.where(category == 2, rng.random(n) < 0.25, False))
    after_first = np.select(
        [category == 1, category == 2, category == 3],
        [rng.lognormal(np.log(3.3 * DAYS_PER_MONTH), 0.7, n),
         rng.lognormal(np.log(13 * DAYS_PER_MONTH), 0.8, n),
         rng.lognormal(np.log(24 * DAYS_PER_MONTH), 0.8, n)], 0.0)
    true_prog = np.where(category == 0, first_scan, first_scan + after_first)
    true_prog = np.where(cured, np.inf, true_prog)
    # observed at the first scheduled scan at or after the true progression
    k = np.ceil(np.maximum(true_prog - first_scan, 0) / scan_gap)
    prog_obs = first_scan + k * scan_gap + rng.uniform(-5, 5, n) * (k > 0)
    prog_obs = np.where(np.isfinite(true_prog), prog_obs, np.inf)
    death_before = np.where(early_death, early_death_day, death_np)
    progressed = np.isfinite(prog_obs) & (prog_obs < np.minimum(death_before, followup_to_cutoff))
    progressed &= ~early_death
    prog_day = np.where(progressed, prog_obs, np.nan)
    response = np.where(early_death | not_assessed, "NE", response).astype(object)

    # ---------------- stop day and the classes the default rule gives -----------------
    tox_stop = np.where(rng.random(n) < 0.10, rng.uniform(14, 180, n), np.inf)
    stop_progressors = prog_day + rng.uniform(0, 28, n) + np.where(rng.random(n) < 0.1, 60, 0)
    stop_day = np.where(progressed, np.minimum(stop_progressors, tox_stop),
                        np.minimum(730.0, tox_stop))
    stop_known = rng.random(n) > 0.10  # unknown stop day in 10 % of courses
    response_recorded = rng.random(n) > 0.08  # best response not abstracted in 8 %
    br_recorded = np.where(response_recorded, response, None)

    # last progression-free assessment is finalised after deaths are known; for the class
    # of progressors only progression timing and exposure matter.
    prelim = pd.DataFrame({
        "start_day": 0.0, "best_response": br_recorded, "progression_day": prog_day,
        "last_assessment_day": np.nan,
        "stop_day": np.where(stop_known, stop_day, np.nan)})
    cls_prelim = classify_resistance(prelim).to_numpy()
    acquired = progressed & (cls_prelim == "acquired")

    # ---------------- survival after progression (Weibull PH, time-varying RT) --------
    pps_median = np.array([s.pps_median_months for s in spec]) * DAYS_PER_MONTH
    scale0 = pps_median / np.log(2) ** (1 / PPS_WEIBULL_SHAPE)
    lp = (np.log(PPS_HR_ACQUIRED) * acquired
          + PPS_LOG_HR["age_per_10y"] * (age - 65) / 10
          + PPS_LOG_HR["male"] * (~female)
          + PPS_LOG_HR["line_per_step"] * (line - 1)
          + PPS_LOG_HR["log2_tmb"] * (log2_tmb - 3.0)
          + PPS_LOG_HR["ecog_per_point"] * (ecog - 1))
    scale = scale0 * np.exp(-lp / PPS_WEIBULL_SHAPE)
    # RT after progression: ECOG and cancer type decide who is offered it (confounding)
    rt_logit = (np.log(np.array([s.rt_propensity for s in spec])
                       / (1 - np.array([s.rt_propensity for s in spec])))
                - 0.9 * (ecog - 1))
    rt_planned = progressed & (rng.random(n) < 1 / (1 + np.exp(-rt_logit)))
    rt_delay = 7 + rng.exponential(40, n)
    e = rng.exponential(1.0, n)
    h_at_rt = _weibull_h(rt_delay, scale, PPS_WEIBULL_SHAPE)
    dies_before_rt = ~rt_planned | (e < h_at_rt)
    pps_time = np.where(
        dies_before_rt, _weibull_h_inv(e, scale, PPS_WEIBULL_SHAPE),
        _weibull_h_inv(h_at_rt + np.maximum(e - h_at_rt, 0) / RT_HR, scale, PPS_WEIBULL_SHAPE))
    death_day = np.where(progressed, prog_day + pps_time, death_before)
    died = death_day <= followup_to_cutoff
    last_followup = np.minimum(death_day, followup_to_cutoff)
    rt_start = prog_day + rt_delay
    gets_rt = rt_planned & (rt_start < last_followup)

    # ---------------- assessments and course table -------------------------------------
    end_pf = np.where(progressed, prog_day, last_followup)  # progression-free up to here
    n_scans_pf = np.floor((end_pf - first_scan - 1e-6) / scan_gap)
    last_pf_scan = np.where(n_scans_pf >= 0, first_scan + n_scans_pf * scan_gap, np.nan)
    last_pf_scan = np.where((response == "NE") & ~progressed & early_death, np.nan, last_pf_scan)
    last_pf_scan = np.where(not_assessed & ~progressed, np.nan, last_pf_scan)
    stop_day = np.minimum(stop_day, last_followup)

    patient_ids = _opaque_ids(rng, n, "PT")
    patients = pd.DataFrame({
        "patient_id": patient_ids,
        "cancer_type": ct,
        "sex": np.where(female, "female", "male"),
        "age_at_icb": age,
        "ecog": ecog,
        "last_followup_day": last_followup,
        "death": died,
    })
    courses = pd.DataFrame({
        "patient_id": patient_ids,
        "line": line,
        "regimen": regimen,
        "start_day": 0.0,
        "stop_day": np.where(stop_known, stop_day, np.nan),
        "best_response": br_recorded,
        "progression_day": prog_day,
        "last_assessment_day": last_pf_scan,
    })
    cls_final = classify_resistance(courses).to_numpy()
    if not np.array_equal(cls_final[progressed], cls_prelim[progressed]):
        raise AssertionError("simulation bug: classes of progressors changed after follow-up")

    # ---------------- radiotherapy ------------------------------------------------------
    rt = _simulate_radiotherapy(rng, patient_ids, gets_rt, rt_start, last_followup, died)
    prior_rt = rng.random(n) < 0.12
    prior_rows = _rt_rows(rng, patient_ids[prior_rt], -rng.uniform(40, 900, prior_rt.sum()),
                          modality_probs={"conventional": 0.6, "hypofractionated": 0.25,
                                          "SBRT": 0.15}, last_followup=None, died=None)
    radiotherapy = pd.concat([prior_rows, rt], ignore_index=True).sort_values(
        ["patient_id", "start_day"]).reset_index(drop=True)

    # ---------------- samples ------------------------------------------------------------
    samples, sample_kind = _simulate_samples(rng, patient_ids, progressed, prog_day, cls_final,
                                             last_followup, msi)

    # ---------------- genomics ------------------------------------------------------------
    panel_genes = load_panel_genes()
    genomics = _simulate_genomics(rng, samples, sample_kind, patient_ids, ct, tmb_true,
                                  panel_genes)
    samples = genomics["samples"]

    # ---------------- expression ----------------------------------------------------------
    expr, subtypes = _simulate_expression(rng, samples, sample_kind, patient_ids, ct,
                                          subtype_pre, cls_final, genomics["lof_carrier"],
                                          panel_genes)

    public_samples = samples.drop(columns=[c for c in samples.columns if c.startswith("_")])
    radiotherapy = radiotherapy.drop(columns=["_modality"])
    cohort = Cohort(
        tables={"patients": patients, "icb_courses": courses, "samples": public_samples,
                "mutations": genomics["mutations"], "cna": genomics["cna"],
                "panels": genomics["panels"], "expression": expr,
                "radiotherapy": radiotherapy},
        meta={
            "name": f"Simulated real-world ICB cohort (seed {seed}, {n} patients)",
            "source": f"helpers.simulate {GENERATOR_VERSION}",
            "simulated": True,
            "access": "open",
            "panel_sizes_mb": PANEL_MB,
            "version": GENERATOR_VERSION,
            "parameters": {"n_patients": n, "seed": int(seed)},
            "repairs": [],
        })
    validate(cohort, where="simulated cohort")
    truth = _truth(rng, cohort, seed, n, acquired, progressed, cls_final, died, ecog, gets_rt,
                   genomics, subtypes, panel_genes)
    return cohort, truth


# ----------------------------------------------------------------------------------------
def _rt_rows(rng: np.random.Generator, pids: np.ndarray, start: np.ndarray,
             modality_probs: dict[str, float], last_followup: np.ndarray | None,
             died: np.ndarray | None) -> pd.DataFrame:
    m = len(pids)
    mods = list(modality_probs)
    p = np.array(list(modality_probs.values()))
    modality = rng.choice(mods, size=m, p=p / p.sum())
    rows = []
    for i in range(m):
        sched = RT_SCHEDULES[modality[i]]
        total, fx, technique = sched[rng.integers(len(sched))]
        rows.append((pids[i], float(start[i]), RT_SITES[rng.integers(len(RT_SITES))], total, fx,
                     technique, modality[i]))
    return pd.DataFrame(rows, columns=["patient_id", "start_day", "site", "total_dose_gy",
                                       "fractions", "technique", "_modality"])


def _simulate_radiotherapy(rng: np.random.Generator, patient_ids: np.ndarray, gets_rt: np.ndarray,
                           rt_start: np.ndarray, last_followup: np.ndarray,
                           died: np.ndarray) -> pd.DataFrame:
    idx = np.flatnonzero(gets_rt)
    rows = _rt_rows(rng, patient_ids[idx], rt_start[idx], RT_MODALITY_PROBS, None, None)
    eqd2 = rows["total_dose_gy"] * (rows["total_dose_gy"] / rows["fractions"] + 10) / 12
    # in-field response rises with EQD2; abscopal responses are rare, a little more after SBRT
    p_in = 1 / (1 + np.exp(-(-1.6 + 0.035 * eqd2.to_numpy())))
    p_out = np.where(rows["_modality"] == "SBRT", 0.09, 0.04)
    time_to_assess = 60.0
    assessable = rt_start[idx] + time_to_assess < last_followup[idx]
    u = rng.random(len(rows))
    in_field = np.where(u < p_in * 0.3, "CR", np.where(u < p_in, "PR",
                        np.where(u < p_in + (1 - p_in) * 0.6, "SD", "PD")))
    measurable_out = rng.random(len(rows)) < 0.7
    v = rng.random(len(rows))
    out_field = np.where(v < p_out, "PR", np.where(v < p_out + 0.35, "SD", "PD"))
    rows["in_field_response"] = np.where(assessable, in_field, "NE")
    rows["out_of_field_response"] = np.where(assessable & measurable_out, out_field, None)
    rows.loc[~assessable, "out_of_field_response"] = "NE"
    return rows


def _simulate_samples(rng: np.random.Generator, patient_ids: np.ndarray, progressed: np.ndarray,
                      prog_day: np.ndarray, cls: np.ndarray, last_followup: np.ndarray,
                      msi: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
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
    samples = pd.DataFrame({
        "sample_id": _opaque_ids(rng, m, "SM"),
        "patient_id": patient_ids[pidx],
        "collection_day": day,
        "assay": assay,
        "panel_id": np.where(np.isin(assay, ["DNA", "DNA+RNA"]),
                             np.where(rng.random(m) < 0.7, PANEL_LARGE, PANEL_SMALL), None),
        "purity": np.clip(rng.beta(6, 4, m), 0.1, 0.99).round(2),
        "msi": pd.array(np.where(np.isin(assay, ["DNA", "DNA+RNA"]), msi[pidx], None),
                        dtype="boolean"),
    })
    samples["_pidx"] = pidx
    samples["_kind"] = kind
    samples["_cls"] = cls[pidx]
    return samples, kind


def _gene_weights(genes: list[str]) -> np.ndarray:
    """Deterministic pseudo coding lengths (genes differ in mutational target size)."""
    w = np.array([int(hashlib.sha256(g.encode()).hexdigest()[:8], 16) / 2**32 for g in genes])
    return np.exp(stats.norm.ppf(0.01 + 0.98 * w) * 0.6)


def _simulate_genomics(rng: np.random.Generator, samples: pd.DataFrame, kind: np.ndarray,
                       patient_ids: np.ndarray, ct: np.ndarray, tmb_true: np.ndarray,
                       panel_genes: list[str]) -> dict[str, Any]:
    genes = list(panel_genes)
    planted_genes = sorted({g for g, _ in PLANTED_LOF})
    keep_small = [g for g in genes if g in planted_genes
                  or int(hashlib.sha256(("small:" + g).encode()).hexdigest()[:8], 16) / 2**32 < 0.72]
    panels = pd.concat([pd.DataFrame({"panel_id": PANEL_LARGE, "gene": genes}),
                        pd.DataFrame({"panel_id": PANEL_SMALL, "gene": keep_small})],
                       ignore_index=True)
    on_panel = {PANEL_LARGE: np.ones(len(genes), bool),
                PANEL_SMALL: np.isin(genes, keep_small)}
    weights = _gene_weights(genes)
    gene_index = {g: j for j, g in enumerate(genes)}
    classes = list(VARIANT_MIX)
    cprobs = np.array(list(VARIANT_MIX.values()))
    cprobs = cprobs / cprobs.sum()
    trunc_classes = list(TRUNCATING)

    n = len(patient_ids)
    # latent baseline LoF of planted genes per patient, and post-ICB gains
    baseline_lof: dict[tuple[str, str], np.ndarray] = {}
    for (g, t), (p_pre, _, _) in PLANTED_LOF.items():
        baseline_lof[(g, t)] = (ct == t) & (rng.random(n) < p_pre)
    dna = samples["panel_id"].notna().to_numpy()
    pidx = samples["_pidx"].to_numpy()
    mut_rows: list[tuple] = []
    cna_rows: list[tuple] = []
    lof_carrier = {g: np.zeros(len(samples), bool) for g in planted_genes}
    gain_draw = {key: rng.random(n) for key in PLANTED_LOF}
    clonal: dict[int, list[tuple]] = {}  # patient -> baseline mutations (shared by samples)
    clonal_cna: dict[int, list[tuple]] = {}
    tmb_obs = np.full(len(samples), np.nan)
    for s in range(len(samples)):
        i = pidx[s]
        if i not in clonal:
            m = rng.poisson(tmb_true[i] * PANEL_MB[PANEL_LARGE] / 0.8)  # all classes
            gi = rng.choice(len(genes), size=m, p=weights / weights.sum())
            vc = rng.choice(classes, size=m, p=cprobs)
            clonal[i] = [(int(a), str(b), float(rng.uniform(0.05, 0.6))) for a, b in zip(gi, vc)]
            states = rng.choice([-2, -1, 1, 2], size=len(genes), p=[0.25, 0.3, 0.35, 0.1])
            altered = rng.random(len(genes)) < 0.06
            altered_idx = np.flatnonzero(altered)
            clonal_cna[i] = [(int(j), int(states[j])) for j in altered_idx
                             if states[j] != -2 or rng.random() < 0.1]
        if not dna[s]:
            continue
        panel = samples["panel_id"].iat[s]
        mask = on_panel[panel]
        muts = list(clonal[i])
        cnas = list(clonal_cna[i])
        if kind[s] in ("on", "post"):
            # keep most clonal events, add a few new subclonal ones
            muts = [mu for mu in muts if rng.random() < 0.9]
            extra = rng.poisson(0.25 * len(clonal[i]) + 0.5)
            gi = rng.choice(len(genes), size=extra, p=weights / weights.sum())
            vc = rng.choice(classes, size=extra, p=cprobs)
            muts += [(int(a), str(b), float(rng.uniform(0.05, 0.4))) for a, b in zip(gi, vc)]
        for (g, t), (p_pre, p_acq, p_prim) in PLANTED_LOF.items():
            if ct[i] != t:
                continue
            carrier = baseline_lof[(g, t)][i]
            if kind[s] == "post":
                cls_i = samples["_cls"].iat[s]
                target = p_acq if cls_i == "acquired" else p_prim
                q = max(target - p_pre, 0.0) / (1 - p_pre)
                carrier = carrier or gain_draw[(g, t)][i] < q
            if carrier:
                j = gene_index[g]
                if rng.random() < 0.2:
                    cnas = [c for c in cnas if c[0] != j] + [(j, -2)]
                else:
                    muts.append((j, trunc_classes[rng.integers(len(trunc_classes))],
                                 float(rng.uniform(0.15, 0.6))))
        sid = samples["sample_id"].iat[s]
        n_nonsyn = 0
        for j, vc, vaf in muts:
            if mask[j]:
                mut_rows.append((sid, genes[j], vc, vaf))
                n_nonsyn += vc in NONSYNONYMOUS
        seen_cna = set()
        for j, state in cnas:
            if mask[j] and j not in seen_cna:
                seen_cna.add(j)
                cna_rows.append((sid, genes[j], state))
        tmb_obs[s] = n_nonsyn / PANEL_MB[panel]
        for g in planted_genes:
            j = gene_index[g]
            if mask[j]:
                lof_carrier[g][s] = any(m[0] == j and m[1] in TRUNCATING for m in muts) or any(
                    c[0] == j and c[1] == -2 for c in cnas)
    mutations = pd.DataFrame(mut_rows, columns=["sample_id", "gene", "variant_classification",
                                                "vaf"])
    mutations["vaf"] = mutations["vaf"].round(3)
    mutations["protein_change"] = None
    mutations = mutations[["sample_id", "gene", "variant_classification", "protein_change", "vaf"]]
    cna = pd.DataFrame(cna_rows, columns=["sample_id", "gene", "copy_state"])
    samples = samples.copy()
    samples["tmb"] = np.round(tmb_obs, 2)
    return {"samples": samples, "mutations": mutations, "cna": cna, "panels": panels,
            "lof_carrier": lof_carrier, "genes": genes, "planted_genes": planted_genes,
            "small_panel_genes": keep_small}


def _simulate_expression(rng: np.random.Generator, samples: pd.DataFrame, kind: np.ndarray,
                         patient_ids: np.ndarray, ct: np.ndarray, subtype_pre: np.ndarray,
                         cls: np.ndarray, lof_carrier: dict[str, np.ndarray],
                         panel_genes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    sets = load_signature_sets()
    gene_prog: dict[str, str] = {}
    for name, genes in sets.items():
        for g in genes:
            gene_prog.setdefault(g, _programme_of(name))
    sig_genes = list(gene_prog)
    other = [g for g in panel_genes if g not in gene_prog]
    background = [f"SIMBG{j:05d}" for j in range(1, N_BACKGROUND_GENES + 1)]
    universe = sig_genes + other + background
    G = len(universe)

    rna = samples["assay"].isin(["RNA", "DNA+RNA"]).to_numpy()
    ridx = np.flatnonzero(rna)
    pidx = samples["_pidx"].to_numpy()[ridx]
    k = kind[ridx]
    # planted subtype of each RNA sample
    sub = subtype_pre[pidx].astype(object)
    cls_s = cls[pidx]
    is_post = k == "post"
    u = rng.random(len(ridx))
    to_immune = is_post & (cls_s == "acquired") & (u < 0.5)
    fibrotic_now = np.isin(sub, ["IE/F", "F"])
    sub = np.where(to_immune, np.where(fibrotic_now, "IE/F", "IE"), sub)
    to_cold = is_post & (cls_s != "acquired") & (u < 0.3)
    sub = np.where(to_cold, np.where(fibrotic_now, "F", "D"), sub).astype(object)

    ax = np.array([SUBTYPE_AXES[s] for s in sub])
    immune_axis = ax[:, 0] + rng.normal(0, 0.35, len(ridx))
    fibro_axis = ax[:, 1] + rng.normal(0, 0.35, len(ridx))
    prog_scores = {}
    for p in PROGRAMMES:
        li, lf = AXIS_LOADINGS[p]
        prog_scores[p] = li * immune_axis + lf * fibro_axis + rng.normal(0, 0.5, len(ridx))
    post_cls = np.where(cls_s == "acquired", "acquired", "primary")
    for group, shifts in POST_SHIFTS.items():
        sel = is_post & (post_cls == group)
        for p, d in shifts.items():
            prog_scores[p] = prog_scores[p] + d * sel
    carrier_rows = {}
    for g, shifts in LOF_SHIFTS.items():
        carrier = lof_carrier[g][ridx] & is_post
        carrier_rows[g] = carrier
        for p, d in shifts.items():
            prog_scores[p] = prog_scores[p] + d * carrier

    base = rng.uniform(1.5, 8.0, G)
    load = rng.uniform(0.5, 1.1, G)
    noise_sd = rng.uniform(0.3, 0.7, G)
    # background genes: no programme (a few follow proliferation weakly, as real genes do)
    P = np.stack([prog_scores[gene_prog[g]] if g in gene_prog else np.zeros(len(ridx))
                  for g in universe], axis=0)
    values = base[:, None] + load[:, None] * P + noise_sd[:, None] * rng.standard_normal(
        (G, len(ridx)))
    # a LoF alteration lowers the gene's own transcript (nonsense-mediated decay)
    gpos = {g: j for j, g in enumerate(universe)}
    for g, carrier in carrier_rows.items():
        if g in gpos:
            values[gpos[g], carrier] -= 1.5
    values = np.clip(values, 0.0, None).astype(np.float32)
    expr = pd.DataFrame(values, index=pd.Index(universe, name="gene"),
                        columns=samples["sample_id"].to_numpy()[ridx])
    subtypes = pd.DataFrame({"sample_id": samples["sample_id"].to_numpy()[ridx],
                             "planted_subtype": sub.astype(str),
                             "planted_immune_axis": immune_axis.round(4),
                             "planted_fibrotic_axis": fibro_axis.round(4)})
    return expr, subtypes


def _schoenfeld_power(log_hr: float, deaths: float, share: float, alpha: float = 0.05) -> float:
    if deaths <= 0 or share <= 0 or share >= 1:
        return 0.0
    z = abs(log_hr) * np.sqrt(deaths * share * (1 - share)) - stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.cdf(z))


def _fisher_power(rng: np.random.Generator, n1: int, p1: float, n0: int, p0: float,
                  alpha: float, draws: int = 400) -> float:
    if n1 == 0 or n0 == 0:
        return 0.0
    x1 = rng.binomial(n1, p1, draws)
    x0 = rng.binomial(n0, p0, draws)
    hits = 0
    cache: dict[tuple[int, int], float] = {}
    for a, b in zip(x1, x0):
        key = (int(a), int(b))
        if key not in cache:
            cache[key] = stats.fisher_exact([[a, n1 - a], [b, n0 - b]])[1]
        hits += cache[key] <= alpha
    return hits / draws


def _truth(rng: np.random.Generator, cohort: Cohort, seed: int, n: int, acquired: np.ndarray,
           progressed: np.ndarray, cls: np.ndarray, died: np.ndarray, ecog: np.ndarray,
           gets_rt: np.ndarray, genomics: dict[str, Any], subtypes: pd.DataFrame,
           panel_genes: list[str]) -> dict[str, Any]:
    ct = cohort.patients["cancer_type"].to_numpy()
    power_rng = np.random.default_rng([seed, 7])
    # survival after progression
    pps = {"pooled": PPS_HR_ACQUIRED,
           "per_cancer_type": {t: PPS_HR_ACQUIRED for t in CANCER_TYPES},
           "model": ("Weibull proportional hazards (shape 1.1) of survival after progression, "
                     "stratified by cancer type (own baseline per type), conditional on age, "
                     "sex, line, log2 TMB and ECOG, with RT after progression as a time-varying "
                     "term; the acquired-vs-primary hazard ratio is the same in every cancer "
                     "type (no interaction planted). Classes by the default rule "
                     "(benefit_months=6, min_exposure_weeks=6)."),
           "covariate_hr": {k: float(np.exp(v)) for k, v in PPS_LOG_HR.items()},
           "rt_hr": RT_HR}
    in_groups = progressed & np.isin(cls, ["acquired", "primary"])
    deaths = died & in_groups
    pps["power"] = {"method": "Schoenfeld formula, two-sided alpha 0.05, observed deaths"}
    pps["power"]["pooled"] = _schoenfeld_power(np.log(PPS_HR_ACQUIRED), deaths.sum(),
                                               acquired[in_groups].mean())
    pps["power"]["per_cancer_type"] = {
        t: _schoenfeld_power(np.log(PPS_HR_ACQUIRED), (deaths & (ct == t)).sum(),
                             acquired[in_groups & (ct == t)].mean()
                             if (in_groups & (ct == t)).any() else 0.0)
        for t in CANCER_TYPES}

    # acquired LoF: realised group sizes of the primary comparison and the power it gives
    samples = genomics["samples"]
    kind_cls = samples["_cls"].to_numpy()
    dna = samples["panel_id"].notna().to_numpy()
    pidx = samples["_pidx"].to_numpy()
    kinds = samples["_kind"].to_numpy()
    m_genes = len(genomics["genes"])
    lof_truth = []
    for (g, t), (p_pre, p_acq, p_prim) in PLANTED_LOF.items():
        in_t = ct[pidx] == t
        post_acq = dna & in_t & (kinds == "post") & (kind_cls == "acquired")
        post_patients = set(pidx[post_acq])
        pre = dna & in_t & (kinds == "pre") & ~np.isin(pidx, list(post_patients))
        n1, n0 = len(post_patients), len(set(pidx[pre]))
        carrier = genomics["lof_carrier"][g]
        obs = {
            "pre": float(carrier[dna & in_t & (kinds == "pre")].mean()),
            "post_acquired": float(carrier[post_acq].mean()) if post_acq.any() else None,
            "post_primary": float(carrier[dna & in_t & (kinds == "post")
                                          & (kind_cls == "primary")].mean()),
        }
        background = obs["pre"] - p_pre if obs["pre"] > p_pre else 0.0
        power = _fisher_power(power_rng, n1, min(p_acq + background, 1), n0, obs["pre"],
                              alpha=0.1 / m_genes)
        lof_truth.append({
            "gene": g, "cancer_type": t,
            "planted_prevalence_pre": p_pre, "planted_prevalence_post_acquired": p_acq,
            "planted_prevalence_post_primary": p_prim,
            "observed_prevalence": obs,
            "n_post_acquired_patients": n1, "n_pre_patients": n0,
            "power": power,
        })
    planted = {g for g, _ in PLANTED_LOF}
    null_genes = [g for g in panel_genes if g not in planted]

    # TME
    sub_tab = subtypes.copy()
    sam_idx = samples.set_index("sample_id")
    sub_tab["timepoint"] = sam_idx.loc[sub_tab["sample_id"], "_kind"].to_numpy()
    sub_tab["resistance_class"] = sam_idx.loc[sub_tab["sample_id"], "_cls"].to_numpy()
    post = sub_tab[sub_tab["timepoint"] == "post"]
    n_acq = int((post["resistance_class"] == "acquired").sum())
    n_pri = int((post["resistance_class"] == "primary").sum())
    d = POST_SHIFTS["acquired"]["ifn"] - POST_SHIFTS["primary"]["ifn"]
    tme_power = _t_power(d / 1.2, n_acq, n_pri)
    tme = {
        "subtypes_file": "truth_tme_subtypes.parquet",
        "subtypes": sub_tab,
        "subtype_names": SUBTYPE_NAMES,
        "subtype_axes": {k: list(v) for k, v in SUBTYPE_AXES.items()},
        "pre_treatment_subtype_probabilities": dict(zip(SUBTYPES, SUBTYPE_PRE_PROBS)),
        "post_progression_shifts_sd": POST_SHIFTS,
        "post_progression_subtype_moves": {
            "acquired": "half of the tumours move to an immune-enriched subtype (IE or IE/F)",
            "primary": "30% move to a non-immune subtype (F or D)"},
        "lof_carrier_shifts_sd": LOF_SHIFTS,
        "programme_axis_loadings": {k: list(v) for k, v in AXIS_LOADINGS.items()},
        "note": ("Shifts are in standard deviations of a programme score that drives every gene "
                 "of the signatures mapped to it; signature scores move in the same direction."),
        "power": {"ifn_acquired_vs_primary_post": tme_power,
                  "method": "two-sample t-test, alpha 0.05, standardised shift / 1.2"},
    }
    # RT
    ecog_prog = ecog[progressed]
    rt = {
        "hr": RT_HR,
        "model": ("RT after progression multiplies the hazard of death by hr from its first "
                  "fraction on (time-varying exposure), in the same stratified Weibull model "
                  "as pps_hr."),
        "confounder": "ecog",
        "confounding": ("ECOG performance status lowers the chance of RT after progression "
                        "(log-odds -0.9 per point) and raises the hazard of death (HR 1.55 per "
                        "point); cancer type sets the baseline RT propensity."),
        "n_progressors_with_rt": int(gets_rt.sum()),
        "rt_share_by_ecog": {str(int(e)): float(gets_rt[progressed][ecog_prog == e].mean())
                             for e in (0, 1, 2)},
        "in_field_response": "P(CR or PR) = expit(-1.6 + 0.035 EQD2) with alpha/beta 10",
        "out_of_field_response": "P(PR) = 0.09 after SBRT, 0.04 otherwise (abscopal)",
    }
    rt["power"] = {"method": "Schoenfeld formula with the share of progressors given RT",
                   "value": _schoenfeld_power(np.log(RT_HR), (died & progressed).sum(),
                                              gets_rt[progressed].mean())}
    return {
        "seed": int(seed), "n_patients": int(n), "generator_version": GENERATOR_VERSION,
        "simulated": True,
        "pps_hr": pps,
        "acquired_lof": lof_truth,
        "null_genes": null_genes,
        "tme": tme,
        "rt": rt,
        "cancer_types": {t: {"share": s.share, "p_cr": s.p_cr, "p_pr": s.p_pr, "p_sd": s.p_sd,
                             "pps_median_months_primary_reference": s.pps_median_months}
                         for t, s in CANCER_TYPES.items()},
    }


def _t_power(d: float, n1: int, n2: int, alpha: float = 0.05) -> float:
    if n1 < 2 or n2 < 2:
        return 0.0
    # normal approximation (the noncentral t is numerically fragile for large shifts)
    z = abs(d) * np.sqrt(n1 * n2 / (n1 + n2)) - stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.cdf(z))


def save_simulated(cohort: Cohort, truth: dict[str, Any], path: str | Path) -> Path:
    """Write a simulated cohort with ``truth.json`` and ``truth_tme_subtypes.parquet``."""
    truth = dict(truth)
    tme = dict(truth["tme"])
    subtypes = tme.pop("subtypes")
    truth["tme"] = tme
    return cohort.save(path, extra_json={"truth.json": truth},
                       extra_tables={"truth_tme_subtypes": subtypes})


def load_truth(path: str | Path) -> dict[str, Any]:
    """Read ``truth.json`` (and the planted subtype table) of a saved simulated cohort."""
    import json

    path = Path(path)
    truth = json.loads((path / "truth.json").read_text())
    f = path / truth["tme"]["subtypes_file"]
    if f.is_file():
        truth["tme"]["subtypes"] = pd.read_parquet(f)
    return truth
