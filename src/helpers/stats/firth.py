"""Firth-penalised logistic regression: one model with profile limits, or many outcomes on one design.

Firth's (1993) penalty, the Jeffreys prior ``0.5 log det I(beta)``, removes the first-order bias
of maximum likelihood and keeps estimates finite under (quasi-)complete separation, which is the
rule rather than the exception for rare events such as the LoF calls of chapter 4. Fits use
modified-score Newton–Raphson with step halving (Heinze & Schemper 2002); intervals are profile
penalised-likelihood limits and p-values penalised likelihood-ratio tests, with the penalty of
the full model kept in the restricted fits, which is R ``logistf``'s default (``pl = TRUE``).

Why hand-written: statsmodels and scikit-learn have no Firth penalty, and a chapter tests hundreds
of genes on the same samples and covariates. :func:`firth_logistic_batch` fits all of them at
once with matrix products, many times faster than one Python-level fit per gene, which no package
does. Both paths agree with R's brglm2 (``glm(method = "brglmFit", type = "AS_mean")``)
to 1e-6 relative on coefficients and standard errors (``tests/test_firth_reference.py``, against
``../shared/reference/firth_reference.json``) and with closed forms of the 2x2 table
(``tests/test_lof.py``).

This module knows nothing of cohorts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats
from threadpoolctl import threadpool_limits

from helpers.errors import InputError, Violation, check, raise_violations

__all__ = ["FirthResult", "FirthBatchResult", "design_matrix", "firth_logistic", "firth_logistic_batch"]


@contextmanager
def _serial_blas() -> Iterator[None]:
    """Run the enclosed code with single-threaded BLAS, then restore the thread count.

    The vectorised Firth fits multiply tall, thin matrices (samples x genes by samples x 25):
    threaded OpenBLAS is many times slower than one thread on such shapes, and far worse on a
    busy machine.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@dataclass(frozen=True)
class FirthResult:
    """Result of :func:`firth_logistic`.

    Attributes
    ----------
    coef, se
        Penalised maximum-likelihood coefficients and their Wald standard errors
        (square roots of the diagonal of the inverse Fisher information at the estimate).
    ci_lower, ci_upper
        Profile penalised-likelihood confidence limits at ``level`` (NaN for coefficients that
        were not profiled; +-inf when the profile never crosses the chi-square cut-off).
    p_value
        Penalised likelihood-ratio test of coefficient = 0 (chi-square, 1 df), NaN if not profiled.
    penalized_loglik
        Log-likelihood plus 0.5 log det of the Fisher information, at the estimate.
    n_iter, converged
        Newton–Raphson iterations of the main fit and whether it converged.
    level
        Confidence level of the intervals.
    """

    coef: pd.Series
    se: pd.Series
    ci_lower: pd.Series
    ci_upper: pd.Series
    p_value: pd.Series
    penalized_loglik: float
    n_iter: int
    converged: bool
    level: float

    def summary(self) -> pd.DataFrame:
        """Coefficients, SEs, profile CIs, p-values and odds ratios as one table."""
        table = pd.DataFrame(
            {
                "coef": self.coef,
                "se": self.se,
                "ci_lower": self.ci_lower,
                "ci_upper": self.ci_upper,
                "p_value": self.p_value,
            }
        )
        table["odds_ratio"] = np.exp(table["coef"])
        table["or_ci_lower"] = np.exp(table["ci_lower"])
        table["or_ci_upper"] = np.exp(table["ci_upper"])
        return table


