"""Tests of helpers.stats.cox_counting, the Cox fit on counting-process data (start, stop].

Against lifelines' CoxTimeVaryingFitter (which it replaces in ``survival.cox_time_varying``) on
heavily tied, stratified, left-truncated data with several intervals per patient; against a
direct computation of Efron's partial likelihood from its definition; the score test against
the log-rank test; failures reported as lifelines reported them; and a planted delayed-entry
effect. The R conformance of ``cox_time_varying`` is in ``tests/test_survival.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxTimeVaryingFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from lifelines.statistics import logrank_test

from helpers.errors import InputError, ParameterError
from helpers.stats import survival as sv
from helpers.stats.cox_counting import CoxCountingFit, SingularFitError, fit_cox_counting

COVARIATES = ["x1", "x2", "x3"]


def _long_data(n: int, seed: int, tied: bool = True) -> pd.DataFrame:
    """Patients with delayed entry, 1-3 intervals each, 3 strata; integer times when ``tied``."""
    rng = np.random.default_rng(seed)
    entry = np.where(rng.random(n) < 0.5, rng.integers(1, 5, n), 0).astype(float)
    k = rng.integers(1, 4, n)
    pid = np.repeat(np.arange(n), k)
    gaps = rng.integers(1, 6, len(pid)).astype(float) if tied else rng.uniform(0.5, 5.0, len(pid))
    stop = np.repeat(entry, k) + pd.Series(gaps).groupby(pid).cumsum().to_numpy()
    last = np.r_[pid[1:] != pid[:-1], True]
    x1 = rng.normal(size=len(pid))  # time-varying: a new value on every interval
    x2 = rng.integers(0, 2, len(pid)).astype(float)
    x3 = np.repeat(rng.normal(size=n), k)
    linear = 0.5 * x1 - 0.7 * x2 + 0.3 * x3
    event = last & (rng.random(len(pid)) < 0.3 + 0.5 / (1 + np.exp(-linear)))
    return pd.DataFrame(
        {
            "id": pid,
            "start": stop - gaps,
            "stop": stop,
            "event": event.astype(int),
            "x1": x1,
            "x2": x2,
            "x3": x3,
            "site": np.repeat(rng.integers(0, 3, n), k),
        }
    )


def _lifelines(data: pd.DataFrame, strata: list[str] | None, penalizer: float = 0.0) -> CoxTimeVaryingFitter:
    """The old ``cox_time_varying``: lifelines with the R-conformant options."""
    frame = data if strata else data.drop(columns="site")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CoxTimeVaryingFitter(penalizer=penalizer).fit(
            frame,
            event_col="event",
            start_col="start",
            stop_col="stop",
            id_col="id",
            strata=strata,
            fit_options=dict(sv.R_CONFORMANT_FIT_OPTIONS),
        )


def _efron_direct(
    data: pd.DataFrame, beta: np.ndarray, strata: str | None = "site"
) -> tuple[float, np.ndarray, np.ndarray]:
    """Log partial likelihood, score and information by their definition: a loop over event times."""
    x = data[COVARIATES].to_numpy(dtype=float)
    start, stop = data["start"].to_numpy(), data["stop"].to_numpy()
    event = data["event"].to_numpy() == 1
    layer = data[strata].to_numpy() if strata else np.zeros(len(data))
    risk = np.exp(x @ beta)
    ll, score, information = 0.0, np.zeros(len(beta)), np.zeros((len(beta), len(beta)))
    for stratum in np.unique(layer):
        mine = layer == stratum
        for t in np.unique(stop[mine & event]):
            at_risk = mine & (start < t) & (stop >= t)
            dead = mine & event & (stop == t)
            d = int(dead.sum())
            ll += float((x[dead] @ beta).sum())
            score += x[dead].sum(axis=0)
            for k in range(d):
                w = risk * (at_risk - k / d * dead)
                s0, s1, s2 = w.sum(), w @ x, (x * w[:, None]).T @ x
                ll -= np.log(s0)
                score -= s1 / s0
                information += s2 / s0 - np.outer(s1, s1) / s0**2
    return ll, score, information


@pytest.fixture(scope="module")
def tied() -> pd.DataFrame:
    data = _long_data(400, seed=11)
    # the test is only meaningful if the data are what they claim to be
    deaths = data[data["event"] == 1]
    assert deaths.groupby(["site", "stop"]).size().max() >= 5  # heavy ties
    assert (data.groupby("id").size() > 1).mean() > 0.5  # several intervals per patient
    assert (data.groupby("id")["start"].min() > 0).mean() > 0.3  # delayed entry
    return data


# ------------------------------------------------------------------------------------------
# (a) the same fit as lifelines' CoxTimeVaryingFitter
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("strata", [None, ["site"]])
def test_matches_lifelines_on_tied_stratified_left_truncated_data(tied, strata):
    old = _lifelines(tied, strata)
    new = sv.cox_time_varying(
        tied if strata else tied.drop(columns="site"), "id", "start", "stop", "event", strata=strata
    )
    assert isinstance(new, CoxCountingFit) and new.converged_
    assert list(new.params_.index) == COVARIATES
    np.testing.assert_allclose(new.params_, old.params_, rtol=1e-8, atol=0)
    np.testing.assert_allclose(new.standard_errors_, old.standard_errors_, rtol=1e-8, atol=0)
    np.testing.assert_allclose(new.variance_matrix_.to_numpy(), old.variance_matrix_.to_numpy(), rtol=1e-8)
    assert new.log_likelihood_ == pytest.approx(old.log_likelihood_, rel=1e-12)
    lr_old, lr_new = old.log_likelihood_ratio_test(), new.log_likelihood_ratio_test()
    assert lr_new.statistic == pytest.approx(lr_old.test_statistic, rel=1e-8)
    assert lr_new.p == pytest.approx(lr_old.p_value, rel=1e-6)
    # every column of lifelines' summary and intervals, same names
    assert list(new.summary.columns) == list(old.summary.columns)
    np.testing.assert_allclose(new.summary.to_numpy(), old.summary.to_numpy(), rtol=1e-7)
    assert list(new.confidence_intervals_.columns) == list(old.confidence_intervals_.columns)
    np.testing.assert_allclose(new.confidence_intervals_, old.confidence_intervals_, rtol=1e-8)
    assert (new.n_examples, new.n_unique, new.n_events) == (
        len(tied),
        tied["id"].nunique(),
        tied["event"].sum(),
    )
    assert new.n_strata == (3 if strata else 1)


def test_matches_lifelines_with_a_penalizer(tied):
    old = _lifelines(tied, ["site"], penalizer=0.01)
    new = sv.cox_time_varying(tied, "id", "start", "stop", "event", strata="site", penalizer=0.01)
    np.testing.assert_allclose(new.params_, old.params_, rtol=1e-8)
    np.testing.assert_allclose(new.standard_errors_, old.standard_errors_, rtol=1e-8)
    assert new.log_likelihood_ == pytest.approx(old.log_likelihood_, rel=1e-12)
    unpenalised = sv.cox_time_varying(tied, "id", "start", "stop", "event", strata="site")
    assert np.all(np.abs(new.params_) < np.abs(unpenalised.params_))  # shrunk towards 0


def test_likelihood_score_and_information_are_efron_by_definition(tied):
    """The cumulative-sum algebra against a loop over event times, at beta = 0 and at the fit."""
    model = sv.cox_time_varying(tied, "id", "start", "stop", "event", strata="site")
    ll, score, information = _efron_direct(tied, model.params_.to_numpy())
    assert model.log_likelihood_ == pytest.approx(ll, rel=1e-12)
    assert np.abs(score).max() < 1e-9  # the fit is at the maximum
    np.testing.assert_allclose(model.variance_matrix_.to_numpy(), np.linalg.inv(information), rtol=1e-9)
    ll0, score0, information0 = _efron_direct(tied, np.zeros(3))
    assert model.log_likelihood_null_ == pytest.approx(ll0, rel=1e-12)
    # (c, tied) R's coxph score test: U(0)' I(0)^-1 U(0) with Efron's information
    expected = float(score0 @ np.linalg.solve(information0, score0))
    assert model.score_test_.statistic == pytest.approx(expected, rel=1e-10)
    assert model.score_test_.df == 3
    assert model.wald_test_.statistic == pytest.approx(
        float(model.params_ @ information @ model.params_), rel=1e-8
    )


def test_splitting_intervals_and_row_order_do_not_change_the_fit(tied):
    whole = sv.cox_time_varying(tied, "id", "start", "stop", "event", strata="site")
    # split every interval at its midpoint (covariates constant over the interval)
    mid = (tied["start"] + tied["stop"]) / 2
    first = tied.assign(stop=mid, event=0)
    second = tied.assign(start=mid)
    split = pd.concat([first, second]).sample(frac=1.0, random_state=3).reset_index(drop=True)
    model = sv.cox_time_varying(split, "id", "start", "stop", "event", strata="site")
    np.testing.assert_allclose(model.params_, whole.params_, rtol=1e-10)
    np.testing.assert_allclose(model.standard_errors_, whole.standard_errors_, rtol=1e-10)
    assert model.n_examples == 2 * whole.n_examples and model.n_unique == whole.n_unique


def test_hazard_ratio_table_and_what_callers_read(tied):
    model = sv.cox_time_varying(tied, "id", "start", "stop", "event", strata=["site"], alpha=0.1)
    table = sv.hazard_ratio_table(model).set_index("covariate")
    assert model.alpha == 0.1
    summary = model.summary
    np.testing.assert_allclose(table["p"], summary["p"], rtol=1e-12)
    np.testing.assert_allclose(table["ci_low"], summary["exp(coef) lower 90%"], rtol=1e-12)
    np.testing.assert_allclose(table["hr"], model.hazard_ratios_, rtol=1e-12)
    np.testing.assert_allclose(np.log(table["ci_high"]), model.confidence_intervals_["90% upper-bound"])
    assert model.params_.name == "coef" and model.params_.index.name == "covariate"
    assert np.isfinite(model.log_likelihood_)
    assert "CoxCountingFit" in repr(model)


def test_fit_options_are_checked(tied):
    with pytest.raises(ParameterError, match="unknown fit option"):
        sv.cox_time_varying(tied, "id", "start", "stop", "event", fit_options={"tolerance": 1e-9})
    # R's own stopping rule (relative change of log L below 1e-9) lands within 1e-6 of the maximum
    r_rule = sv.cox_time_varying(
        tied, "id", "start", "stop", "event", fit_options={"precision": 0.0, "r_precision": 1e-9}
    )
    exact = sv.cox_time_varying(tied, "id", "start", "stop", "event")
    np.testing.assert_allclose(r_rule.params_, exact.params_, rtol=1e-6)


def test_input_checks_are_kept():
    bad = pd.DataFrame(
        {"id": [1, 1], "start": [0.0, 2.0], "stop": [3.0, 4.0], "event": [0, 1], "x": [0.0, 1.0]}
    )
    with pytest.raises(InputError, match="overlap"):
        sv.cox_time_varying(bad, "id", "start", "stop", "event")


# ------------------------------------------------------------------------------------------
# (c) the score test at beta = 0 is the log-rank test without ties
# ------------------------------------------------------------------------------------------


def test_score_test_is_the_logrank_test_without_ties():
    rng = np.random.default_rng(5)
    n = 300
    group = rng.integers(0, 2, n)
    death = rng.exponential(np.where(group == 1, 6.0, 10.0))
    censor = rng.uniform(2, 20, n)
    time, event = np.minimum(death, censor), (death <= censor).astype(int)
    assert len(np.unique(time)) == n  # no ties
    data = pd.DataFrame({"id": np.arange(n), "start": 0.0, "stop": time, "event": event, "group": group})
    model = sv.cox_time_varying(data, "id", "start", "stop", "event")
    a, b = group == 1, group == 0
    expected = logrank_test(time[a], time[b], event[a], event[b])
    assert model.score_test_.statistic == pytest.approx(expected.test_statistic, rel=1e-10)
    assert model.score_test_.p == pytest.approx(expected.p_value, rel=1e-8)


# ------------------------------------------------------------------------------------------
# (d) failures reported as lifelines reported them
# ------------------------------------------------------------------------------------------


def _separated(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    time = rng.exponential(10, n)
    early = time < np.median(time)  # x = 1 exactly for the first half of the deaths
    return pd.DataFrame(
        {"id": np.arange(n), "start": 0.0, "stop": time, "event": 1, "x": early.astype(float)}
    )


def test_separation_warns_and_returns_a_huge_coefficient_as_lifelines_did():
    data = _separated()
    with pytest.warns(ConvergenceWarning, match="may be infinite"):
        model = sv.cox_time_varying(data, "id", "start", "stop", "event")
    with pytest.warns(ConvergenceWarning):
        old = CoxTimeVaryingFitter().fit(
            data, "event", "start", "stop", id_col="id", fit_options=dict(sv.R_CONFORMANT_FIT_OPTIONS)
        )
    assert model.params_["x"] > 20 and old.params_["x"] > 20
    assert model.standard_errors_["x"] > 1e4 and old.standard_errors_["x"] > 1e4
    # the callers' table stays finite-or-nan, never raises
    with np.errstate(over="ignore"):
        assert sv.hazard_ratio_table(model).loc[0, "p"] > 0.9


@pytest.mark.parametrize(
    ("change", "lifelines_raised"),
    [
        (lambda d: d.assign(c=1.0), ConvergenceError),  # a constant covariate
        (lambda d: d.assign(y=2 * d["x"] + 1), np.linalg.LinAlgError),  # collinear covariates
        (lambda d: d.assign(event=0), np.linalg.LinAlgError),  # no events
    ],
)
def test_singular_fits_raise_what_lifelines_raised(change, lifelines_raised):
    rng = np.random.default_rng(0)
    n = 60
    data = change(
        pd.DataFrame(
            {
                "id": np.arange(n),
                "start": 0.0,
                "stop": rng.exponential(10, n),
                "event": (rng.random(n) < 0.7).astype(int),
                "x": rng.normal(size=n),
            }
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(lifelines_raised):
            CoxTimeVaryingFitter().fit(data, "event", "start", "stop", id_col="id")
    with pytest.raises(SingularFitError) as error:
        sv.cox_time_varying(data, "id", "start", "stop", "event")
    # both of what lifelines raised, so every ``except`` of the callers still catches it
    assert isinstance(error.value, ConvergenceError) and isinstance(error.value, np.linalg.LinAlgError)


def test_running_out_of_steps_warns():
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        model = fit_cox_counting(
            pd.DataFrame({"x": _separated()["x"]}),
            np.zeros(60),
            _separated()["stop"],
            np.ones(60),
            max_steps=3,
        )
    assert not model.converged_


# ------------------------------------------------------------------------------------------
# (e) a planted delayed-entry effect
# ------------------------------------------------------------------------------------------


def test_left_truncation_recovers_the_planted_hazard_ratio_and_ignoring_entry_is_biased():
    """Exposed patients enter the study later; only those alive at entry are seen."""
    rng = np.random.default_rng(2024)
    n, hr = 8000, 1.5
    exposed = rng.integers(0, 2, n)
    entry = np.where(exposed == 1, rng.uniform(0, 8, n), rng.uniform(0, 1, n))
    death = rng.exponential(1 / (0.15 * np.where(exposed == 1, hr, 1.0)))
    censor = entry + rng.uniform(5, 15, n)
    seen = death > entry  # left truncation: who died before entry never enters
    time = np.minimum(death, censor)[seen]
    data = pd.DataFrame(
        {
            "id": np.arange(seen.sum()),
            "start": entry[seen],
            "stop": time,
            "event": (death <= censor)[seen].astype(int),
            "exposed": exposed[seen],
        }
    )
    with_entry = sv.hazard_ratio_table(sv.cox_time_varying(data, "id", "start", "stop", "event")).iloc[0]
    assert with_entry["ci_low"] < hr < with_entry["ci_high"]
    naive = sv.hazard_ratio_table(sv.cox_time_varying(data.assign(start=0.0), "id", "start", "stop", "event"))
    naive = naive.iloc[0]
    # counting the exposed from 0 grants them time in which they could not die: HR biased down
    assert naive["ci_high"] < hr and naive["hr"] < with_entry["hr"]
