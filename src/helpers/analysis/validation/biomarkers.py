"""Pooled pre-treatment biomarkers: do the ICB signatures predict response and survival?

Every public cohort with pre-treatment RNA (:data:`helpers.analysis.tme.PUBLIC_RNA_COHORTS`)
is scored as chapter 5 scores a cohort (:func:`helpers.analysis.tme.score_public_cohort`:
ssGSEA, scaled against the shipped reference, or within the cohort where too few genes are
public, as in IMvigor210). Then, per cohort and signature:

* **objective response** (CR/PR against SD/PD; NE, MR and missing responses left out): the log
  odds ratio per standard deviation of the scaled score, from a logistic regression
  (statsmodels ``Logit``) on ``1 + z``;
* **overall survival**: the log hazard ratio per standard deviation, from a Cox model (Efron
  ties, lifelines through :func:`helpers.stats.survival.cox`) on ``z``.

``z`` is the scaled score divided by its standard deviation (ddof 1) among the patients of that
analysis in that cohort: "per SD" is per *within-cohort* SD, so the estimates of cohorts with
different scalings are on one scale. The cohort estimates of each signature are pooled by a
DerSimonian–Laird random-effects model with Hartung–Knapp intervals
(:func:`helpers.stats.meta.random_effects_hk`), over all cohorts and, as a sensitivity
analysis, over the melanoma anti-PD-1 cohorts alone; Benjamini–Hochberg q-values are taken
over the signatures within each outcome and analysis.

Overlapping cohorts are never pooled together (:data:`OVERLAP_SETS`, :func:`check_no_overlap`):
MORRISON-1 re-analyses the Riaz, Gide and Van Allen patients but has neither an expression
matrix nor event status, so those three cohorts enter from their own folders and MORRISON-1 is
left out (:data:`LEFT_OUT`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

from helpers.analysis import tme
from helpers.analysis.result import AnalysisResult
from helpers.analysis.validation.public import NOT_FOUND, PUBLIC_COHORTS, PublicCohorts
from helpers.errors import ParameterError
from helpers.stats import survival as sv
from helpers.stats.meta import random_effects_hk
from helpers.stats.multiple import benjamini_hochberg

__all__ = [
    "BIOMARKER_COHORTS",
    "HEADLINE_SIGNATURES",
    "LEFT_OUT",
    "MIN_EVENTS",
    "OUTCOMES",
    "OVERLAP_SETS",
    "BiomarkerMeta",
    "biomarker_data",
    "biomarker_meta",
    "check_no_overlap",
    "cohort_estimates",
    "logit_per_sd",
    "cox_per_sd",
    "pool_estimates",
]

#: The cohorts of the pooled analysis: every public cohort with a pre-treatment expression matrix,
#: in the chapter's order.
BIOMARKER_COHORTS: tuple[str, ...] = tuple(f for f in PUBLIC_COHORTS if f in tme.PUBLIC_RNA_COHORTS)

#: The four signatures with a forest plot, with their names on the page.
HEADLINE_SIGNATURES: dict[str, str] = {
    "IFNG_AYERS2017": "IFN-γ (Ayers 2017, 6 genes)",
    "TCELL_INFLAMED_GEP": "T-cell-inflamed GEP (18 genes)",
    "CYTOLYTIC_ACTIVITY": "cytolytic activity (GZMA, PRF1)",
    "ANTIGEN_PRESENTATION_MHCI": "MHC class I antigen presentation",
}

#: The two outcomes and the name of their effect.
OUTCOMES: dict[str, str] = {"response": "odds ratio of response", "overall survival": "hazard ratio of death"}

#: Fewest patients in each outcome class (responders and non-responders; deaths) for an estimate.
MIN_EVENTS = 5

#: Sets of public cohorts that share patients (README and SOURCE.md of ../shared/data/public).
#: At most one cohort of each set may enter a pooled analysis.
OVERLAP_SETS: tuple[frozenset[str], ...] = (
    frozenset({"morrison1_melanoma_campbell2023", "riaz2017_melanoma_nivolumab"}),
    frozenset({"morrison1_melanoma_campbell2023", "gide2019_melanoma_pd1"}),
    frozenset({"morrison1_melanoma_campbell2023", "vanallen2015_melanoma_ctla4"}),
    frozenset(
        {
            "chowell2021_pancancer_msk",
            "samstein2019_tmb_mskcc",
            "rizvi2018_nsclc_msk",
            "chang2024_loris_validation_cohorts",
        }
    ),
)

_NO_RNA = "no expression matrix, so no signature can be scored"
#: Public cohorts left out of the pooled analysis, and why.
LEFT_OUT: dict[str, str] = {
    "morrison1_melanoma_campbell2023": (
        "only the authors' own signature scores (no expression matrix) and no event status; its "
        "'038', 'gide' and 'va' sub-cohorts are the Riaz, Gide and Van Allen patients, which enter "
        "from their own folders with gene-level RNA and survival events"
    ),
    "chowell2021_pancancer_msk": _NO_RNA,
    "chang2024_loris_validation_cohorts": _NO_RNA,
    "samstein2019_tmb_mskcc": _NO_RNA,
    "rizvi2018_nsclc_msk": _NO_RNA,
}


def check_no_overlap(folders: Iterable[str]) -> None:
    """Raise :class:`~helpers.errors.ParameterError` if two of ``folders`` share patients."""
    chosen = set(folders)
    clashes = [sorted(s & chosen) for s in OVERLAP_SETS if len(s & chosen) > 1]
    if clashes:
        raise ParameterError(
            "cohorts that share patients cannot be pooled together: "
            + "; ".join(" and ".join(c) for c in clashes)
        )


# ----------------------------------------------------------------------------------------
# one cohort
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BiomarkerCohort:
    """One public cohort's pre-treatment tumours, scores and outcomes (per patient).

    Attributes
    ----------
    folder, label : str
        Folder name and label of the cohort.
    patients : pandas.DataFrame
        One row per patient with a pre-treatment RNA sample: ``responder`` (boolean, missing
        for NE/MR/no response), ``os_months``, ``os_event`` and one column of scaled scores
        per signature. Source identifiers stay here; no published table shows them.
    cancer_type, agent, drug_class : str
        Cancer type, the agents given (with counts where they differ) and the drug class.
    scaling : str
        ``"shipped reference"`` or ``"within-cohort"``.
    melanoma_pd1 : bool
        Melanoma treated with anti-PD-1 alone (the sensitivity analysis).
    """

    folder: str
    label: str
    patients: pd.DataFrame
    cancer_type: str
    agent: str
    drug_class: str
    scaling: str
    melanoma_pd1: bool


def _agent(clinical: pd.DataFrame) -> str:
    """The agents of a cohort's patients, e.g. ``nivolumab 27, nivolumab + ipilimumab 4``."""
    column = "src_drug" if "src_drug" in clinical.columns else "treatment"
    counts = clinical[column].dropna().astype(str).value_counts()
    if len(counts) == 1:
        return str(counts.index[0])
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def biomarker_data(public_dir: str | Path, folder: str, signatures: Iterable[str]) -> BiomarkerCohort:
    """Score one public cohort's pre-treatment RNA and join its response and overall survival.

    Response comes from :func:`helpers.analysis.tme.public_rna_samples` (CR/PR against SD/PD);
    overall survival is ``os_months``/``os_event`` of the tidy ``clinical.tsv``, whose event
    flags are already corrected where a source inverted them (Miao 2018, see its SOURCE.md).
    """
    scored = tme.score_public_cohort(public_dir, folder)
    samples = scored.samples
    clinical = pd.read_csv(Path(public_dir) / folder / "clinical.tsv", sep="\t", dtype={"patient_id": str})
    clinical = clinical[clinical["patient_id"].isin(samples["patient_id"])]
    survival = clinical.set_index("patient_id")[["os_months", "os_event"]]
    table = samples[["sample_id", "patient_id", "responder"]].join(survival, on="patient_id")
    wanted = [s for s in signatures if s in scored.tme.available([s])]
    scores = scored.tme.scaled.loc[wanted, table["sample_id"]].T.reset_index(drop=True)
    table = pd.concat([table.reset_index(drop=True), scores], axis=1)
    cancer = str(clinical["cancer_type"].mode().iat[0])
    drug_class = str(clinical["drug_class"].mode().iat[0])
    return BiomarkerCohort(
        folder=folder,
        label=PUBLIC_COHORTS[folder].split(" (")[0],
        patients=table,
        cancer_type=cancer,
        agent=_agent(clinical),
        drug_class=drug_class,
        scaling=scored.tme.mode,
        melanoma_pd1=cancer.lower() == "melanoma" and set(clinical["drug_class"].dropna()) == {"PD-1"},
    )


