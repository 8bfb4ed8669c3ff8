"""Cox model on counting-process data (start, stop], with strata and Efron ties, in O(n log n).

The equivalent of R's ``coxph(Surv(start, stop, event) ~ x + strata(s), ties = "efron")``.
:func:`helpers.stats.survival.cox_time_varying` calls :func:`fit_cox_counting` after its input
checks; use that function, not this module, from an analysis.

Why hand-written
----------------
lifelines' :class:`~lifelines.CoxTimeVaryingFitter` (0.30) builds the risk set of every event
time with a boolean mask over all rows, and then computes a baseline cumulative hazard the same
way; both are O(rows x event times), quadratic in the cohort (``bench/cox_counting.py``: 47-77 s at
20,000 patients against 0.12-0.25 s here; most of a chapter's time at 100,000).
``CoxPHFitter(entry_col=...)`` is no faster. Here the data are sorted once and every risk-set
sum is a difference of cumulative sums, so one Newton step costs O(n p^2) after an O(n log n)
sort, and the fit is exact: it maximises the same Efron partial likelihood as R and lifelines,
and agrees with lifelines to ~1e-12 in coefficients and standard errors
(``tests/test_cox_counting.py``) and with R's ``coxph`` to 1e-6 (``tests/test_survival.py``).
The baseline hazard, which a hazard ratio does not need, is not computed.

Risk sets (as R)
----------------
A row (start, stop] of stratum s is at risk at time t when ``start < t <= stop``; it has an
event at ``stop``. So a row that starts at t is not in the risk set of t (delayed entry at t), and
a row censored at t is. At each distinct event time t of a stratum, with D the d rows that have
an event at t, R the risk set and r_i = exp(x_i'beta):

    S0 = sum_R r_i,   S1 = sum_R r_i x_i,   S2 = sum_R r_i x_i x_i'

are sums over rows with ``stop >= t`` minus sums over rows with ``start >= t`` (the latter are a
subset of the former since start < stop), each read off one reverse cumulative sum of the rows
sorted by (stratum, stop) and (stratum, start) with ``searchsorted``. Efron's correction
replaces the denominator of the l-th of the d tied deaths (l = 0..d-1) by
S0 - (l/d) S0_D (S0_D the sum over D; likewise S1 and S2), so

    log L = sum_t [ sum_D x_i'beta - sum_l log(S0 - l/d S0_D) ],
    U     = sum_t [ sum_D x_i - sum_l a_l ],   a_l = (S1 - l/d S1_D) / (S0 - l/d S0_D),
    I     = sum_t sum_l [ (S2 - l/d S2_D) / (S0 - l/d S0_D) - a_l a_l' ].

The S2 part of I is never formed per event time (that would be an events x p x p array):
sum_t c_t S2(t) with c_t = sum_l 1/den_l equals sum_i r_i w_i x_i x_i', where w_i is the sum of
c_t over the event times of row i's stratum in (start_i, stop_i] (a difference of a cumulative
sum over event times), so it is one weighted X'X. Covariates are centred at their means (as R
does; the coefficients do not change) and exp() is taken of x'beta minus its maximum.

Fitting
-------
Newton-Raphson from beta = 0 with full steps, halving a step while it lowers the log partial
likelihood (as R's ``coxph``; once the predicted gain is below 1e-12 |log L|, where comparing
log-likelihoods is rounding noise, the full step is taken). It stops when the Newton decrement U'I^-1 U / 2 (the increase
of the log partial likelihood the next step would bring) is below ``precision``, when the step
is shorter than ``precision``, or when the relative change of the log partial likelihood is
below ``r_precision`` (R's rule, ``coxph.control(eps = 1e-9)``). The defaults are those of
:data:`helpers.stats.survival.R_CONFORMANT_FIT_OPTIONS` (decrement below 1e-14, R's rule off),
which reproduce R to ~1e-10. As in lifelines, ``penalizer`` adds
``penalizer * n_rows / 2 * sum((sd_j beta_j)^2)`` (a ridge penalty on the standardised
coefficients, sd over rows) to minus the log-likelihood.

Failures are reported as before: an information matrix that is not positive definite
(collinear or constant covariates, no events) raises :class:`SingularFitError`, which is both a
:class:`lifelines.exceptions.ConvergenceError` and a :class:`numpy.linalg.LinAlgError` (lifelines
raised one or the other); a fit that runs out of steps, or whose last Newton step is still large
(monotone likelihood: a covariate separates the events, the coefficient may be infinite; R's
``toler.inf`` rule), warns with :class:`lifelines.exceptions.ConvergenceWarning` and returns.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from scipy import linalg, stats

from helpers.errors import ParameterError

__all__ = ["ChiSquareTest", "CoxCountingFit", "SingularFitError", "fit_cox_counting"]

#: Stopping rules (see the module docstring); the same values as R_CONFORMANT_FIT_OPTIONS.
DEFAULT_PRECISION = 1e-14
DEFAULT_R_PRECISION = 0.0
DEFAULT_MAX_STEPS = 50
# R's coxph.control(toler.inf = sqrt(eps)), eps = 1e-9: a last Newton step above it (absolutely
# and relative to the coefficient) means the log-likelihood converged before the coefficient.
_TOLER_INF = np.sqrt(1e-9)
# A step that does not raise the log-likelihood while the predicted gain is below this share of
# |log L| is at the resolution of floating point: the fit has converged.
_FLOAT_RESOLUTION = 1e-12
# R's coxph.control(toler.chol = eps^0.75): a Cholesky pivot below this share of its diagonal
# element means the covariate is a linear combination of the others (R drops it, we raise).
_TOLER_CHOL = 1e-9**0.75
_MAX_HALVINGS = 40


class SingularFitError(ConvergenceError, np.linalg.LinAlgError):
    """The information matrix is not positive definite (collinear or constant covariates, no events)."""


@dataclass(frozen=True)
class ChiSquareTest:
    """A chi-square test: statistic, degrees of freedom, p-value (lifelines' names as aliases)."""

    name: str
    statistic: float
    df: int
    p: float

    @property
    def test_statistic(self) -> float:
        return self.statistic

    @property
    def degrees_freedom(self) -> int:
        return self.df

    @property
    def p_value(self) -> float:
        return self.p


def _chi_square(name: str, statistic: float, df: int) -> ChiSquareTest:
    return ChiSquareTest(name, float(statistic), int(df), float(stats.chi2.sf(statistic, df)))


class CoxCountingFit:
    """A fitted Cox model on counting-process data, with lifelines' attribute names.

    Attributes
    ----------
    params_, standard_errors_ : pandas.Series
        Coefficients (name ``coef``) and model-based standard errors (name ``se``), indexed by
        covariate (index name ``covariate``).
    hazard_ratios_ : pandas.Series
        exp(coef).
    variance_matrix_ : pandas.DataFrame
        Inverse of the (penalised) information at the estimate, covariates on both axes.
    confidence_intervals_ : pandas.DataFrame
        Wald limits of the coefficients, columns ``95% lower-bound``, ``95% upper-bound``.
    alpha, penalizer : float
    log_likelihood_, log_likelihood_null_ : float
        Log partial likelihood at the estimate (minus the penalty, as lifelines) and at beta = 0.
    score_test_, wald_test_ : ChiSquareTest
        R's ``coxph`` score test at beta = 0 (Efron information; the log-rank test with delayed
        entry when the covariate is one group indicator and there are no ties) and Wald test.
    iterations_, converged_ : int, bool
    n_examples, n_unique, n_events, n_strata : int
        Rows, distinct ids (rows when no id is given), events and strata.
    """

    def __init__(
        self,
        *,
        names: list[str],
        beta: np.ndarray,
        variance: np.ndarray,
        log_likelihood: float,
        log_likelihood_null: float,
        score_statistic: float,
        alpha: float,
        penalizer: float,
        iterations: int,
        converged: bool,
        counts: dict[str, int],
        columns: dict[str, Any],
    ):
        index = pd.Index(names, name="covariate")
        self.alpha = float(alpha)
        self.penalizer = float(penalizer)
        self.params_ = pd.Series(beta, index=index, name="coef")
        self.variance_matrix_ = pd.DataFrame(variance, index=index, columns=index)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(variance)), index=index, name="se")
        self.hazard_ratios_ = pd.Series(np.exp(beta), index=index, name="exp(coef)")
        self.log_likelihood_ = float(log_likelihood)
        self.log_likelihood_null_ = float(log_likelihood_null)
        p = len(names)
        self.score_test_ = _chi_square("score test (beta = 0)", score_statistic, p)
        with np.errstate(all="ignore"):
            wald = float(beta @ np.linalg.solve(variance, beta)) if p else 0.0
        self.wald_test_ = _chi_square("Wald test", wald, p)
        self.iterations_ = int(iterations)
        self.converged_ = bool(converged)
        self.n_examples = counts["rows"]
        self.n_unique = counts["unique"]
        self.n_events = counts["events"]
        self.n_strata = counts["strata"]
        self.event_col = columns.get("event_col")
        self.start_col = columns.get("start_col")
        self.stop_col = columns.get("stop_col")
        self.id_col = columns.get("id_col")
        self.strata = columns.get("strata")

    @property
    def _z_crit(self) -> float:
        return float(stats.norm.ppf(1 - self.alpha / 2))

    @property
    def confidence_intervals_(self) -> pd.DataFrame:
        level = 100 * (1 - self.alpha)
        half = self._z_crit * self.standard_errors_
        return pd.DataFrame(
            {
                f"{level:g}% lower-bound": self.params_ - half,
                f"{level:g}% upper-bound": self.params_ + half,
            }
        )

    @property
    def summary(self) -> pd.DataFrame:
        """lifelines' summary table: coef, exp(coef), se(coef), limits, cmp to, z, p, -log2(p)."""
        level = 100 * (1 - self.alpha)
        coef, se = self.params_, self.standard_errors_
        with np.errstate(all="ignore"):
            z = coef / se
            p = 2 * stats.norm.sf(np.abs(z))
            table = pd.DataFrame(index=self.params_.index)
            table["coef"] = coef
            table["exp(coef)"] = self.hazard_ratios_
            table["se(coef)"] = se
            table[f"coef lower {level:g}%"] = coef - self._z_crit * se
            table[f"coef upper {level:g}%"] = coef + self._z_crit * se
            table[f"exp(coef) lower {level:g}%"] = np.exp(coef - self._z_crit * se)
            table[f"exp(coef) upper {level:g}%"] = np.exp(coef + self._z_crit * se)
            table["cmp to"] = 0.0
            table["z"] = z
            table["p"] = p
            table["-log2(p)"] = -np.log2(p)
        return table

    def log_likelihood_ratio_test(self) -> ChiSquareTest:
        """Likelihood-ratio test of all coefficients against the model without covariates."""
        statistic = 2 * (self.log_likelihood_ - self.log_likelihood_null_)
        return _chi_square("log-likelihood ratio test", statistic, len(self.params_))

    def print_summary(self, decimals: int = 3) -> None:
        """Print the summary table and the three global tests."""
        print(self.summary.round(decimals).to_string())
        for test in (self.log_likelihood_ratio_test(), self.wald_test_, self.score_test_):
            print(f"{test.name}: {test.statistic:.{decimals}f} on {test.df} df, p = {test.p:.3g}")

    def __repr__(self) -> str:
        return (
            f"<CoxCountingFit: {self.n_examples} rows, {self.n_events} events, "
            f"{self.n_strata} strata, covariates {list(self.params_.index)}>"
        )