class _FirthProblem:
    """Penalised log-likelihood of a logistic model, Jeffreys-prior penalty (Firth 1993)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, max_iter: int, tol: float, max_step: float):
        self.X = X
        self.y = y
        self.max_iter = max_iter
        self.tol = tol
        self.max_step = max_step

    def loglik(self, beta: np.ndarray) -> float:
        eta = self.X @ beta
        # sum y*eta - log(1 + e^eta), computed stably
        loglik = float(np.sum(self.y * eta - np.logaddexp(0.0, eta)))
        p = special.expit(eta)
        w = p * (1.0 - p)
        info = self.X.T @ (self.X * w[:, None])
        sign, logdet = np.linalg.slogdet(info)
        if sign <= 0 or not np.isfinite(logdet):
            return -np.inf
        return loglik + 0.5 * logdet

    def score_and_info(self, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = special.expit(self.X @ beta)
        w = p * (1.0 - p)
        info = self.X.T @ (self.X * w[:, None])
        info_inv = np.linalg.inv(info)
        # diagonal of the hat matrix W^1/2 X I^-1 X' W^1/2
        hat = np.einsum("ij,jk,ik->i", self.X, info_inv, self.X) * w
        score = self.X.T @ (self.y - p + hat * (0.5 - p))
        return score, info

    def fit(self, beta0: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, float, int, bool]:
        """Maximise over the ``free`` coefficients; the others stay at their ``beta0`` values.

        Modified-score Newton–Raphson (Heinze & Schemper 2002) with a cap on the step length and
        step halving whenever the penalised log-likelihood would decrease.
        """
        beta = beta0.astype(float).copy()
        current = self.loglik(beta)
        if not np.isfinite(current):
            raise np.linalg.LinAlgError("Fisher information is singular at the starting values")
        if not free.any():
            return beta, current, 0, True
        for iteration in range(1, self.max_iter + 1):
            score, info = self.score_and_info(beta)
            step = np.zeros_like(beta)
            step[free] = np.linalg.solve(info[np.ix_(free, free)], score[free])
            largest = np.max(np.abs(step)) if free.any() else 0.0
            if largest > self.max_step:
                step *= self.max_step / largest
            candidate = beta + step
            new = self.loglik(candidate)
            halvings = 0
            while not (new >= current - 1e-12) and halvings < 30:
                step /= 2.0
                candidate = beta + step
                new = self.loglik(candidate)
                halvings += 1
            beta, previous, current = candidate, current, new
            if np.max(np.abs(step)) < self.tol and abs(current - previous) < 1e-10:
                return beta, current, iteration, True
            if largest < self.tol:
                return beta, current, iteration, True
        return beta, current, self.max_iter, False


def design_matrix(
    y: Sequence[float] | np.ndarray | pd.Series,
    X: pd.DataFrame | np.ndarray,
    add_intercept: bool = True,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Check a logistic model's outcome and covariates and build its design matrix.

    Parameters
    ----------
    y
        0/1 outcome, one value per row of ``X``.
    X
        Covariates (DataFrame: column names are the coefficient names; array: x1, x2, ...).
    add_intercept
        Prepend a column of ones named ``Intercept``.

    Returns
    -------
    (response, matrix, names)
        The outcome as floats, the n x p design matrix and the p coefficient names.

    Raises
    ------
    InputError
        Misaligned or non-numeric input, an outcome other than 0/1, missing or infinite
        covariates, repeated names, no coefficient, or a rank-deficient design.
    """
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        if isinstance(y, pd.Series) and not y.index.equals(X.index):
            raise InputError("firth_logistic: y and X have different indexes; align them first")
        try:
            matrix = X.to_numpy(dtype=float)
        except (TypeError, ValueError) as err:
            raise InputError(
                f"firth_logistic: X must be numeric; column dtypes {X.dtypes.to_dict()}"
            ) from err
    else:
        matrix = np.asarray(X, dtype=float)
        if matrix.ndim == 1:
            matrix = matrix[:, None]
        names = [f"x{i + 1}" for i in range(matrix.shape[1])]
    response = np.asarray(y, dtype=float).ravel()
    if matrix.ndim != 2 or matrix.shape[0] != response.shape[0]:
        raise InputError(f"firth_logistic: X has {matrix.shape[0]} rows but y has {response.shape[0]} values")
    violations: list[Violation] = []
    outcome = pd.DataFrame({"y": response})
    check(
        violations,
        outcome,
        ~np.isin(response, (0.0, 1.0)),
        table="y",
        column="y",
        rule="must be 0/1 without missing values",
    )
    covariates = pd.DataFrame(matrix, columns=names)
    for j, name in enumerate(names):
        check(
            violations,
            covariates,
            ~np.isfinite(matrix[:, j]),
            table="X",
            column=name,
            rule="must not have missing or infinite values",
        )
    raise_violations(violations, "firth_logistic: bad model input")
    if add_intercept:
        if "Intercept" in names:
            raise InputError("firth_logistic: X already has a column named 'Intercept'")
        matrix = np.column_stack([np.ones(len(response)), matrix])
        names = ["Intercept", *names]
    if len(set(names)) != len(names):
        raise InputError(f"firth_logistic: repeated column names {names}")
    if matrix.shape[1] == 0:
        raise InputError("firth_logistic: the model has no coefficients")
    if np.linalg.matrix_rank(matrix) < matrix.shape[1]:
        raise InputError(
            f"firth_logistic: the design matrix (columns {names}) is rank deficient: a column is "
            "constant or collinear with others"
        )
    return response, matrix, names


