"""How far the RT estimate can be trusted: sensitivity analyses for confounding by indication.

The time-varying model of :mod:`.post_progression` removes immortal time, not confounding by
indication: whether a patient is offered RT is decided at progression, by how the patient is
then, and the model adjusts for covariates measured at the start of ICB. The analyses here, each
with a numeric warning rule (the constants below; ``book/methods.md`` states them):

1. **E-value** (VanderWeele & Ding 2017) of the time-varying hazard ratio and of its confidence
   limit nearer 1 (:func:`helpers.stats.sensitivity.evalue_hr`; death after progression is
   common, so the hazard ratio is converted to a risk ratio first). Warning:
   :data:`EVALUE_LIMIT_WARNING`.
2. **Lagged exposure**: RT counts as exposure from its start plus ``rt_lag_months``; the time in
   the lag is unexposed time. No course is excluded, whatever its outcome: a patient who dies
   within the lag stays in the analysis, unexposed. Warning: the estimate moves more than
   :data:`LAG_SHIFT_WARNING` of its log hazard ratio towards 1.
3. **Negative-control period**: the same model with RT split into its first ``rt_lag_months``
   and the time after. RT cannot prevent deaths in the first weeks of a course (a survival
   benefit needs tumour control), but a patient selected for RT because they are fit at the
   decision carries that selection into exactly these weeks. Warning: the early-window hazard
   ratio's interval excludes 1.
4. **Negative-control exposure**: RT before the index ICB course, added to the primary model.
   It cannot cause survival after a later progression through the salvage pathway but shares
   the stable indications of RT (metastatic sites that are irradiated, local practice, a
   patient's frailty). Warning: its interval excludes 1.
5. **Time-updated performance status** where the cohort records it (table
   ``performance_status``): ECOG as a time-varying covariate (the last assessment at or before
   each time, baseline ECOG at day 0 counting as one), beside baseline ECOG. Warning: it moves
   the estimate more than :data:`PS_SHIFT_WARNING` of its log hazard ratio towards 1.

What each can and cannot detect is in the docstring of :func:`rt_sensitivity_analysis`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.analysis.radiotherapy.post_progression import DEFAULT_ADJUSTMENT, prepare_covariates
from helpers.analysis.result import AnalysisResult
from helpers.errors import ParameterError, require_columns
from helpers.stats import survival
from helpers.stats.sensitivity import evalue_hr, shift_towards_null
from helpers.stats.time_updated import time_updated_intervals
from helpers.units import DAYS_PER_MONTH

__all__ = [
    "COMMON_OUTCOME_SHARE",
    "DEFAULT_RT_LAG_MONTHS",
    "EVALUE_LIMIT_WARNING",
    "LAG_SHIFT_WARNING",
    "MIN_NEGATIVE_CONTROL_EVENTS",
    "PS_SHIFT_WARNING",
    "RULES",
    "SENSITIVITY_ANALYSES",
    "RTSensitivityResult",
    "analysis_label",
    "performance_status_changes",
    "rt_sensitivity_analysis",
    "rule_text",
]

#: Default lag (months) of the lagged exposure and length of the negative-control window: a
#: course of RT takes 1 day to 6 weeks, and a survival benefit needs tumour control after it.
DEFAULT_RT_LAG_MONTHS = 1.0

#: Warning when the E-value of the confidence limit nearer 1 is below this: an unmeasured
#: confounder associated with both RT and death by a risk ratio of 1.5 each (beyond the measured
#: covariates; weaker than ECOG's own association with death) could move the interval to 1.
EVALUE_LIMIT_WARNING = 1.5

#: Warning when lagging the exposure removes more than this share of the log hazard ratio
#: (:func:`helpers.stats.sensitivity.shift_towards_null`): the "effect" sits in the first weeks
#: after RT starts, where selection for RT acts and RT itself hardly can.
LAG_SHIFT_WARNING = 0.5

#: Warning when time-updated ECOG removes more than this share of the log hazard ratio: the
#: baseline-adjusted estimate is confounded by performance status at the time RT is decided.
PS_SHIFT_WARNING = 0.5

#: Fewest deaths among patients with the negative-control exposure (RT before the index ICB
#: course) for its hazard ratio to be estimated.
MIN_NEGATIVE_CONTROL_EVENTS = 5

#: Share of patients who die during follow-up above which death is a common outcome and the
#: hazard ratio is converted to a risk ratio for the E-value (VanderWeele & Ding 2017: 15%).
COMMON_OUTCOME_SHARE = 0.15

#: The sensitivity models, in the order of the ``estimates`` table: key -> label (``{lag}`` is
#: filled in with the lag, e.g. "1 month").
SENSITIVITY_ANALYSES: dict[str, str] = {
    "primary": "primary: RT(t), adjusted for baseline covariates",
    "lagged": "lagged exposure: RT counts from {lag} after its start",
    "early_window": "negative-control period: RT in its first {lag}",
    "after_window": "RT after its first {lag} (same model)",
    "prior_rt": "negative-control exposure: RT before the index ICB course",
    "time_updated_ps": "primary + time-updated ECOG",
}

#: The warning rules, in the order of the ``rules`` table: key -> (rule, what firing means).
RULES: dict[str, tuple[str, str]] = {
    "evalue": (
        f"E-value of the confidence limit nearer 1 below {EVALUE_LIMIT_WARNING:g}",
        f"a modest unmeasured confounder (a risk ratio below {EVALUE_LIMIT_WARNING:g} with both RT "
        "and death) could move the interval to include 1",
    ),
    "lag": (
        f"lagging the exposure by {{lag}} removes more than {LAG_SHIFT_WARNING:.0%} of the log hazard ratio",
        "the apparent effect sits in the first weeks after RT starts, where selection acts and RT hardly can",
    ),
    "early_window": (
        "negative-control period (RT in its first {lag}): interval excludes 1",
        "an 'effect' where RT cannot yet act: the patients selected for RT differ from the others",
    ),
    "prior_rt": (
        "negative-control exposure (RT before the index ICB course): interval excludes 1",
        "stable traits that lead to RT at any time also predict survival: residual confounding",
    ),
    "time_updated_ps": (
        f"time-updated ECOG moves the estimate more than {PS_SHIFT_WARNING:.0%} of its log "
        "hazard ratio towards 1",
        "the baseline-adjusted estimate is confounded by performance status at progression",
    ),
}

_ESTIMATE_COLUMNS = [
    "analysis",
    "model",
    "term",
    "n_patients",
    "n_events",
    "n_exposed",
    "n_exposed_events",
    "hr",
    "ci_low",
    "ci_high",
    "p",
]


@dataclass(kw_only=True)
class RTSensitivityResult(AnalysisResult):
    """Result of :func:`rt_sensitivity_analysis`.

    ``missing`` says why nothing was estimated (no primary estimate), else None.

    Attributes
    ----------
    lag_months, lag_days : float
        The exposure lag and length of the negative-control window.
    estimates : pandas.DataFrame
        One row per estimate (:data:`SENSITIVITY_ANALYSES`): ``analysis`` (key), ``model``
        (label), ``term``, ``n_patients, n_events, n_exposed, n_exposed_events, hr, ci_low,
        ci_high, p``; a model the cohort cannot support has NaN estimates and a note.
    evalues : pandas.DataFrame
        E-values of the RT estimates (primary, lagged, time-updated ECOG where fitted):
        ``model, hr, ci_low, ci_high, rr, rr_limit, evalue, evalue_limit, covers_1``.
    rules : pandas.DataFrame
        One row per warning rule (:data:`RULES`): ``rule, value, threshold, fires`` (True,
        False, or None when the cohort cannot evaluate it), ``reading`` (what firing means),
        ``reason`` (why a rule is not evaluated).
    death_share : float
        Share of the analysed patients who died (decides the common-outcome conversion).
    rare : bool
        Whether the E-values treated death as a rare outcome.
    notes : tuple of str
        What was dropped or could not be fitted.
    """

    lag_months: float = DEFAULT_RT_LAG_MONTHS
    lag_days: float = DEFAULT_RT_LAG_MONTHS * DAYS_PER_MONTH
    estimates: pd.DataFrame = field(default_factory=pd.DataFrame)
    evalues: pd.DataFrame = field(default_factory=pd.DataFrame)
    rules: pd.DataFrame = field(default_factory=pd.DataFrame)
    death_share: float = float("nan")
    rare: bool = False
    notes: tuple[str, ...] = ()

    @property
    def fired(self) -> list[str]:
        """Keys of the rules that fire."""
        if self.rules.empty:
            return []
        return [
            key for key, fires in zip(self.rules.index, self.rules["fires"], strict=True) if fires is True
        ]


def performance_status_changes(
    performance_status: pd.DataFrame,
    data: pd.DataFrame,
    baseline_col: str = "ecog",
    value_col: str = "ecog_now",
) -> pd.DataFrame:
    """ECOG assessments on the post-progression clock, as changes of a time-updated covariate.

    Parameters
    ----------
    performance_status : pandas.DataFrame
        The cohort's ``performance_status`` table: ``patient_id, day, ecog`` (days from the start
        of the index course).
    data : pandas.DataFrame
        :func:`helpers.analysis.radiotherapy.post_progression_table` (``patient_id,
        progression_day`` and the baseline ECOG column).
    baseline_col : str, default "ecog"
        Baseline ECOG of ``data``: it counts as an assessment on day 0 (the start of ICB); an
        assessment of the table on the same day replaces it.
    value_col : str, default "ecog_now"
        Name of the time-updated column.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, time, <value_col>``: time in days from progression (negative before it),
        for the patients of ``data`` only, in time order (the baseline first on a tie).
    """
    require_columns(performance_status, ["patient_id", "day", "ecog"], "performance_status")
    require_columns(data, ["patient_id", "progression_day", baseline_col], "post-progression table")
    progression = data.set_index("patient_id")["progression_day"].astype(float)
    table = performance_status[performance_status["patient_id"].isin(progression.index)]
    assessed = pd.DataFrame(
        {
            "patient_id": table["patient_id"].to_numpy(),
            "day": pd.to_numeric(table["day"], errors="coerce").to_numpy(dtype=float),
            value_col: pd.to_numeric(table["ecog"], errors="coerce").to_numpy(dtype=float),
            "_order": 1,
        }
    )
    baseline = pd.DataFrame(
        {
            "patient_id": data["patient_id"].to_numpy(),
            "day": 0.0,
            value_col: data[baseline_col].astype(float).to_numpy(),
            "_order": 0,
        }
    )
    changes = pd.concat([baseline, assessed], ignore_index=True).dropna(subset=["day", value_col])
    changes["time"] = changes["day"] - changes["patient_id"].map(progression).to_numpy()
    changes = changes.sort_values(["patient_id", "time", "_order"], kind="stable")
    return changes[["patient_id", "time", value_col]].reset_index(drop=True)


def _rt_changes(data: pd.DataFrame, lag_days: float) -> pd.DataFrame:
    """RT exposure states as changes on the post-progression clock.

    ``rt`` (from the first fraction), ``rt_lagged`` (from the first fraction + lag), and the
    window indicators ``rt_early`` (the lag after the first fraction) and ``rt_late`` (after it).
    """
    exposed = data[data["rt_day"].notna()]
    pid, start = exposed["patient_id"].to_numpy(), exposed["rt_day"].to_numpy(dtype=float)
    at_start = pd.DataFrame({"patient_id": pid, "time": start, "rt": 1.0, "rt_early": 1.0, "rt_late": 0.0})
    at_lag = pd.DataFrame({"patient_id": pid, "time": start + lag_days, "rt_lagged": 1.0})
    if lag_days > 0:
        at_lag["rt_early"], at_lag["rt_late"] = 0.0, 1.0
    else:  # no window: RT is "late" from its first fraction
        at_start["rt_early"], at_start["rt_late"] = 0.0, 1.0
    return pd.concat([at_start, at_lag], ignore_index=True)


def _lag_text(lag_months: float) -> str:
    return f"{lag_months:g} month" + ("" if lag_months == 1 else "s")


def analysis_label(key: str, lag_months: float = DEFAULT_RT_LAG_MONTHS) -> str:
    """The label of a sensitivity analysis (:data:`SENSITIVITY_ANALYSES`) for a lag."""
    return SENSITIVITY_ANALYSES[key].format(lag=_lag_text(lag_months))


def rule_text(key: str, lag_months: float = DEFAULT_RT_LAG_MONTHS) -> tuple[str, str]:
    """The rule and what its firing means (:data:`RULES`) for a lag."""
    rule, reading = RULES[key]
    return rule.format(lag=_lag_text(lag_months)), reading


def _nan_row(analysis: str, term: str, frame: pd.DataFrame, lag_months: float) -> dict:
    return {
        "analysis": analysis,
        "model": analysis_label(analysis, lag_months),
        "term": term,
        "n_patients": len(frame),
        "n_events": int(frame["event"].sum()) if len(frame) else 0,
        "n_exposed": np.nan,
        "n_exposed_events": np.nan,
        "hr": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "p": np.nan,
    }


def _exposed_counts(long: pd.DataFrame, term: str) -> tuple[int, int]:
    """Patients with exposed time for ``term``, and deaths during it."""
    exposed = long[long[term] > 0]
    return int(exposed["patient_id"].nunique()), int(exposed["event"].sum())


def _evalue_row(model: str, row: dict | pd.Series, rare: bool) -> dict:
    values = evalue_hr(row["hr"], row["ci_low"], row["ci_high"], rare=rare)
    return {
        "model": model,
        "hr": values.hr,
        "ci_low": values.ci_low,
        "ci_high": values.ci_high,
        "rr": values.rr,
        "rr_limit": values.rr_limit,
        "evalue": values.evalue,
        "evalue_limit": values.evalue_limit,
        "covers_1": values.covers_null,
    }


def _excludes_one(row: dict) -> bool:
    return bool(row["ci_low"] > 1 or row["ci_high"] < 1)


def rt_sensitivity_analysis(
    data: pd.DataFrame,
    performance_status: pd.DataFrame | None = None,
    *,
    rt_lag_months: float = DEFAULT_RT_LAG_MONTHS,
    adjust_for: Sequence[str] = DEFAULT_ADJUSTMENT,
    strata: str | None = "cancer_type",
    rare: bool | None = None,
    min_exposed_events: int = 5,
    count_format: Callable[[int], str] = str,
) -> RTSensitivityResult:
    """Sensitivity of the time-varying RT hazard ratio to confounding by indication.

    Every model is the primary model of :func:`rt_survival_analysis` (RT as a time-varying
    exposure, adjusted for ``adjust_for``, stratified by ``strata``) on the same complete cases,
    changed in one respect (see the module docstring for the five analyses and their rules).

    What each can and cannot detect:

    - The **E-value** detects nothing: it says how strong an unmeasured confounder would have
      to be (associated with RT and with death, each by this risk ratio, beyond the measured
      covariates) to explain the estimate, or its interval, away. A small E-value is a warning,
      a large one is no proof of causation (a confounder as strong as performance status at
      progression can be very strong).
    - The **lagged exposure** detects an "effect" concentrated in the first weeks after RT
      starts, which is what short-term selection (patients fit enough on the day RT starts,
      or RT given for symptoms of imminent death) produces. It cannot detect confounding that
      persists over the whole follow-up (a lasting decline at progression that makes RT less
      likely and death more likely), and it dilutes a real effect that starts at once.
    - The **negative-control period** detects the same short-term selection as a hazard ratio
      of its own, with a test; it assumes RT cannot change survival in its first weeks (a
      harmful early hazard ratio can also be toxicity). Persistent confounding shows in it too,
      because the early window carries it like any other time, so it can flag the confounding
      of ``rt_confounded`` when the window has enough deaths; it cannot tell persistent
      confounding from an effect that really starts at once.
    - The **negative-control exposure** (RT before the index ICB course) detects confounding
      by stable traits that lead to RT at any time and also shorten (or lengthen) survival
      (bone or brain metastases, local practice, frailty) beyond the measured covariates. It
      cannot detect a factor that arises at progression (the planted confounder of
      ``rt_confounded``), and it assumes earlier RT has no effect of its own on survival after
      progression and marks no different disease course; an interval excluding 1 can mean
      either.
    - **Time-updated ECOG** removes the confounding by performance status at the decision
      where it is recorded (the last assessment at or before each time). It cannot remove
      confounding by what ECOG does not capture (symptoms, tumour burden), and it is the total
      effect of RT only if RT does not change later performance status: if it does,
      conditioning on ECOG after RT removes the part of the effect that goes through it
      (estimating that would need g-methods, e.g. inverse-probability-weighted marginal
      structural models).

    Parameters
    ----------
    data : pandas.DataFrame
        :func:`helpers.analysis.radiotherapy.post_progression_table`.
    performance_status : pandas.DataFrame, optional
        The cohort's ``performance_status`` table (``patient_id, day, ecog``); None when the
        cohort has none (the time-updated model is then not fitted, and its rule not evaluated).
    rt_lag_months : float, default 1
        Exposure lag and negative-control window (months, >= 0; 0 fits no window).
    adjust_for : sequence of str
        Covariates of the primary model (as :func:`rt_survival_analysis`).
    strata : str or None, default "cancer_type"
        Stratification column.
    rare : bool, optional
        Treat death as a rare outcome in the E-values; by default decided from the share of
        analysed patients who die (rare below :data:`COMMON_OUTCOME_SHARE`).
    min_exposed_events : int, default 5
        Fewest deaths during exposed time needed to fit a model of an RT term.
    count_format : callable, default str
        Formats patient counts in the notes.

    Returns
    -------
    RTSensitivityResult
    """
    where = "rt_sensitivity_analysis"
    if not (np.isfinite(rt_lag_months) and rt_lag_months >= 0):
        raise ParameterError(f"{where}: rt_lag_months must be a number >= 0, got {rt_lag_months!r}")
    needed = ["patient_id", "pps_days", "event", "rt_day", "prior_rt", *adjust_for]
    needed += [strata] if strata else []
    require_columns(data, needed, "post-progression table")
    lag_days = float(rt_lag_months) * DAYS_PER_MONTH
    settings = {"lag_months": float(rt_lag_months), "lag_days": lag_days}
    notes: list[str] = []
    frame, covs = prepare_covariates(data, list(adjust_for), "sensitivity analyses", notes, count_format)
    strata_cols = [strata] if strata else []
    death_share = float(frame["event"].mean()) if len(frame) else float("nan")
    rare = bool(death_share < COMMON_OUTCOME_SHARE) if rare is None else bool(rare)

    subjects = frame[["patient_id", "pps_days", "event", "prior_rt", *covs, *strata_cols]]
    changes = _rt_changes(frame, lag_days)
    values = ["rt", "rt_lagged", "rt_early", "rt_late"]
    ps_available = performance_status is not None and len(performance_status) > 0
    if ps_available:
        ps = performance_status_changes(performance_status, frame)
        changes = pd.concat([changes, ps], ignore_index=True)
        values.append("ecog_now")
    initial = {c: 0.0 for c in values if c != "ecog_now"}
    if len(frame):
        long = time_updated_intervals(
            subjects, changes, "patient_id", "pps_days", "event", values, initial=initial
        )
    else:
        long = pd.DataFrame(columns=["patient_id", "start", "stop", "event", *values, *covs])

    def fit(analysis: str, terms: Sequence[str], extra: Sequence[str] = ()) -> dict[str, dict]:
        """Fit the RT term(s) ``terms`` plus ``extra`` and the adjustment set.

        One estimate row per term of ``terms`` and of ``extra`` (the negative-control exposure
        is read from ``extra``); exposed counts are those of the RT terms.
        """
        rows = {term: _nan_row(analysis, term, frame, rt_lag_months) for term in [*terms, *extra]}
        for term in terms:
            rows[term]["n_exposed"], rows[term]["n_exposed_events"] = _exposed_counts(long, term)
        model = analysis_label(analysis, rt_lag_months)
        if any(rows[t]["n_exposed_events"] < min_exposed_events for t in terms):
            notes.append(f"{model}: fewer than {min_exposed_events} deaths during exposed time, not fitted.")
            return rows
        columns = ["patient_id", "start", "stop", "event", *terms, *extra, *covs, *strata_cols]
        try:
            fitted = survival.cox_time_varying(
                long[columns], "patient_id", "start", "stop", "event", strata=strata_cols or None
            )
        except Exception as exc:  # a sparse cohort can make a model singular: say so, go on
            notes.append(f"{model}: could not be fitted ({type(exc).__name__}: {exc}).")
            return rows
        table = survival.hazard_ratio_table(fitted).set_index("covariate")
        for term in rows:
            for column in ("hr", "ci_low", "ci_high", "p"):
                rows[term][column] = float(table.loc[term, column])
        return rows

    estimates: list[dict] = []
    primary = fit("primary", ["rt"])["rt"]
    estimates.append(primary)
    if not np.isfinite(primary["hr"]):
        return RTSensitivityResult(
            missing="The primary model could not be fitted, so no sensitivity analysis is run.",
            estimates=pd.DataFrame(estimates)[_ESTIMATE_COLUMNS],
            death_share=death_share,
            rare=rare,
            notes=tuple(notes),
            **settings,
        )
    estimates.append(fit("lagged", ["rt_lagged"])["rt_lagged"])
    if lag_days > 0:
        window = fit("early_window", ["rt_early", "rt_late"])
        estimates.append(window["rt_early"])
        after = {"analysis": "after_window", "model": analysis_label("after_window", rt_lag_months)}
        estimates.append({**window["rt_late"], **after})
    exposed_prior = frame["prior_rt"] == 1
    prior_rt_events = int(frame.loc[exposed_prior, "event"].sum())
    if prior_rt_events >= MIN_NEGATIVE_CONTROL_EVENTS and not exposed_prior.all():
        prior = fit("prior_rt", ["rt"], extra=["prior_rt"])["prior_rt"]
    else:
        prior = _nan_row("prior_rt", "prior_rt", frame, rt_lag_months)
        notes.append(
            f"{analysis_label('prior_rt')}: {count_format(prior_rt_events)} death(s) among "
            f"patients with RT before the index course (fewer than {MIN_NEGATIVE_CONTROL_EVENTS}), "
            "not estimated."
        )
    prior["n_exposed"], prior["n_exposed_events"] = int(exposed_prior.sum()), prior_rt_events
    estimates.append(prior)
    if ps_available:
        estimates.append(fit("time_updated_ps", ["rt"], extra=["ecog_now"])["rt"])
    else:
        estimates.append(_nan_row("time_updated_ps", "rt", frame, rt_lag_months))
        notes.append(
            "This cohort records no performance status over time (no performance_status table), "
            "so the model with time-updated ECOG is not fitted."
        )
    table = pd.DataFrame(estimates)[_ESTIMATE_COLUMNS]
    by_key = table.set_index("analysis")
    evalues = [
        _evalue_row(analysis_label(key, rt_lag_months), by_key.loc[key], rare)
        for key in ("primary", "lagged", "time_updated_ps")
        if key in by_key.index and np.isfinite(by_key.loc[key, "hr"])
    ]
    rules = _rules(by_key, evalues[0]["evalue_limit"], primary, rt_lag_months)
    return RTSensitivityResult(
        estimates=table,
        evalues=pd.DataFrame(evalues),
        rules=rules,
        death_share=death_share,
        rare=rare,
        notes=tuple(notes),
        **settings,
    )


def _rules(by_key: pd.DataFrame, evalue_limit: float, primary: dict, lag_months: float) -> pd.DataFrame:
    """The warning rules and whether each fires (None: not evaluable, with the reason)."""
    rows: dict[str, dict] = {}

    def add(key: str, value: float, threshold: float, fires: bool | None, reason: str = "") -> None:
        rule, reading = rule_text(key, lag_months)
        rows[key] = {
            "rule": rule,
            "value": value,
            "threshold": threshold,
            "fires": fires,
            "reading": reading,
            "reason": reason,
        }

    add("evalue", evalue_limit, EVALUE_LIMIT_WARNING, bool(evalue_limit < EVALUE_LIMIT_WARNING))
    no_effect = "the primary interval includes 1: there is no effect to move towards 1"
    for key, analysis, threshold in (
        ("lag", "lagged", LAG_SHIFT_WARNING),
        ("time_updated_ps", "time_updated_ps", PS_SHIFT_WARNING),
    ):
        hr = by_key.loc[analysis, "hr"] if analysis in by_key.index else np.nan
        if not np.isfinite(hr):
            add(key, np.nan, threshold, None, "not estimated in this cohort (see the notes)")
        elif not _excludes_one(primary):
            add(key, shift_towards_null(primary["hr"], hr), threshold, None, no_effect)
        else:
            shift = shift_towards_null(primary["hr"], hr)
            add(key, shift, threshold, bool(shift > threshold))
    for key in ("early_window", "prior_rt"):
        if key not in by_key.index or not np.isfinite(by_key.loc[key, "hr"]):
            reason = "no window (lag 0)" if key not in by_key.index else "not estimated in this cohort"
            add(key, np.nan, 1.0, None, reason)
        else:
            row = by_key.loc[key]
            add(key, float(row["hr"]), 1.0, _excludes_one(row))
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["fires"] = table["fires"].astype(object)
    return table
