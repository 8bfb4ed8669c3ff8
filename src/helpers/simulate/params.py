"""The planted parameters of the simulated cohort: cancer types, effects, vocabularies, schedules.

Every number that shapes the simulated cohort lives here, so that a reader can see in one place
what was planted (DESIGN §5). The generating code is in :mod:`helpers.simulate.clinical`,
:mod:`~helpers.simulate.radiotherapy`, :mod:`~helpers.simulate.samples`,
:mod:`~helpers.simulate.genomics` and :mod:`~helpers.simulate.expression`; the truths written
to ``truth.json`` are assembled in :mod:`helpers.simulate.truth`.

The order of the entries of several mappings below is part of the random stream (a category is
drawn by its position), so reordering them changes the simulated cohort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GENERATOR_VERSION = "2.0"


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
    "NSCLC": CancerTypeSpec(
        share=0.4,
        p_cr=0.03,
        p_pr=0.22,
        p_sd=0.3,
        tmb_median=8.0,
        female=0.42,
        pps_median_months=5.0,
        msi_rate=0.01,
        regimens={"anti-PD-1": 0.45, "anti-PD-L1": 0.12, "ICB+chemo": 0.38, "PD-1+CTLA-4": 0.05},
        rt_propensity=0.35,
    ),
    "Melanoma": CancerTypeSpec(
        share=0.12,
        p_cr=0.1,
        p_pr=0.3,
        p_sd=0.2,
        tmb_median=14.0,
        female=0.4,
        pps_median_months=7.5,
        msi_rate=0.0,
        regimens={"anti-PD-1": 0.55, "PD-1+CTLA-4": 0.38, "anti-CTLA-4": 0.07},
        rt_propensity=0.35,
    ),
    "RCC": CancerTypeSpec(
        share=0.09,
        p_cr=0.04,
        p_pr=0.26,
        p_sd=0.35,
        tmb_median=2.5,
        female=0.28,
        pps_median_months=8.0,
        msi_rate=0.0,
        regimens={"anti-PD-1": 0.55, "PD-1+CTLA-4": 0.45},
        rt_propensity=0.3,
    ),
    "HNSCC": CancerTypeSpec(
        share=0.09,
        p_cr=0.03,
        p_pr=0.14,
        p_sd=0.25,
        tmb_median=5.0,
        female=0.25,
        pps_median_months=4.5,
        msi_rate=0.0,
        regimens={"anti-PD-1": 0.75, "ICB+chemo": 0.25},
        rt_propensity=0.3,
    ),
    "Urothelial": CancerTypeSpec(
        share=0.09,
        p_cr=0.06,
        p_pr=0.16,
        p_sd=0.2,
        tmb_median=7.0,
        female=0.25,
        pps_median_months=4.5,
        msi_rate=0.01,
        regimens=_MONO,
        rt_propensity=0.25,
    ),
    "TNBC": CancerTypeSpec(
        share=0.06,
        p_cr=0.05,
        p_pr=0.15,
        p_sd=0.22,
        tmb_median=3.5,
        female=1.0,
        pps_median_months=5.5,
        msi_rate=0.0,
        regimens={"ICB+chemo": 0.85, "anti-PD-1": 0.15},
        rt_propensity=0.3,
    ),
    "Gastro-oesophageal": CancerTypeSpec(
        share=0.07,
        p_cr=0.02,
        p_pr=0.13,
        p_sd=0.25,
        tmb_median=4.0,
        female=0.3,
        pps_median_months=4.0,
        msi_rate=0.05,
        regimens={"anti-PD-1": 0.45, "ICB+chemo": 0.55},
        rt_propensity=0.2,
    ),
    "Other": CancerTypeSpec(
        share=0.08,
        p_cr=0.03,
        p_pr=0.15,
        p_sd=0.25,
        tmb_median=4.0,
        female=0.45,
        pps_median_months=5.0,
        msi_rate=0.04,
        regimens=_MONO,
        rt_propensity=0.25,
    ),
}

#: Shift of the best-response log-odds by regimen (anti-PD-1 monotherapy is the reference).
REGIMEN_RESPONSE_EFFECT = {
    "anti-PD-1": 0.0,
    "anti-PD-L1": -0.1,
    "anti-CTLA-4": -0.6,
    "PD-1+CTLA-4": 0.3,
    "ICB+chemo": 0.4,
}

#: The resistance-class rule the planted truths are defined with (DESIGN §4 defaults).
BENEFIT_MONTHS = 6.0
MIN_EXPOSURE_WEEKS = 6.0

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
#: primary resistance (LoF planted on top of background mutations). DESIGN §5 (revision of
#: December 2026) asks for plausible sizes. Before ICB: truncating or deep-deletion LoF of these
#: genes is found in about 1-3 % of panel- or exome-sequenced tumours of each type (cBioPortal's
#: TCGA PanCancer Atlas and MSK-IMPACT frequencies are of this order). After acquired resistance:
#: paired series are small (Zaretsky et al., N Engl J Med 2016;375:819-829: JAK1/JAK2 or B2M LoF
#: in 3 of 4 melanomas; Gettinger et al., Cancer Discov 2017;7:1420-1435: B2M loss in NSCLC), so
#: the planted post-acquired prevalences are 5-8 times the baseline (odds ratios about 7-9), not
#: the 30-60-fold of generator 1.0. B2M in NSCLC, the best-documented mechanism, is planted
#: largest (18 %, odds ratio about 14) so that the default cohort holds one effect it can detect:
#: a choice, not a published estimate. The power of each with the book's method is recorded in
#: truth.json; the others are too rare for 5,000 patients, and the book says so.
PLANTED_LOF = {
    ("B2M", "NSCLC"): (0.015, 0.18, 0.015),
    ("TGFBR2", "NSCLC"): (0.01, 0.07, 0.01),
    ("CYLD", "HNSCC"): (0.02, 0.14, 0.02),
    ("RUNX1", "TNBC"): (0.03, 0.18, 0.03),
    ("JAK1", "Melanoma"): (0.02, 0.14, 0.02),
    ("JAK2", "Melanoma"): (0.01, 0.08, 0.01),
}


@dataclass(frozen=True)
class SelectionLof:
    """A baseline LoF that selects patients into a class and is never gained (scenario ``selection``)."""

    prevalence: float  # before treatment, in the cancer type
    response_log_odds: float  # shift of the best-response log-odds in carriers
    role: str  # "predicts_benefit" or "predicts_primary_resistance"


#: Baseline-selection genes of the ``selection`` scenario, both in NSCLC (the largest type, so that
#: the trap they set is visible). STK11 LoF: about 1 in 7 panel-sequenced lung adenocarcinomas,
#: objective response 7.4 % vs 28.6 % in KRAS-only tumours (Skoulidis et al., Cancer Discov
#: 2018;8:822-835; a log-odds difference of about -1.6). ARID1A LoF: about 1 in 10 NSCLCs,
#: associated with longer progression-free survival on anti-PD-(L)1 (Okamura et al., J Immunother
#: Cancer 2020, pan-cancer). The scenario needs the pattern, not its truth.
SELECTION_LOF = {
    ("STK11", "NSCLC"): SelectionLof(0.14, -1.5, "predicts_primary_resistance"),
    ("ARID1A", "NSCLC"): SelectionLof(0.12, 1.6, "predicts_benefit"),
}

#: Horizon of the planted restricted-mean-survival-time difference (``truth["pps_rmst"]``).
PPS_RMST_MONTHS = 12.0

#: Scenario ``rt_confounded``: decline of ECOG performance status at progression (points, drawn
#: with these probabilities), a factor that arises at progression. Each point raises the hazard
#: of death as a baseline ECOG point does and lowers the log-odds of RT after progression by
#: RT_DECLINE_LOG_ODDS (a patient who declines is less often fit for salvage RT).
PS_DECLINE_PROBS = (0.6, 0.28, 0.12)
RT_DECLINE_LOG_ODDS = -1.2

#: Scenario ``tme_by_type_and_site``: offsets of the (immune, fibrotic) subtype axes by cancer
#: type and by biopsy site (latent units, the axes' within-subtype SD is 0.35). Melanoma and
#: NSCLC are more inflamed (Bagaev et al., Cancer Cell 2021, Fig. 2: the immune-enriched
#: subtypes are most common in melanoma and lung), lymph-node biopsies carry lymphocytes and
#: liver metastases are immune-excluded.
TME_TYPE_OFFSETS = {
    "NSCLC": (0.4, 0.1),
    "Melanoma": (1.0, -0.3),
    "RCC": (0.3, 0.5),
    "HNSCC": (0.1, 0.2),
    "Urothelial": (-0.2, 0.0),
    "TNBC": (-0.6, 0.3),
    "Gastro-oesophageal": (-0.6, 0.4),
    "Other": (-0.3, 0.0),
}
TME_SITE_OFFSETS = {
    "primary": (0.0, 0.3),
    "lymph node": (1.2, -0.4),
    "liver": (-1.0, 0.2),
    "lung": (0.1, 0.0),
    "other": (-0.2, 0.0),
}
#: Biopsy sites: pre-treatment samples (mostly the primary tumour), and post-progression biopsies
#: by class — acquired resistance after a durable response often progresses in lymph nodes only
#: (Heo et al., Sci Rep, "Clinical pattern of failure after a durable response to immune
#: checkpoint inhibitors in non-small cell lung cancer patients").
SITE_PROBS_PRE = {"primary": 0.65, "lymph node": 0.12, "liver": 0.08, "lung": 0.08, "other": 0.07}
SITE_PROBS_POST = {
    "acquired": {"primary": 0.15, "lymph node": 0.45, "liver": 0.08, "lung": 0.12, "other": 0.20},
    "other": {"primary": 0.15, "lymph node": 0.15, "liver": 0.35, "lung": 0.12, "other": 0.23},
}

#: TME programmes that shape expression; every signature gene is driven by one programme.
PROGRAMMES = (
    "immune",
    "ifn",
    "mhci",
    "exhaustion",
    "myeloid",
    "stroma",
    "angio",
    "proliferation",
    "emt",
    "tgfb",
    "wnt",
    "glycolysis",
    "oxphos",
)
#: Loadings of each programme on the two subtype axes (immune, fibrotic).
AXIS_LOADINGS = {
    "immune": (1.0, 0.0),
    "ifn": (0.9, 0.0),
    "mhci": (0.6, 0.0),
    "exhaustion": (0.8, 0.0),
    "myeloid": (0.6, 0.3),
    "stroma": (0.0, 1.0),
    "angio": (0.0, 0.8),
    "emt": (0.0, 0.6),
    "tgfb": (0.0, 0.7),
    "proliferation": (-0.3, -0.3),
    "wnt": (-0.2, 0.0),
    "glycolysis": (0.0, 0.0),
    "oxphos": (0.0, 0.0),
}
#: Means of the (immune, fibrotic) axes per subtype (the subtypes of helpers.units.SUBTYPES).
SUBTYPE_AXES = {"IE/F": (1.0, 1.0), "IE": (1.1, -0.9), "F": (-0.9, 1.1), "D": (-1.0, -0.9)}
#: Probabilities of the subtypes before ICB, in the order of helpers.units.SUBTYPES.
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
PROGRAMME_OF_SET = (
    ("MHCI", "mhci"),
    ("ANTIGEN_PRESENTATION", "mhci"),
    ("IFNG", "ifn"),
    ("TCELL_INFLAMED", "ifn"),
    ("CHECKPOINT", "exhaustion"),
    ("DYSFUNCTION", "exhaustion"),
    ("NEUTROPHIL", "myeloid"),
    ("GRANULOCYTE", "myeloid"),
    ("MDSC", "myeloid"),
    ("MACROPHAGE", "myeloid"),
    ("PROTUMOR", "myeloid"),
    ("CAF", "stroma"),
    ("MATRIX", "stroma"),
    ("ANGIO", "angio"),
    ("ENDOTHELIUM", "angio"),
    ("PROLIFERATION", "proliferation"),
    ("EMT", "emt"),
    ("TGFB", "tgfb"),
    ("WNT", "wnt"),
    ("GLYCOLYSIS", "glycolysis"),
    ("OXPHOS", "oxphos"),
)

#: Share of each MAF class among the simulated background mutations.
VARIANT_MIX = {
    "Missense_Mutation": 0.600,
    "Silent": 0.200,
    "Nonsense_Mutation": 0.060,
    "Frame_Shift_Del": 0.035,
    "Frame_Shift_Ins": 0.015,
    "Splice_Site": 0.030,
    "Splice_Region": 0.030,
    "In_Frame_Del": 0.015,
    "In_Frame_Ins": 0.005,
    "Translation_Start_Site": 0.006,
    "Nonstop_Mutation": 0.004,
}
#: The truncating classes a planted LoF is drawn from, and that make a sample a LoF carrier in
#: the truth. Written here, not taken from helpers.data.maf, for the same reason as the class
#: rule of helpers.simulate.classes: the truth must not inherit a mistake of the book's
#: vocabulary (tests check that the two agree). The order is part of the random stream.
TRUNCATING = (
    "Nonsense_Mutation",
    "Frame_Shift_Del",
    "Frame_Shift_Ins",
    "Splice_Site",
    "Translation_Start_Site",
    "Nonstop_Mutation",
)
#: Classes counted in the simulated panel TMB (coding and protein-changing).
NONSYNONYMOUS = tuple(v for v in VARIANT_MIX if v not in ("Silent", "Splice_Region"))
#: copy_state of a deep (homozygous) deletion, the other kind of LoF.
DEEP_DELETION = -2
N_BACKGROUND_GENES = 3000
PANEL_LARGE, PANEL_SMALL = "SIM-P468", "SIM-P341"
PANEL_MB = {PANEL_LARGE: 1.22, PANEL_SMALL: 0.98}

RT_SCHEDULES = {  # modality -> list of (total Gy, fractions, technique)
    "SBRT": [
        (24.0, 3, "SBRT"),
        (30.0, 5, "SBRT"),
        (27.0, 3, "SBRT"),
        (20.0, 1, "SRS"),
        (40.0, 5, "SBRT"),
        (50.0, 4, "SBRT"),
    ],
    "hypofractionated": [(30.0, 10, "3D-CRT"), (20.0, 5, "3D-CRT"), (8.0, 1, "3D-CRT"), (36.0, 12, "IMRT")],
    "conventional": [(50.0, 25, "IMRT"), (60.0, 30, "IMRT"), (45.0, 25, "3D-CRT")],
    "low_dose": [(2.0, 2, "low-dose"), (4.0, 4, "low-dose"), (2.0, 1, "low-dose")],
}
#: Modality of RT after progression, and of RT before the index course.
RT_MODALITY_PROBS = {"SBRT": 0.35, "hypofractionated": 0.40, "conventional": 0.17, "low_dose": 0.08}
PRIOR_RT_MODALITY_PROBS = {"conventional": 0.6, "hypofractionated": 0.25, "SBRT": 0.15}
RT_SITES = ("bone", "brain", "lung", "lymph node", "liver", "soft tissue", "adrenal")