@_serial_blas()
def firth_logistic(
    y: Sequence[float] | np.ndarray | pd.Series,
    X: pd.DataFrame | np.ndarray,
    profile: str | Sequence[str] | None = None,
    level: float = 0.95,
    add_intercept: bool = True,
    max_iter: int = 200,
    tol: float = 1e-10,
    max_step: float = 5.0,
) -> FirthResult:
    """Firth-penalised logistic regression (Jeffreys-prior penalty), as R's ``logistf``.

    Maximises ``l(beta) + 0.5 * log det I(beta)`` by modified-score Newton–Raphson with step
    halving (Firth 1993; Heinze & Schemper 2002). Estimates are finite under separation.
    Confidence intervals are profile penalised-likelihood intervals and p-values are penalised
    likelihood-ratio tests, both with the penalty of the full model held in the restricted fits,
    which is ``logistf``'s default (``pl = TRUE``).

    Parameters
    ----------
    y
        0/1 outcome.
    X
        Covariates (DataFrame: column names are the coefficient names; array: x1, x2, ...).
    profile
        Coefficient name(s) for which to compute profile CIs and p-values; default all.
    level
        Confidence level.
    add_intercept
        Prepend a column of ones named ``Intercept``.
    max_iter, tol, max_step
        Newton–Raphson limits: iterations, convergence tolerance on the step, largest step.

    Returns
    -------
    FirthResult

    Raises
    ------
    InputError
        Non-binary or missing outcome, missing covariates, a rank-deficient design, an unknown
        coefficient name in ``profile``, a level outside (0, 1).
    """
    if not 0.0 < level < 1.0:
        raise InputError(f"firth_logistic: level must be in (0, 1), got {level}")
    response, matrix, names = design_matrix(y, X, add_intercept)
    problem = _FirthProblem(matrix, response, max_iter=max_iter, tol=tol, max_step=max_step)
    n_coef = matrix.shape[1]
    all_free = np.ones(n_coef, dtype=bool)
    beta, best, n_iter, converged = problem.fit(np.zeros(n_coef), all_free)
    _, info = problem.score_and_info(beta)
    se = np.sqrt(np.diag(np.linalg.inv(info)))

    if profile is None:
        targets = list(names)
    elif isinstance(profile, str):
        targets = [profile]
    else:
        targets = list(profile)
    unknown = [t for t in targets if t not in names]
    if unknown:
        raise InputError(f"firth_logistic: profile names {unknown} are not coefficients {names}")

    cutoff = float(stats.chi2.ppf(level, df=1))
    lower = pd.Series(np.nan, index=names)
    upper = pd.Series(np.nan, index=names)
    pvals = pd.Series(np.nan, index=names)
    for name in targets:
        k = names.index(name)
        free = all_free.copy()
        free[k] = False

        def restricted(value: float, start: np.ndarray = beta, k: int = k, free: np.ndarray = free) -> float:
            start = start.copy()
            start[k] = value
            _, loglik, _, _ = problem.fit(start, free)
            return loglik

        statistic = max(0.0, 2.0 * (best - restricted(0.0)))
        pvals[name] = float(stats.chi2.sf(statistic, df=1))

        def excess(value: float, restricted: Callable[[float], float] = restricted) -> float:
            return 2.0 * (best - restricted(value)) - cutoff

        for direction, store in ((-1.0, lower), (1.0, upper)):
            width = max(se[k], 0.1)
            inner = beta[k]
            bound = np.nan
            for _ in range(40):
                outer = beta[k] + direction * width
                if excess(outer) > 0:
                    bound = optimize.brentq(excess, min(inner, outer), max(inner, outer), xtol=1e-10)
                    break
                inner, width = outer, width * 2.0
            store[name] = bound if np.isfinite(bound) else direction * np.inf
    return FirthResult(
        coef=pd.Series(beta, index=names),
        se=pd.Series(se, index=names),
        ci_lower=lower,
        ci_upper=upper,
        p_value=pvals,
        penalized_loglik=best,
        n_iter=n_iter,
        converged=converged,
        level=level,
    )


