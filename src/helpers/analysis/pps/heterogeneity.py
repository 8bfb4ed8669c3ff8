"""Chapter 3, is the acquired-vs-primary difference the same in every cancer type?

"In every cancer type" is a claim to test (DESIGN §4). This module gives the chapter:

- :func:`interaction_table`: the likelihood-ratio test of the class × cancer-type interaction in
  the primary model (Cox, stratified by cancer type, adjusted), over the cancer types with their
  own estimate;
- :func:`heterogeneity_table`: Cochran's Q, I² and the DerSimonian–Laird τ² over the per-type
  hazard ratios, and their random-effects mean;
- :func:`shrinkage_table`: every per-type hazard ratio (also those of types with fewer deaths
  than ``min_events_per_group``) beside its empirical-Bayes shrunken estimate, which pulls it
  towards the random-effects mean by ``1 − τ²/(τ² + se²)`` and equals that mean when τ² = 0;
- :func:`rmst_table`: the restricted-mean-survival-time difference (acquired − primary) up to
  ``rmst_months`` per cancer type and standardised over the types, a summary that needs no
  proportional hazards;
- :func:`complete_case_table`: what the complete-case step of a model costs, covariate by
  covariate.

The log-rank test stratified by cancer type, as the model is, is a row of
:func:`helpers.analysis.pps.logrank_table`. The statistics are :mod:`helpers.stats.heterogeneity`
and :mod:`helpers.stats.rmst`; this module knows the chapter's tables
(:mod:`helpers.analysis.pps.sets`, :mod:`helpers.analysis.pps.models`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from helpers.analysis.pps.models import AdjustedCox, fit_adjusted_cox
from helpers.analysis.pps.sets import COVARIATE_SHORT, COVARIATES
from helpers.errors import positive_number, require_columns
from helpers.stats import heterogeneity as het
from helpers.stats.rmst import stratified_rmst_difference

__all__ = [
    "INTERACTION_COLUMNS",
    "HETEROGENEITY_COLUMNS",
    "SHRINKAGE_COLUMNS",
    "RMST_COLUMNS",
    "POOLED_RMST",
    "interaction_table",
    "heterogeneity_table",
    "shrinkage_table",
    "rmst_table",
    "complete_case_table",
    "check_rmst_months",
]

INTERACTION_COLUMNS = ["test", "cancer_types", "reference", "patients", "deaths", "chi2", "df", "p"]
HETEROGENEITY_COLUMNS = [
    "cancer_types",
    "q",
    "df",
    "p",
    "i2_percent",
    "tau2",
    "hr_random",
    "ci_low",
    "ci_high",
    "hr_fixed",
]
SHRINKAGE_COLUMNS = [
    "cancer_type",
    "deaths_acquired",
    "deaths_primary",
    "few_deaths",
    "in_heterogeneity",
    "hr",
    "ci_low",
    "ci_high",
    "weight_own",
    "shrunken_hr",
    "shrunken_ci_low",
    "shrunken_ci_high",
    "status",
]
RMST_COLUMNS = [
    "set",
    "n_acquired",
    "n_primary",
    "rmst_acquired",
    "rmst_primary",
    "difference",
    "ci_low",
    "ci_high",
    "p",
    "weight",
    "status",
]

_Z = float(stats.norm.isf(0.025))

#: What the pooled RMST row is called.
POOLED_RMST = "all cancer types (standardised)"


def check_rmst_months(rmst_months: float) -> float:
    """``rmst_months`` as a float; InputError unless it is a finite number > 0."""
    return positive_number(rmst_months, "rmst_months")


def _estimated(per_type: pd.DataFrame, min_events_per_group: int) -> pd.DataFrame:
    """Per-type rows with an estimate and at least ``min_events_per_group`` deaths in each class."""
    require_columns(
        per_type,
        ["cancer_type", "deaths_acquired", "deaths_primary", "hr", "ci_low", "ci_high", "status"],
        "per_type",
    )
    fewest = per_type[["deaths_acquired", "deaths_primary"]].min(axis=1)
    keep = (per_type["status"] == "estimated") & (fewest >= int(min_events_per_group))
    return per_type[keep]


def _log_hr_and_se(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """log HR and its SE from the 95% Wald interval (lifelines' CI is exp(b ± z se) exactly)."""
    log_hr = np.log(rows["hr"].to_numpy(dtype=float))
    se = (np.log(rows["ci_high"].to_numpy(dtype=float)) - np.log(rows["ci_low"].to_numpy(dtype=float))) / (
        2 * _Z
    )
    return log_hr, se


# --------------------------------------------------------------------------------------------
# interaction, heterogeneity and shrinkage
# --------------------------------------------------------------------------------------------


def interaction_table(
    pps_set: pd.DataFrame,
    per_type: pd.DataFrame,
    min_events_per_group: int = 10,
    covariates: Sequence[str] = COVARIATES,
) -> pd.DataFrame:
    """Likelihood-ratio test of the class × cancer-type interaction in the primary model.

    Both models are the primary model (Cox, stratified by cancer type, adjusted for the
    covariates the cohort records; complete cases) fitted on the patients of the cancer types
    with their own estimate (``per_type`` rows ``estimated`` with at least
    ``min_events_per_group`` deaths in each class): without and with one acquired × type term
    per type but the reference (the type with the most deaths). A type with very few deaths
    would add a product term the data cannot estimate, so the test covers the types the forest
    plot shows.

    Returns
    -------
    pandas.DataFrame
        One row, :data:`INTERACTION_COLUMNS`; ``chi2``, ``df`` and ``p`` are NaN (and ``test``
        says why) when fewer than two types have an estimate.
    """
    require_columns(pps_set, ["cancer_type", "acquired", "pps_months", "pps_event", *covariates], "pps_set")
    types = sorted(_estimated(per_type, min_events_per_group)["cancer_type"].astype(str))
    row: dict[str, Any] = {
        "test": "likelihood ratio, acquired × cancer type (stratified Cox, adjusted)",
        "cancer_types": len(types),
        "reference": "",
        "patients": 0,
        "deaths": 0,
        "chi2": np.nan,
        "df": np.nan,
        "p": np.nan,
    }
    if len(types) < 2:
        row["test"] = "not tested: fewer than two cancer types have their own estimate"
        return pd.DataFrame([row], columns=INTERACTION_COLUMNS)
    subset = pps_set[pps_set["cancer_type"].astype(str).isin(types)]
    # the complete-case frame and the covariates the cohort records, exactly as the primary model
    base = fit_adjusted_cox(subset, "pps_months", "pps_event", "acquired", covariates, strata="cancer_type")
    # a type whose own model dropped a covariate it lacks can lose all its complete cases here
    both = base.data.groupby("cancer_type")["acquired"].nunique()
    kept = sorted(str(t) for t, n in both.items() if n == 2)
    if len(kept) < 2:
        row["cancer_types"] = len(kept)
        row["test"] = (
            "not tested: fewer than two cancer types with their own estimate keep both classes "
            "among the complete cases of the model"
        )
        return pd.DataFrame([row], columns=INTERACTION_COLUMNS)
    data = base.data[base.data["cancer_type"].astype(str).isin(kept)]
    row["cancer_types"] = len(kept)
    test = het.cox_interaction_test(
        data, "pps_months", "pps_event", "acquired", "cancer_type", base.covariates
    )
    row.update(
        reference=test.groups[0],
        patients=test.n,
        deaths=test.events,
        chi2=test.statistic,
        df=test.df,
        p=test.p,
    )
    return pd.DataFrame([row], columns=INTERACTION_COLUMNS)


def heterogeneity_table(per_type: pd.DataFrame, min_events_per_group: int = 10) -> pd.DataFrame:
    """Cochran's Q, I² and τ² (DerSimonian–Laird) over the per-type log hazard ratios.

    Over the types with their own estimate and at least ``min_events_per_group`` deaths in each
    class (the forest plot's rows). ``hr_random`` is the random-effects mean with its 95% CI,
    ``hr_fixed`` the inverse-variance (fixed-effect) mean; they coincide when τ² = 0.

    Returns
    -------
    pandas.DataFrame
        One row, :data:`HETEROGENEITY_COLUMNS` (NaN when fewer than two types qualify).
    """
    rows = _estimated(per_type, min_events_per_group)
    out: dict[str, Any] = dict.fromkeys(HETEROGENEITY_COLUMNS, np.nan)
    out["cancer_types"] = len(rows)
    if len(rows) >= 2:
        log_hr, se = _log_hr_and_se(rows)
        h = het.heterogeneity(log_hr, se)
        out.update(
            q=h.q,
            df=h.df,
            p=h.p,
            i2_percent=100.0 * h.i2,
            tau2=h.tau2,
            hr_random=float(np.exp(h.random)),
            ci_low=float(np.exp(h.ci_low)),
            ci_high=float(np.exp(h.ci_high)),
            hr_fixed=float(np.exp(h.fixed)),
        )
    return pd.DataFrame([out], columns=HETEROGENEITY_COLUMNS)


def shrinkage_table(per_type_all: pd.DataFrame, min_events_per_group: int = 10) -> pd.DataFrame:
    """Every per-type hazard ratio beside its empirical-Bayes shrunken estimate.

    τ² and the random-effects mean come from the types with at least ``min_events_per_group``
    deaths in each class (:func:`heterogeneity_table`); every type with an estimate, including
    those with fewer deaths (``few_deaths``), is then shrunk towards that mean, keeping the
    weight ``weight_own = τ²/(τ² + se²)`` on its own estimate. A type with few deaths has a
    large se and is pulled most of the way to the mean; when τ² = 0 every shrunken estimate
    equals the random-effects mean (the data give no reason to think any type differs).

    Parameters
    ----------
    per_type_all : pandas.DataFrame
        :func:`helpers.analysis.pps.per_cancer_type_pps` with ``min_events_per_group=1``, so
        that types with few deaths have an estimate too.
    min_events_per_group : int, default 10
        Deaths per class needed to enter the heterogeneity analysis.

    Returns
    -------
    pandas.DataFrame
        :data:`SHRINKAGE_COLUMNS`, one row per cancer type; the shrunken columns are NaN where
        a type has no estimate or fewer than two types enter the heterogeneity analysis.
    """
    require_columns(
        per_type_all,
        ["cancer_type", "deaths_acquired", "deaths_primary", "hr", "ci_low", "ci_high", "status"],
        "per_type_all",
    )
    inside = _estimated(per_type_all, min_events_per_group)
    table = per_type_all[
        ["cancer_type", "deaths_acquired", "deaths_primary", "hr", "ci_low", "ci_high", "status"]
    ].copy()
    table["few_deaths"] = table[["deaths_acquired", "deaths_primary"]].min(axis=1) < int(min_events_per_group)
    table["in_heterogeneity"] = table["cancer_type"].isin(inside["cancer_type"])
    for column in ("weight_own", "shrunken_hr", "shrunken_ci_low", "shrunken_ci_high"):
        table[column] = np.nan
    finite = np.isfinite(table["hr"]) & (table["ci_low"] > 0) & np.isfinite(table["ci_high"])
    # a type with very few deaths can give a Cox fit whose interval is infinite: no usable estimate
    table.loc[(table["status"] == "estimated") & ~finite, "status"] = (
        "not estimated: infinite confidence interval"
    )
    has_estimate = (table["status"] == "estimated") & finite
    if len(inside) >= 2 and has_estimate.any():
        h = het.heterogeneity(*_log_hr_and_se(inside))
        log_hr, se = _log_hr_and_se(table[has_estimate])
        shrunk = het.shrink(log_hr, se, h.tau2, h.random, h.random_se)
        table.loc[has_estimate, "weight_own"] = shrunk["weight"].to_numpy()
        table.loc[has_estimate, "shrunken_hr"] = np.exp(shrunk["shrunken"].to_numpy())
        table.loc[has_estimate, "shrunken_ci_low"] = np.exp(shrunk["shrunken_ci_low"].to_numpy())
        table.loc[has_estimate, "shrunken_ci_high"] = np.exp(shrunk["shrunken_ci_high"].to_numpy())
    return table[SHRINKAGE_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# RMST, complete cases
# --------------------------------------------------------------------------------------------


def rmst_table(pps_set: pd.DataFrame, rmst_months: float = 12.0) -> pd.DataFrame:
    """Restricted mean survival after progression up to ``rmst_months``, acquired − primary.

    Per cancer type from its own Kaplan–Meier curves, then standardised over the types with
    weights = the number of acquired + primary patients in each (the pooled row): the
    within-type difference averaged over the cohort's type mix, since the class mix differs by
    type and a pooled Kaplan–Meier difference would mix them. All patients of the analysis set
    count (no covariate is needed, so there is no complete-case loss).

    Returns
    -------
    pandas.DataFrame
        :data:`RMST_COLUMNS`: one row per cancer type, then :data:`POOLED_RMST` (months; the
        ``weight`` of a type is its share in the pooled row, NaN if left out, with ``status``
        saying why).
    """
    tau = check_rmst_months(rmst_months)
    require_columns(pps_set, ["cancer_type", "acquired", "pps_months", "pps_event"], "pps_set")
    per, pooled = stratified_rmst_difference(
        pps_set["pps_months"], pps_set["pps_event"], pps_set["acquired"], pps_set["cancer_type"], tau
    )
    z = per["difference"] / per["se"]
    table = pd.DataFrame(
        {
            "set": per["stratum"],
            "n_acquired": per["n_1"],
            "n_primary": per["n_0"],
            "rmst_acquired": per["rmst_1"],
            "rmst_primary": per["rmst_0"],
            "difference": per["difference"],
            "ci_low": per["ci_low"],
            "ci_high": per["ci_high"],
            "p": 2 * stats.norm.sf(np.abs(z)),
            "weight": per["weight"],
            "status": per["status"],
        }
    )
    used = per["status"] == "estimated"
    pooled_row = {
        "set": POOLED_RMST,
        "n_acquired": int(per.loc[used, "n_1"].sum()),
        "n_primary": int(per.loc[used, "n_0"].sum()),
        "rmst_acquired": float((per.loc[used, "weight"] * per.loc[used, "rmst_1"]).sum()),
        "rmst_primary": float((per.loc[used, "weight"] * per.loc[used, "rmst_0"]).sum()),
        "difference": pooled["difference"],
        "ci_low": pooled["ci_low"],
        "ci_high": pooled["ci_high"],
        "p": pooled["p"],
        "weight": 1.0,
        "status": "estimated"
        if pooled["strata"] == len(per)
        else f"over {pooled['strata']} of {len(per)} types",
    }
    table = pd.concat([table, pd.DataFrame([pooled_row])], ignore_index=True)
    table.attrs["rmst_months"] = tau
    return table[RMST_COLUMNS]


def complete_case_table(fit: AdjustedCox) -> pd.DataFrame:
    """What the complete-case step of a fitted model cost, covariate by covariate.

    Returns
    -------
    pandas.DataFrame
        Columns ``step, patients``: the patients before the step, those lacking each used
        covariate (a patient may lack several), those left out, and those in the model. A
        covariate the cohort does not record at all is left out of the model and costs no
        patient (the chapter's covariate sentence names it).
    """
    rows = [("patients in the analysis set", fit.n_input)]
    for covariate, n in fit.missing_by_covariate.items():
        rows.append((f"… lacking {COVARIATE_SHORT.get(covariate, covariate)}", int(n)))
    rows.append(("left out (lacking any covariate of the model)", fit.n_input - fit.n_used))
    rows.append(("in the model (complete cases)", fit.n_used))
    return pd.DataFrame(rows, columns=["step", "patients"])