class _RiskSets:
    """The sort of the rows done once: where each event time's risk set and tied deaths are.

    Row-wise quantities are kept as (covariate, row) arrays so that every cumulative sum runs
    over contiguous memory; the rows sorted by stop (and by start) are stored in decreasing
    order, so that a forward cumulative sum is the suffix sum "rows with stop >= t".
    """

    def __init__(
        self, x: np.ndarray, start: np.ndarray, stop: np.ndarray, event: np.ndarray, codes: np.ndarray
    ):
        n = len(stop)
        self.x = x - x.mean(axis=0) if n else x
        times = np.unique(np.concatenate([start, stop]))
        width = np.int64(len(times) + 1)  # stratum * width + rank of the time: exact integer keys
        key_start = codes * width + np.searchsorted(times, start)
        key_stop = codes * width + np.searchsorted(times, stop)
        events = np.flatnonzero(event)
        self.events = events[np.argsort(key_stop[events], kind="stable")]
        event_keys, self.first = np.unique(key_stop[self.events], return_index=True)
        ties = np.diff(np.append(self.first, len(self.events)))
        self.slot_group = np.repeat(np.arange(len(event_keys)), ties)
        # the l-th (l = 0..d-1) of the d deaths tied at a time has Efron weight l / d
        self.fraction = (np.arange(len(self.events)) - self.first[self.slot_group]) / ties[self.slot_group]
        stratum_end = (event_keys // width + 1) * width
        # risk set of an event time t of stratum s: rows of s with stop >= t minus rows with
        # start >= t; in decreasing key order the rows with key >= k are the first
        # n - searchsorted(sorted keys, k) of them, a difference of two prefix sums
        self.windows = []
        for key in (key_stop, key_start):
            order = np.argsort(key, kind="stable")
            ascending = key[order]
            low = n - np.searchsorted(ascending, event_keys)
            high = n - np.searchsorted(ascending, stratum_end)
            descending = order[::-1].copy()
            self.windows.append((descending, np.ascontiguousarray(self.x[descending].T), low, high))
        # event times of the row's stratum in (start, stop]: a range of the sorted event keys
        self.row_events = (
            np.searchsorted(event_keys, key_start, side="right"),
            np.searchsorted(event_keys, key_stop, side="right"),
        )
        self.x_events = self.x[self.events]
        self.x_events_t = np.ascontiguousarray(self.x_events.T)
        self.x_event_sum = self.x_events.sum(axis=0)

    def _window_sums(self, risk: np.ndarray, window: tuple) -> np.ndarray:
        """(1 + p) x event times: sums of r and r x over the rows of each window."""
        order, x_t, low, high = window
        ordered = risk[order]
        prefix = np.zeros((x_t.shape[0] + 1, len(ordered) + 1))
        np.cumsum(ordered, out=prefix[0, 1:])
        np.cumsum(x_t * ordered, axis=1, out=prefix[1:, 1:])
        return prefix[:, low] - prefix[:, high]

    def evaluate(self, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Log partial likelihood, score and information (Efron) at ``beta``."""
        x, events = self.x, self.events
        p = x.shape[1]
        if len(events) == 0:
            return 0.0, np.zeros(p), np.zeros((p, p))
        eta = x @ beta
        shift = float(eta.max())
        risk = np.exp(eta - shift)
        stop_window, start_window = self.windows
        at_risk = self._window_sums(risk, stop_window) - self._window_sums(risk, start_window)
        risk_events = risk[events]
        tied = np.empty((p + 1, len(events)))
        tied[0] = risk_events
        tied[1:] = self.x_events_t * risk_events
        tied = np.add.reduceat(tied, self.first, axis=1)
        group, fraction = self.slot_group, self.fraction
        slots = at_risk[:, group] - fraction * tied[:, group]  # Efron's denominators, per death
        inverse = 1.0 / slots[0]
        mean = slots[1:] * inverse  # p x deaths
        log_likelihood = float(eta[events].sum() + np.log(inverse).sum() - shift * len(events))
        score = self.x_event_sum - mean.sum(axis=1)
        per_time = np.add.reduceat(inverse, self.first)
        per_time_tied = np.add.reduceat(fraction * inverse, self.first)
        cumulative = np.concatenate([[0.0], np.cumsum(per_time)])
        low, high = self.row_events
        row_weight = risk * (cumulative[high] - cumulative[low])
        event_weight = risk_events * per_time_tied[group]
        information = (
            (x.T * row_weight) @ x - (self.x_events_t * event_weight) @ self.x_events - mean @ mean.T
        )
        return log_likelihood, score, (information + information.T) / 2


def _solve(information: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, tuple]:
    if not (np.all(np.isfinite(information)) and np.all(np.isfinite(score))):
        raise SingularFitError("the information matrix or the score is not finite; the fit cannot proceed")
    try:
        factor = linalg.cho_factor(information)
    except linalg.LinAlgError as exc:
        raise SingularFitError(
            "the information matrix is not positive definite: covariates are collinear or constant "
            "in the risk sets, or there are no events"
        ) from exc
    pivots = np.diag(factor[0]) ** 2
    if np.any(pivots <= _TOLER_CHOL * np.diag(information)):
        raise SingularFitError(
            "the information matrix is singular (R's toler.chol): a covariate is, within rounding, "
            "a linear combination of the others in the risk sets"
        )
    return linalg.cho_solve(factor, score), factor


def _fit_options(options: dict[str, Any]) -> tuple[float, float, int]:
    known = {"precision", "r_precision", "max_steps", "step_size"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ParameterError(f"fit_cox_counting: unknown fit option(s) {unknown}; known: {sorted(known)}")
    precision = float(options.get("precision", DEFAULT_PRECISION))
    r_precision = float(options.get("r_precision", DEFAULT_R_PRECISION))
    max_steps = int(options.get("max_steps", DEFAULT_MAX_STEPS))
    if not (precision >= 0 and r_precision >= 0 and max_steps >= 1):
        raise ParameterError("fit_cox_counting: precision, r_precision must be >= 0 and max_steps >= 1")
    return precision, r_precision, max_steps


def _strata_codes(strata: Any, n: int) -> tuple[np.ndarray, int]:
    if strata is None:
        return np.zeros(n, dtype=np.int64), 1 if n else 0
    frame = strata.to_frame() if isinstance(strata, pd.Series) else pd.DataFrame(strata)
    if frame.shape[1] == 0:
        return np.zeros(n, dtype=np.int64), 1 if n else 0
    codes = frame.groupby(list(frame.columns), sort=True, dropna=False).ngroup().to_numpy(dtype=np.int64)
    return codes, int(codes.max()) + 1 if n else 0


def fit_cox_counting(
    covariates: pd.DataFrame,
    start: Any,
    stop: Any,
    event: Any,
    strata: pd.DataFrame | pd.Series | None = None,
    *,
    ids: Any = None,
    alpha: float = 0.05,
    penalizer: float = 0.0,
    columns: dict[str, Any] | None = None,
    **fit_options: float,
) -> CoxCountingFit:
    """Fit a Cox model with Efron ties to rows (start, stop], optionally stratified.

    The inputs are taken as checked (finite numeric covariates, 0 <= start < stop, events 0/1):
    :func:`helpers.stats.survival.cox_time_varying` checks them.

    Parameters
    ----------
    covariates : pandas.DataFrame
        One numeric column per covariate, one row per interval.
    start, stop, event : array-like
        Interval bounds and event indicator (at ``stop``), one per row.
    strata : DataFrame or Series, optional
        Stratum columns; every distinct combination is a stratum with its own risk sets.
    ids : array-like, optional
        Patient ids (only counted, into ``n_unique``).
    alpha : float
        1 - confidence level of the intervals in ``summary`` and ``confidence_intervals_``.
    penalizer : float
        lifelines' ridge penalty (0 for R's unpenalised fit).
    columns : dict, optional
        Column names recorded on the result (event_col, start_col, stop_col, id_col, strata).
    **fit_options
        ``precision``, ``r_precision``, ``max_steps`` (see the module docstring); lifelines'
        ``step_size`` is accepted and ignored (steps are full Newton steps, halved as in R).

    Returns
    -------
    CoxCountingFit
    """
    precision, r_precision, max_steps = _fit_options(fit_options)
    names = [str(c) for c in covariates.columns]
    x = covariates.to_numpy(dtype=float)
    start_v = np.asarray(start, dtype=float)
    stop_v = np.asarray(stop, dtype=float)
    event_v = np.asarray(event).astype(bool)
    n, p = x.shape
    codes, n_strata = _strata_codes(strata, n)
    risk_sets = _RiskSets(x, start_v, stop_v, event_v, codes)
    if penalizer > 0:
        ridge = penalizer * n * (x.std(axis=0, ddof=1) ** 2 if n > 1 else np.zeros(p))
    else:
        ridge = np.zeros(p)

    def evaluate(b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        ll, u, info = risk_sets.evaluate(b)
        return ll - 0.5 * float(ridge @ b**2), u - ridge * b, info + np.diag(ridge)

    beta = np.zeros(p)
    log_likelihood_null, score_null, information_null = risk_sets.evaluate(beta)
    try:
        score_statistic = float(score_null @ _solve(information_null, score_null)[0])
    except SingularFitError:  # only a penalised fit can get past a singular information at 0
        score_statistic = float("nan")
    ll, score, information = log_likelihood_null, score_null, information_null + np.diag(ridge)
    converged, iterations = False, 0
    while True:
        step, factor = _solve(information, score)
        decrement = float(score @ step) / 2
        if decrement <= precision or np.linalg.norm(step) <= precision:
            converged = True
            break
        if iterations >= max_steps:
            break
        candidate, halvings = beta + step, 0
        # a gain below the resolution of log L cannot be seen in it (comparing log-likelihoods
        # is then rounding noise) while the quadratic model is exact: take the full step
        resolved = decrement > _FLOAT_RESOLUTION * max(1.0, abs(ll))
        while True:
            iterations += 1
            new_ll, new_score, new_information = evaluate(candidate)
            if np.isfinite(new_ll) and (new_ll >= ll or not resolved):
                break
            if halvings >= _MAX_HALVINGS:
                candidate = None  # no step along the Newton direction raises log L
                break
            candidate, halvings = (candidate + beta) / 2, halvings + 1
        if candidate is None:
            break
        relative_change = abs(1 - ll / new_ll) if new_ll != 0 else abs(new_ll - ll)
        beta, ll, score, information = candidate, new_ll, new_score, new_information
        if halvings == 0 and relative_change <= r_precision:
            converged = True
            step, factor = _solve(information, score)
            break
    variance = linalg.cho_solve(factor, np.eye(p))
    if not converged:
        warnings.warn(
            f"fit_cox_counting: Newton-Raphson did not converge ({iterations} evaluations of the "
            f"log-likelihood, max_steps={max_steps}; Newton decrement {decrement:.3g})",
            ConvergenceWarning,
            stacklevel=2,
        )
    else:
        infinite = (np.abs(step) > _TOLER_INF) & (np.abs(step) > _TOLER_INF * np.abs(beta))
        if infinite.any():
            warnings.warn(
                "fit_cox_counting: the log partial likelihood converged before the coefficient(s) of "
                f"{[names[i] for i in np.flatnonzero(infinite)]}; they may be infinite (a covariate "
                "separates the events)",
                ConvergenceWarning,
                stacklevel=2,
            )
    unique = int(pd.unique(np.asarray(ids)).size) if ids is not None else n
    return CoxCountingFit(
        names=names,
        beta=beta,
        variance=variance,
        log_likelihood=ll,
        log_likelihood_null=log_likelihood_null,
        score_statistic=score_statistic,
        alpha=alpha,
        penalizer=penalizer,
        iterations=iterations,
        converged=converged,
        counts={"rows": n, "unique": unique, "events": int(event_v.sum()), "strata": n_strata},
        columns=dict(columns or {}),
    )