# --------------------------------------------------------------------------------------------
# Many outcomes on one design (vectorised)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FirthBatchResult:
    """Result of :func:`firth_logistic_batch`: one Firth fit per outcome (column of ``Y``).

    Attributes
    ----------
    coef, se
        Coefficients and Wald standard errors, p x G (rows: columns of ``X``; columns: outcomes).
    profiled
        Index ``k`` of the coefficient (row of ``coef``) that was tested and profiled.
    p_value
        Penalised likelihood-ratio test of coefficient ``k`` = 0, one per outcome.
    ci_lower, ci_upper
        Profile penalised-likelihood limits of coefficient ``k`` (NaN without ``profile_ci``).
    converged
        Whether each outcome's main fit converged.
    """

    coef: np.ndarray
    se: np.ndarray
    profiled: int
    p_value: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    converged: np.ndarray


class _FirthBatch:
    """Firth fits of many 0/1 outcomes (the columns of ``Y``) that share one design ``X``.

    The same modified-score Newton–Raphson as :class:`_FirthProblem` (step cap, step halving when
    the penalised log-likelihood would fall, the same stopping rules), run for every outcome at
    once with matrix products. A cohort tests hundreds of genes on the same samples and
    covariates, so this replaces one Python-level fit per gene by a few vectorised passes.
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray, max_iter: int, tol: float, max_step: float):
        self.X = X  # n x p
        self.Y = Y  # n x G
        self.XtY = X.T @ Y  # sum_n y_n eta_n = (X'y)'beta: the data part never changes
        self.n_coef = X.shape[1]
        # row n holds the outer product x_n x_n', so that sum_n w_n x_n x_n' is one matrix product
        self.outer = (X[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1)
        self.max_iter = max_iter
        self.tol = tol
        self.max_step = max_step

    def evaluate(self, B: np.ndarray, cols: np.ndarray) -> dict[str, np.ndarray]:
        """Penalised log-likelihood at B (p x g) for outcomes ``cols``, with what the score needs."""
        eta = self.X @ B
        p = special.expit(eta)
        if eta.size and eta.max() <= 0.0:
            # log(1 + e^eta) = -log(1 - p), accurate while p <= 1/2 (rare outcomes: always)
            softplus = -np.log1p(-p).sum(axis=0)
        else:
            softplus = (np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta)))).sum(axis=0)
        w = p * (1.0 - p)
        info = (w.T @ self.outer).reshape(-1, self.n_coef, self.n_coef)
        sign, logdet = np.linalg.slogdet(info)
        loglik = np.einsum("ij,ij->j", self.XtY[:, cols], B) - softplus + 0.5 * logdet
        loglik[(sign <= 0) | ~np.isfinite(logdet)] = -np.inf
        return {"loglik": loglik, "p": p, "w": w, "info": info}

    def score(self, state: dict[str, np.ndarray], cols: np.ndarray) -> np.ndarray:
        """Modified score U* = X'(y - p + h(1/2 - p)) (p x g), h the hat diagonal."""
        p, w = state["p"], state["w"]
        info_inv = np.linalg.inv(state["info"])
        hat = self.outer @ info_inv.reshape(len(cols), -1).T
        hat *= w
        hat *= 0.5 - p
        np.subtract(p, hat, out=hat)
        return self.XtY[:, cols] - self.X.T @ hat

    @staticmethod
    def _take(state: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "loglik": state["loglik"][mask],
            "p": state["p"][:, mask],
            "w": state["w"][:, mask],
            "info": state["info"][mask],
        }

    @staticmethod
    def _put(state: dict[str, np.ndarray], mask: np.ndarray, part: dict[str, np.ndarray]) -> None:
        state["loglik"][mask] = part["loglik"]
        state["p"][:, mask] = part["p"]
        state["w"][:, mask] = part["w"]
        state["info"][mask] = part["info"]

    def fit(
        self, B0: np.ndarray, free: np.ndarray, cols: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Maximise over the ``free`` rows of B0 for the outcomes ``cols``; others stay fixed.

        Returns coefficients (p x g), penalised log-likelihoods, convergence flags and the
        modified score (p x g) at the start of each outcome's last iteration (the derivative of
        the profile used by :func:`_profile_limit`).
        """
        B = B0.astype(float).copy()
        g = B.shape[1]
        state = self.evaluate(B, cols)
        if not np.all(np.isfinite(state["loglik"])):
            raise np.linalg.LinAlgError("Fisher information is singular at the starting values")
        loglik = state["loglik"].copy()
        converged = np.zeros(g, dtype=bool)
        last_score = np.zeros_like(B)
        if not free.any():
            return B, loglik, np.ones(g, dtype=bool), self.score(state, cols)
        active = np.arange(g)
        for _ in range(self.max_iter):
            if active.size == 0:
                break
            Ba = B[:, active]
            score = self.score(state, cols[active])
            last_score[:, active] = score
            step = np.zeros_like(Ba)
            sub = state["info"][:, free][:, :, free]
            step[free] = np.linalg.solve(sub, score[free].T[..., None])[..., 0].T
            largest = np.max(np.abs(step), axis=0)
            capped = largest > self.max_step
            step[:, capped] *= self.max_step / largest[capped]
            candidate = Ba + step
            previous = state["loglik"]
            new_state = self.evaluate(candidate, cols[active])
            worse = ~(new_state["loglik"] >= previous - 1e-12)
            halvings = 0
            while worse.any() and halvings < 30:
                step[:, worse] /= 2.0
                candidate[:, worse] = Ba[:, worse] + step[:, worse]
                self._put(new_state, worse, self.evaluate(candidate[:, worse], cols[active[worse]]))
                worse &= ~(new_state["loglik"] >= previous - 1e-12)
                halvings += 1
            B[:, active] = candidate
            loglik[active] = new_state["loglik"]
            small_step = np.max(np.abs(step), axis=0) < self.tol
            done = (small_step & (np.abs(new_state["loglik"] - previous) < 1e-10)) | (largest < self.tol)
            converged[active[done]] = True
            active = active[~done]
            state = self._take(new_state, ~done)
        return B, loglik, converged, last_score


@_serial_blas()
def firth_logistic_batch(
    X: np.ndarray,
    Y: np.ndarray,
    k: int,
    level: float = 0.95,
    profile_ci: bool = True,
    max_iter: int = 200,
    tol: float = 1e-8,
    max_step: float = 5.0,
) -> FirthBatchResult:
    """Firth fits of every column of Y on X, with the penalised LRT and profile CI of coef ``k``.

    Parameters
    ----------
    X
        n x p design matrix, intercept included (e.g. from :func:`design_matrix`).
    Y
        n x G matrix of 0/1 outcomes, one model per column.
    k
        Index of the coefficient (column of ``X``) to test and profile.
    level
        Confidence level of the profile limits.
    profile_ci
        Compute the profile limits; without them ``ci_lower``/``ci_upper`` are NaN (the
        p-values, which decide what a chapter finds, do not need them) and the call is several
        times faster.
    max_iter, tol, max_step
        Newton–Raphson limits, as in :func:`firth_logistic`.

    Returns
    -------
    FirthBatchResult

    Notes
    -----
    The numbers are those of :func:`firth_logistic` (``profile`` = that coefficient) for each
    column: the same penalised likelihood and fitting algorithm, the penalised likelihood-ratio
    test with the full-model penalty kept in the restricted fits, and profile limits where
    ``2 (l*(beta_hat) - l*_restricted(b)) = chi2_{1, level}``. Only the root finder of the limits
    differs: a Newton search on the profile (its slope is the k-th modified score at the
    restricted optimum), kept inside a bracket and falling back to bisection, instead of Brent's
    method; both stop within 1e-10 of the root.
    """
    n_coef = X.shape[1]
    n_out = Y.shape[1]
    problem = _FirthBatch(X, Y, max_iter=max_iter, tol=tol, max_step=max_step)
    every = np.arange(n_out)
    all_free = np.ones(n_coef, dtype=bool)
    B, best, converged, _ = problem.fit(np.zeros((n_coef, n_out)), all_free, every)
    state = problem.evaluate(B, every)
    standard_errors = np.sqrt(np.diagonal(np.linalg.inv(state["info"]), axis1=1, axis2=2)).T
    se = standard_errors[k]
    free = all_free.copy()
    free[k] = False

    # first-order move of the other coefficients when coefficient k is pushed (warm starts)
    info = state["info"]
    drift = -np.linalg.solve(info[:, free][:, :, free], info[:, free, k][..., None])[..., 0].T

    def restricted(values: np.ndarray, cols: np.ndarray, start: np.ndarray):
        B0 = start.copy()
        B0[free] += drift[:, cols] * (values - start[k])
        B0[k] = values
        return problem.fit(B0, free, cols)

    _, null_loglik, _, _ = restricted(np.zeros(n_out), every, B)
    statistic = np.maximum(0.0, 2.0 * (best - null_loglik))
    p_value = stats.chi2.sf(statistic, df=1)

    cutoff = float(stats.chi2.ppf(level, df=1))
    limits = {}
    for direction in (-1.0, 1.0):
        bound = np.full(n_out, np.nan)
        if profile_ci:
            bound = _profile_limit(restricted, B, best, se, k, direction, cutoff)
        limits[direction] = bound
    return FirthBatchResult(
        coef=B,
        se=standard_errors,
        profiled=k,
        p_value=p_value,
        ci_lower=limits[-1.0],
        ci_upper=limits[1.0],
        converged=converged,
    )


def _profile_limit(restricted, B, best, se, k, direction, cutoff, max_eval: int = 100) -> np.ndarray:
    """One profile limit per column: the root of ``excess(b) = 2 (best - l_r(b)) - cutoff``.

    ``lo`` (excess < 0, starting at the estimate) and ``hi`` (excess > 0, unknown at first) bracket
    the root; a Newton step that leaves the bracket is replaced by bisection, or, while no ``hi``
    is known, by doubling the distance from the estimate. A column whose profile never reaches the
    cut-off within 0.1 * 2**40 of the estimate (the search range of :func:`firth_logistic`)
    gets an infinite limit.
    """
    n_out = B.shape[1]
    estimate = B[k]
    reach = np.maximum(se, 0.1) * 2.0**40
    bound = np.full(n_out, direction * np.inf)
    lo = estimate.copy()
    hi = np.full(n_out, np.nan)
    x = estimate + direction * np.sqrt(cutoff) * se  # the Wald limit
    warm = B.copy()
    todo = np.arange(n_out)
    for _ in range(max_eval):
        if todo.size == 0:
            break
        fitted, loglik, _, score = restricted(x[todo], todo, warm[:, todo])
        warm[:, todo] = fitted
        excess = 2.0 * (best[todo] - loglik) - cutoff
        slope = -2.0 * score[k]  # d excess / d b
        xt = x[todo]
        above = excess > 0
        hi[todo[above]] = xt[above]
        lo[todo[~above]] = xt[~above]
        newton = xt - excess / np.where(slope != 0, slope, np.nan)
        have_hi = ~np.isnan(hi[todo])
        lo_t, hi_t = lo[todo], hi[todo]
        # a Newton step must move away from the estimate past lo, and stay short of hi if known
        inside = (
            ((newton - lo_t) * direction > 0)
            & np.where(have_hi, (hi_t - newton) * direction > 0, True)
            & np.isfinite(newton)
        )
        fallback = np.where(have_hi, 0.5 * (lo_t + hi_t), estimate[todo] + 2.0 * (xt - estimate[todo]))
        proposal = np.where(inside, newton, fallback)
        width = np.where(have_hi, np.abs(hi_t - lo_t), np.inf)
        settled = (np.abs(excess) < 1e-10) | (width < 1e-10) | (inside & (np.abs(newton - xt) < 1e-10))
        bound[todo[settled]] = np.where(np.abs(excess[settled]) < 1e-10, xt[settled], proposal[settled])
        too_far = ~settled & ~have_hi & (np.abs(proposal - estimate[todo]) > reach[todo])
        x[todo] = proposal
        todo = todo[~settled & ~too_far]
    if todo.size:  # not settled within max_eval evaluations: the bracket's midpoint or +-inf
        bound[todo] = np.where(np.isnan(hi[todo]), direction * np.inf, 0.5 * (lo[todo] + hi[todo]))
    return bound