def _per_sd(score: pd.Series) -> tuple[np.ndarray, float]:
    """The score divided by its standard deviation (ddof 1), and that SD."""
    values = score.to_numpy(dtype=float)
    sd = float(np.std(values, ddof=1))
    return values / sd, sd


def logit_per_sd(responder: pd.Series, score: pd.Series) -> dict[str, float]:
    """Log odds ratio of response per within-cohort SD of ``score`` (statsmodels ``Logit``).

    Returns ``log_effect``, ``se``, ``p`` (Wald) and ``sd``; NaN (with ``note``) when the fit
    does not converge or the score separates responders from non-responders.
    """
    z, sd = _per_sd(score)
    y = responder.to_numpy(dtype=float)
    design = sm.add_constant(z, has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            fit = sm.Logit(y, design).fit(disp=0, maxiter=100)
        except (PerfectSeparationWarning, ConvergenceWarning, np.linalg.LinAlgError):
            nan = float("nan")
            return {"log_effect": nan, "se": nan, "p": nan, "sd": sd, "note": "no estimate (separation)"}
    if not fit.mle_retvals.get("converged", False):
        nan = float("nan")
        return {"log_effect": nan, "se": nan, "p": nan, "sd": sd, "note": "no estimate (no convergence)"}
    return {
        "log_effect": float(fit.params[1]),
        "se": float(fit.bse[1]),
        "p": float(fit.pvalues[1]),
        "sd": sd,
        "note": "",
    }


def cox_per_sd(months: pd.Series, event: pd.Series, score: pd.Series) -> dict[str, float]:
    """Log hazard ratio of death per within-cohort SD of ``score`` (Cox, Efron ties)."""
    z, sd = _per_sd(score)
    frame = pd.DataFrame({"months": months.to_numpy(dtype=float), "event": event.to_numpy(dtype=int), "z": z})
    model = sv.cox(frame, "months", "event")
    return {
        "log_effect": float(model.params_["z"]),
        "se": float(model.standard_errors_["z"]),
        "p": float(model.summary.loc["z", "p"]),
        "sd": sd,
        "note": "",
    }


def cohort_estimates(cohort: BiomarkerCohort, signatures: Iterable[str]) -> pd.DataFrame:
    """Per signature and outcome, the cohort's log odds or hazard ratio per within-cohort SD.

    One row per (outcome, signature) with ``n``, ``events`` (responders; deaths), ``sd`` of
    the scaled score, ``log_effect``, ``se``, ``ci_low``/``ci_high`` (log scale, Wald 95%),
    ``effect``/``effect_low``/``effect_high`` (exponentiated), ``p`` and ``note`` (why there
    is no estimate). An outcome with fewer than :data:`MIN_EVENTS` in a class gives no rows.
    """
    pts = cohort.patients
    rows = []
    response = pts[pts["responder"].notna()]
    n_resp = int(response["responder"].sum()) if len(response) else 0
    survival = pts[pts["os_months"].notna() & pts["os_event"].notna()]
    deaths = int(survival["os_event"].sum()) if len(survival) else 0
    for signature in signatures:
        if signature not in pts.columns:
            continue
        if min(n_resp, len(response) - n_resp) >= MIN_EVENTS:
            fit = logit_per_sd(response["responder"].astype(bool), response[signature])
            rows.append(
                {"outcome": "response", "signature": signature, "n": len(response), "events": n_resp, **fit}
            )
        if min(deaths, len(survival) - deaths) >= MIN_EVENTS:
            fit = cox_per_sd(survival["os_months"], survival["os_event"], survival[signature])
            rows.append(
                {
                    "outcome": "overall survival",
                    "signature": signature,
                    "n": len(survival),
                    "events": deaths,
                    **fit,
                }
            )
    columns = ["outcome", "signature", "n", "events", "sd", "log_effect", "se", "p", "note"]
    table = pd.DataFrame(rows, columns=columns)
    table["ci_low"] = table["log_effect"] - 1.959963984540054 * table["se"]
    table["ci_high"] = table["log_effect"] + 1.959963984540054 * table["se"]
    for name, source in (("effect", "log_effect"), ("effect_low", "ci_low"), ("effect_high", "ci_high")):
        table[name] = np.exp(table[source])
    table.insert(0, "cohort", cohort.label)
    table.insert(1, "folder", cohort.folder)
    return table


# ----------------------------------------------------------------------------------------
# pooling
# ----------------------------------------------------------------------------------------
#: The analyses: all cohorts, and the melanoma anti-PD-1 cohorts alone.
ANALYSES = ("all cohorts", "melanoma anti-PD-1")


def pool_estimates(estimates: pd.DataFrame, analysis: str = "all cohorts") -> pd.DataFrame:
    """Random-effects (DL, Hartung–Knapp) pool of each outcome × signature of ``estimates``.

    ``estimates`` holds rows of :func:`cohort_estimates` (cohorts that share no patients). A
    pair with fewer than two cohort estimates is reported with ``k`` and NaN. BH q-values are
    taken over the signatures within each outcome.
    """
    check_no_overlap(estimates["folder"].unique())
    rows = []
    usable = estimates[np.isfinite(estimates["log_effect"]) & np.isfinite(estimates["se"])]
    for (outcome, signature), group in usable.groupby(["outcome", "signature"], sort=False):
        row: dict[str, object] = {
            "analysis": analysis,
            "outcome": outcome,
            "signature": signature,
            "k": len(group),
            "cohorts": ", ".join(group["cohort"]),
            "patients": int(group["n"].sum()),
            "events": int(group["events"].sum()),
        }
        if len(group) >= 2:
            res = random_effects_hk(group["log_effect"], group["se"])
            row.update(
                log_estimate=res.estimate,
                se=res.se,
                ci_low=res.ci_low,
                ci_high=res.ci_high,
                p=res.p,
                tau2=res.tau2,
                i2=res.i2,
                q=res.q,
                df=res.df,
                p_q=res.p_q,
                hk_factor=res.hk_factor,
            )
        rows.append(row)
    columns = [
        "analysis", "outcome", "signature", "k", "cohorts", "patients", "events", "log_estimate", "se",
        "ci_low", "ci_high", "p", "tau2", "i2", "q", "df", "p_q", "hk_factor",
    ]  # fmt: skip
    table = pd.DataFrame(rows).reindex(columns=columns)
    for name, source in (("effect", "log_estimate"), ("effect_low", "ci_low"), ("effect_high", "ci_high")):
        table[name] = np.exp(table[source].astype(float))
    table["q_bh"] = np.nan
    for _, idx in table.groupby("outcome", sort=False).groups.items():
        table.loc[idx, "q_bh"] = benjamini_hochberg(table.loc[idx, "p"].astype(float).to_numpy())
    return table


def _ci_text(effect: float, low: float, high: float) -> str:
    """``1.52 (0.98–2.36)``, or empty when there is no estimate."""
    if not np.isfinite(effect):
        return ""
    return f"{effect:.2f} ({low:.2f}–{high:.2f})"


def _p_text(p: float) -> str:
    """A p- or q-value as journals print it."""
    if not np.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def summary_table(pooled: pd.DataFrame) -> pd.DataFrame:
    """One row per signature: each outcome's pooled effect (95% HK CI), p, BH q, I², τ², k."""
    out = pd.DataFrame(index=pd.Index(pooled["signature"].unique(), name="signature"))
    for outcome, effect in (("response", "OR"), ("overall survival", "HR")):
        part = pooled[pooled["outcome"] == outcome].set_index("signature").reindex(out.index)
        short = "response" if outcome == "response" else "OS"
        out[f"{short}: cohorts"] = part["k"].astype("Int64")
        out[f"{short}: {effect} per SD (95% CI)"] = [
            _ci_text(*v) for v in part[["effect", "effect_low", "effect_high"]].astype(float).to_numpy()
        ]
        out[f"{short}: p"] = part["p"].astype(float).map(_p_text)
        out[f"{short}: q (BH)"] = part["q_bh"].astype(float).map(_p_text)
        out[f"{short}: I² (%)"] = part["i2"].astype(float).round(0)
        out[f"{short}: τ²"] = part["tau2"].astype(float).round(3)
    return out


# ----------------------------------------------------------------------------------------
# the chapter's result
# ----------------------------------------------------------------------------------------
@dataclass(kw_only=True)
class BiomarkerMeta(AnalysisResult):
    """The pooled biomarker analysis of chapter 7.

    Attributes
    ----------
    cohorts
        One row per cohort that entered: cancer type, ICB agent, drug class, scaling, patients
        with RNA, response-evaluable patients and responders, OS patients and deaths, and
        whether it is in the melanoma anti-PD-1 analysis.
    left_out
        Public cohorts not in the analysis and why.
    estimates
        :func:`cohort_estimates` of every cohort (with ``cancer_type`` and ``agent``).
    pooled
        :func:`pool_estimates` of both analyses (``analysis`` column).
    summary, sensitivity
        :func:`summary_table` of all cohorts and of the melanoma anti-PD-1 cohorts.
    """

    cohorts: pd.DataFrame
    left_out: pd.DataFrame
    estimates: pd.DataFrame
    pooled: pd.DataFrame
    summary: pd.DataFrame
    sensitivity: pd.DataFrame

    def pooled_row(self, signature: str, outcome: str, analysis: str = "all cohorts") -> pd.Series | None:
        """The pooled row of one signature, outcome and analysis (None if absent)."""
        p = self.pooled
        rows = p[(p["signature"] == signature) & (p["outcome"] == outcome) & (p["analysis"] == analysis)]
        return rows.iloc[0] if len(rows) else None


def _empty(missing: str) -> BiomarkerMeta:
    """The result of a run without public cohorts."""
    empty = pd.DataFrame()
    return BiomarkerMeta(
        missing=missing,
        cohorts=empty,
        left_out=empty,
        estimates=empty,
        pooled=empty,
        summary=empty,
        sensitivity=empty,
    )


def biomarker_meta(
    public: PublicCohorts,
    signatures: Sequence[str] = tme.ICB_SIGNATURES,
    cohorts: Sequence[str] = BIOMARKER_COHORTS,
) -> BiomarkerMeta:
    """Per-cohort and pooled associations of the ICB signatures with response and survival.

    Parameters
    ----------
    public
        The chapter's public cohorts (only their folder is read).
    signatures
        Signatures of ``data/signatures/icb_signatures.gmt`` (default: all twelve).
    cohorts
        Public cohorts with RNA to pool; two that share patients are refused.

    Raises
    ------
    helpers.errors.ParameterError
        ``cohorts`` holds two cohorts that share patients, or a cohort without RNA.
    """
    check_no_overlap(cohorts)
    if public.directory is None:
        return _empty(public.missing or NOT_FOUND)
    present = [f for f in cohorts if (public.directory / f / "expression.tsv.gz").is_file()]
    if len(present) < 2:
        return _empty("Fewer than two public cohorts with RNA were found, so nothing can be pooled.")
    signatures = list(signatures)
    described, estimates = [], []
    for folder in present:
        data = biomarker_data(public.directory, folder, signatures)
        pts = data.patients
        response = pts["responder"].dropna()
        survival = pts[pts["os_months"].notna() & pts["os_event"].notna()]
        described.append(
            {
                "cohort": data.label,
                "cancer type": data.cancer_type,
                "ICB agent": data.agent,
                "drug class": data.drug_class,
                "score scaling": data.scaling,
                "patients with pre-treatment RNA": len(pts),
                "response: evaluable": len(response),
                "response: responders (CR/PR)": int(response.sum()),
                "OS: patients": len(survival),
                "OS: deaths": int(survival["os_event"].sum()),
                "melanoma anti-PD-1 analysis": "yes" if data.melanoma_pd1 else "no",
            }
        )
        est = cohort_estimates(data, signatures)
        est.insert(2, "cancer_type", data.cancer_type)
        est.insert(3, "agent", data.agent)
        est.insert(4, "drug_class", data.drug_class)
        est.insert(5, "melanoma_pd1", data.melanoma_pd1)
        estimates.append(est)
    estimates_table = pd.concat(estimates, ignore_index=True)
    melanoma = estimates_table[estimates_table["melanoma_pd1"]]
    pooled = pd.concat(
        [pool_estimates(estimates_table, ANALYSES[0]), pool_estimates(melanoma, ANALYSES[1])],
        ignore_index=True,
    )
    left_out = pd.DataFrame(
        [
            {"cohort": PUBLIC_COHORTS[f], "why it is not pooled": LEFT_OUT.get(f, "not found")}
            for f in PUBLIC_COHORTS
            if f not in present
        ],
        columns=["cohort", "why it is not pooled"],
    )
    return BiomarkerMeta(
        cohorts=pd.DataFrame(described).set_index("cohort"),
        left_out=left_out,
        estimates=estimates_table,
        pooled=pooled,
        summary=summary_table(pooled[pooled["analysis"] == ANALYSES[0]]),
        sensitivity=summary_table(pooled[pooled["analysis"] == ANALYSES[1]]),
    )
