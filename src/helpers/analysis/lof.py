"""Loss-of-function (LoF) calls, panel-aware carrier matrices and the statistics of DESIGN §4.

The tables follow the canonical data model (DESIGN §3):

* ``mutations``: sample_id, gene, variant_classification (MAF vocabulary), [protein_change], [vaf]
* ``cna``: sample_id, gene, copy_state (integer, -2 deep deletion ... +2 amplification)
* ``panels``: panel_id, gene
* ``samples``: sample_id, patient_id, collection_day, assay (DNA/RNA/DNA+RNA), [panel_id], ...

LoF is a truncating variant (:data:`TRUNCATING_CLASSES`) or a deep deletion
(:data:`DEEP_DELETION`). A gene that is not on a sample's panel is *not assayed* (NaN), never wild
type. The statistics are Fisher's exact test, Firth-penalised logistic regression with profile
penalised-likelihood intervals (Heinze & Schemper 2002; what R's ``logistf`` does by default),
Benjamini–Hochberg and an exact McNemar test for LoF gained between paired samples.
"""
from __future__ import annotations

import re
import warnings
from os import PathLike
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats
from threadpoolctl import threadpool_limits

from helpers.data.cohort import Cohort
from helpers.data.maf import (  # noqa: F401  (re-exported until chapter 4 is split)
    DEEP_DELETION,
    FOUNDATIONONE_COPY_STATES,
    FOUNDATIONONE_SHORT_VARIANT_CLASSES,
    MAF_VARIANT_CLASSES,
    NONSYNONYMOUS_CLASSES,
    TRUNCATING_CLASSES,
    map_foundationone,
)
from helpers.data.panels import read_gene_list  # noqa: F401
from helpers.stats.multiple import benjamini_hochberg  # noqa: F401
from helpers.analysis.derive import sample_table as derive_sample_table

__all__ = [
    "MAF_VARIANT_CLASSES",
    "TRUNCATING_CLASSES",
    "NONSYNONYMOUS_CLASSES",
    "DEEP_DELETION",
    "WHOLE_EXOME_KEY",
    "FOUNDATIONONE_SHORT_VARIANT_CLASSES",
    "FOUNDATIONONE_COPY_STATES",
    "LofInputError",
    "UnknownPanelError",
    "FirthResult",
    "FisherResult",
    "read_gene_list",
    "lof_matrix",
    "tmb_per_mb",
    "firth_logistic",
    "fisher_or",
    "benjamini_hochberg",
    "compare_groups",
    "paired_gain_test",
    "map_foundationone",
    "PRIMARY_COMPARISON",
    "SECONDARY_COMPARISON",
    "PAIRED_ACQUIRED",
    "PAIRED_PRIMARY",
    "COMPARISON_LABELS",
    "LOF_GROUPS",
    "FOUND_CRITERIA",
    "CRITERION_COLUMNS",
    "select_lof_samples",
    "lof_covariates",
    "lof_event_kinds",
    "AcquiredLofAnalysis",
    "acquired_lof_analysis",
    "leading_genes",
    "found_table",
    "paired_table",
    "skipped_sentences",
    "planted_lof_pairs",
    "discovery_report",
]

# --------------------------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------------------------

#: Key of ``panel_sizes_mb`` used for DNA samples without a panel (whole-exome sequencing).
WHOLE_EXOME_KEY: str = "whole_exome"

_ASSAYS_WITH_DNA = frozenset({"DNA", "DNA+RNA"})
_ASSAYS = frozenset({"DNA", "RNA", "DNA+RNA"})


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class LofInputError(ValueError):
    """Bad input to a function of :mod:`helpers.analysis.lof` (the message says what and where)."""


class UnknownPanelError(KeyError):
    """A sample refers to a panel_id that the ``panels`` table does not define."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


def _require_columns(frame: pd.DataFrame, columns: Iterable[str], table: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise LofInputError(f"{table}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise LofInputError(
            f"{table}: missing column(s) {missing}; columns present: {list(frame.columns)}"
        )


def _examples(frame: pd.DataFrame, mask: pd.Series | np.ndarray, n: int = 3) -> str:
    return frame.loc[np.asarray(mask)].head(n).to_string(index=False)


# --------------------------------------------------------------------------------------------
# LoF matrix and TMB
# --------------------------------------------------------------------------------------------


def _validate_samples(samples: pd.DataFrame) -> pd.DataFrame:
    _require_columns(samples, ["sample_id", "assay"], "samples")
    if samples["sample_id"].isna().any():
        raise LofInputError("samples.sample_id: missing values")
    dup = samples["sample_id"].duplicated(keep=False)
    if dup.any():
        raise LofInputError(
            f"samples.sample_id: must be unique; {int(dup.sum())} rows share an id, e.g.\n"
            + _examples(samples[["sample_id", "assay"]], dup)
        )
    bad = ~samples["assay"].isin(_ASSAYS)
    if bad.any():
        raise LofInputError(
            f"samples.assay: must be one of {sorted(_ASSAYS)}; {int(bad.sum())} rows break it, e.g.\n"
            + _examples(samples[["sample_id", "assay"]], bad)
        )
    out = samples.copy()
    if "panel_id" not in out.columns:
        out["panel_id"] = pd.NA
    return out


def _check_sample_ids(frame: pd.DataFrame, known: pd.Index, table: str) -> None:
    unknown = ~frame["sample_id"].isin(known)
    if unknown.any():
        raise LofInputError(
            f"{table}.sample_id: {int(unknown.sum())} rows name a sample absent from samples, e.g.\n"
            + _examples(frame, unknown)
        )


def _validate_mutations(mutations: pd.DataFrame) -> None:
    _require_columns(mutations, ["sample_id", "gene", "variant_classification"], "mutations")
    bad = ~mutations["variant_classification"].isin(MAF_VARIANT_CLASSES)
    if bad.any():
        values = sorted(mutations.loc[bad, "variant_classification"].astype(str).unique())
        raise LofInputError(
            "mutations.variant_classification: not in the MAF vocabulary "
            f"({int(bad.sum())} rows; values {values[:10]}), e.g.\n"
            + _examples(mutations[["sample_id", "gene", "variant_classification"]], bad)
        )


def _validate_cna(cna: pd.DataFrame) -> None:
    _require_columns(cna, ["sample_id", "gene", "copy_state"], "cna")
    state = pd.to_numeric(cna["copy_state"], errors="coerce")
    bad = state.isna() | ~state.isin([-2, -1, 0, 1, 2])
    if bad.any():
        raise LofInputError(
            f"cna.copy_state: must be an integer in -2..2; {int(bad.sum())} rows break it, e.g.\n"
            + _examples(cna[["sample_id", "gene", "copy_state"]], bad)
        )


def _assayed_matrix(
    samples: pd.DataFrame, panels: pd.DataFrame, genes: list[str]
) -> pd.DataFrame:
    """Boolean samples x genes: True where the sample's assay covers the gene."""
    _require_columns(panels, ["panel_id", "gene"], "panels")
    has_dna = samples["assay"].isin(_ASSAYS_WITH_DNA).to_numpy()
    panel_of = samples["panel_id"]
    on_panel = panel_of.notna().to_numpy()
    known_panels = set(panels["panel_id"].dropna().unique())
    unknown = has_dna & on_panel & ~panel_of.isin(known_panels).to_numpy()
    if unknown.any():
        raise UnknownPanelError(
            f"samples.panel_id: {int(unknown.sum())} DNA samples name a panel absent from the "
            f"panels table (panels known: {sorted(map(str, known_panels))}), e.g.\n"
            + _examples(samples[["sample_id", "assay", "panel_id"]], unknown)
        )
    membership = (
        pd.crosstab(panels["panel_id"], panels["gene"]).reindex(columns=genes, fill_value=0) > 0
    )
    assayed = np.zeros((len(samples), len(genes)), dtype=bool)
    panel_rows = has_dna & on_panel
    if panel_rows.any():
        assayed[panel_rows] = membership.loc[panel_of[panel_rows].to_numpy()].to_numpy()
    # DNA without a panel: whole-exome, every gene assayed.
    assayed[has_dna & ~on_panel] = True
    return pd.DataFrame(assayed, index=samples["sample_id"].to_numpy(), columns=genes)


def lof_matrix(
    mutations: pd.DataFrame,
    cna: pd.DataFrame,
    samples: pd.DataFrame,
    panels: pd.DataFrame,
    genes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Panel-aware LoF carrier matrix.

    Parameters
    ----------
    mutations, cna, samples, panels
        Canonical tables (DESIGN §3). ``cna`` lists altered genes only: a gene on the panel
        without a cna row has copy state 0.
    genes
        Genes (columns) to report, in this order. Default: every gene on any panel or in
        ``mutations``/``cna``, sorted.

    Returns
    -------
    pandas.DataFrame
        Samples (index ``sample_id``, in the order of ``samples``) x genes, float: 1.0 = LoF
        (a :data:`TRUNCATING_CLASSES` variant or copy_state :data:`DEEP_DELETION`), 0.0 = assayed
        without LoF, NaN = not assayed (gene off the sample's panel, or the sample has no DNA
        assay). A DNA sample whose ``panel_id`` is null is treated as whole-exome: every gene is
        assayed.

    Raises
    ------
    LofInputError
        Missing columns, values outside the vocabularies, unknown sample ids, repeated genes.
    UnknownPanelError
        A DNA sample names a panel that ``panels`` does not define.

    Warns
    -----
    UserWarning
        When LoF events are reported for genes a sample did not assay (off-panel calls or calls
        on RNA-only samples); they stay NaN, because the panel, not the caller, defines coverage.
    """
    samples = _validate_samples(samples)
    _validate_mutations(mutations)
    _validate_cna(cna)
    known = pd.Index(samples["sample_id"])
    _check_sample_ids(mutations, known, "mutations")
    _check_sample_ids(cna, known, "cna")
    _require_columns(panels, ["panel_id", "gene"], "panels")

    if genes is None:
        gene_list = sorted(
            set(panels["gene"].dropna()) | set(mutations["gene"].dropna()) | set(cna["gene"].dropna())
        )
    else:
        gene_list = list(genes)
        repeated = sorted({g for g in gene_list if gene_list.count(g) > 1})
        if repeated:
            raise LofInputError(f"genes: repeated symbol(s) {repeated}")

    assayed = _assayed_matrix(samples, panels, gene_list)

    truncating = mutations.loc[
        mutations["variant_classification"].isin(TRUNCATING_CLASSES), ["sample_id", "gene"]
    ]
    deleted = cna.loc[
        pd.to_numeric(cna["copy_state"]) == DEEP_DELETION, ["sample_id", "gene"]
    ]
    events = pd.concat([truncating, deleted], ignore_index=True)
    events = events[events["gene"].isin(gene_list)].drop_duplicates()

    result = pd.DataFrame(
        np.where(assayed.to_numpy(), 0.0, np.nan), index=assayed.index, columns=gene_list
    )
    if len(events):
        rows = assayed.index.get_indexer(events["sample_id"])
        cols = pd.Index(gene_list).get_indexer(events["gene"])
        covered = assayed.to_numpy()[rows, cols]
        if (~covered).any():
            warnings.warn(
                f"lof_matrix: {int((~covered).sum())} LoF events fall on genes their sample did "
                "not assay (off-panel or no DNA assay); they are left as not assayed (NaN)",
                UserWarning,
                stacklevel=2,
            )
        values = result.to_numpy()
        values[rows[covered], cols[covered]] = 1.0
        result = pd.DataFrame(values, index=assayed.index, columns=gene_list)
    result.index.name = "sample_id"
    result.columns.name = "gene"
    return result


def tmb_per_mb(
    mutations: pd.DataFrame,
    samples: pd.DataFrame,
    panel_sizes_mb: Mapping[str, float],
    panels: pd.DataFrame | None = None,
) -> pd.Series:
    """Tumour mutational burden: nonsynonymous mutations per Mb of the sample's assay.

    Parameters
    ----------
    mutations, samples
        Canonical tables. Mutations in :data:`NONSYNONYMOUS_CLASSES` are counted.
    panel_sizes_mb
        Size in Mb of each panel_id's coding target; DNA samples without a panel (whole-exome)
        use the key :data:`WHOLE_EXOME_KEY`.
    panels
        Optional canonical panels table. When given, only mutations in genes on the sample's
        panel are counted, so numerator and denominator cover the same territory.

    Returns
    -------
    pandas.Series
        Mutations per Mb indexed by sample_id (order of ``samples``); NaN for samples without a
        DNA assay. A DNA sample without mutations has TMB 0.

    Raises
    ------
    LofInputError
        Unknown sample ids, bad vocabularies, a missing or non-positive panel size.
    """
    samples = _validate_samples(samples)
    _validate_mutations(mutations)
    _check_sample_ids(mutations, pd.Index(samples["sample_id"]), "mutations")
    has_dna = samples["assay"].isin(_ASSAYS_WITH_DNA)
    keys = samples["panel_id"].where(samples["panel_id"].notna(), WHOLE_EXOME_KEY)
    needed = sorted(set(keys[has_dna].astype(str)))
    missing = [k for k in needed if k not in panel_sizes_mb]
    if missing:
        raise LofInputError(
            f"panel_sizes_mb: no size for {missing} (DNA samples without a panel use the key "
            f"{WHOLE_EXOME_KEY!r})"
        )
    bad_size = [k for k in needed if not float(panel_sizes_mb[k]) > 0]
    if bad_size:
        raise LofInputError(f"panel_sizes_mb: sizes must be positive, got {bad_size}")

    counted = mutations[mutations["variant_classification"].isin(NONSYNONYMOUS_CLASSES)]
    if panels is not None:
        _require_columns(panels, ["panel_id", "gene"], "panels")
        genes = sorted(set(counted["gene"]) | set(panels["gene"]))
        assayed = _assayed_matrix(samples, panels, genes)
        rows = assayed.index.get_indexer(counted["sample_id"])
        cols = pd.Index(genes).get_indexer(counted["gene"])
        counted = counted[assayed.to_numpy()[rows, cols]]
    counts = counted.groupby("sample_id").size()
    sizes = keys.map(lambda k: float(panel_sizes_mb.get(k, np.nan)))
    tmb = counts.reindex(samples["sample_id"]).fillna(0).to_numpy() / sizes.to_numpy()
    out = pd.Series(np.where(has_dna, tmb, np.nan), index=samples["sample_id"].to_numpy(), name="tmb")
    out.index.name = "sample_id"
    return out


# --------------------------------------------------------------------------------------------
# Firth logistic regression
# --------------------------------------------------------------------------------------------


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

    def _score_and_info(self, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
            score, info = self._score_and_info(beta)
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


def _as_design(
    y: Sequence[float] | np.ndarray | pd.Series,
    X: pd.DataFrame | np.ndarray,
    add_intercept: bool,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        if isinstance(y, pd.Series) and not y.index.equals(X.index):
            raise LofInputError("firth_logistic: y and X have different indexes; align them first")
        try:
            matrix = X.to_numpy(dtype=float)
        except (TypeError, ValueError) as err:
            raise LofInputError(
                f"firth_logistic: X must be numeric; column dtypes {X.dtypes.to_dict()}"
            ) from err
    else:
        matrix = np.asarray(X, dtype=float)
        if matrix.ndim == 1:
            matrix = matrix[:, None]
        names = [f"x{i + 1}" for i in range(matrix.shape[1])]
    response = np.asarray(y, dtype=float).ravel()
    if matrix.ndim != 2 or matrix.shape[0] != response.shape[0]:
        raise LofInputError(
            f"firth_logistic: X has {matrix.shape[0]} rows but y has {response.shape[0]} values"
        )
    if not np.all(np.isfinite(response)) or not np.all(np.isin(response, (0.0, 1.0))):
        raise LofInputError("firth_logistic: y must be 0/1 without missing values")
    if not np.all(np.isfinite(matrix)):
        bad = [names[j] for j in np.where(~np.all(np.isfinite(matrix), axis=0))[0]]
        raise LofInputError(f"firth_logistic: X has missing or infinite values in {bad}")
    if add_intercept:
        if "Intercept" in names:
            raise LofInputError("firth_logistic: X already has a column named 'Intercept'")
        matrix = np.column_stack([np.ones(len(response)), matrix])
        names = ["Intercept", *names]
    if len(set(names)) != len(names):
        raise LofInputError(f"firth_logistic: repeated column names {names}")
    if matrix.shape[1] == 0:
        raise LofInputError("firth_logistic: the model has no coefficients")
    if np.linalg.matrix_rank(matrix) < matrix.shape[1]:
        raise LofInputError(
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
    LofInputError
        Non-binary or missing outcome, missing covariates, a rank-deficient design, an unknown
        coefficient name in ``profile``, a level outside (0, 1).
    """
    if not 0.0 < level < 1.0:
        raise LofInputError(f"firth_logistic: level must be in (0, 1), got {level}")
    response, matrix, names = _as_design(y, X, add_intercept)
    problem = _FirthProblem(matrix, response, max_iter=max_iter, tol=tol, max_step=max_step)
    n_coef = matrix.shape[1]
    all_free = np.ones(n_coef, dtype=bool)
    beta, best, n_iter, converged = problem.fit(np.zeros(n_coef), all_free)
    _, info = problem._score_and_info(beta)
    se = np.sqrt(np.diag(np.linalg.inv(info)))

    if profile is None:
        targets = list(names)
    elif isinstance(profile, str):
        targets = [profile]
    else:
        targets = list(profile)
    unknown = [t for t in targets if t not in names]
    if unknown:
        raise LofInputError(f"firth_logistic: profile names {unknown} are not coefficients {names}")

    cutoff = float(stats.chi2.ppf(level, df=1))
    lower = pd.Series(np.nan, index=names)
    upper = pd.Series(np.nan, index=names)
    pvals = pd.Series(np.nan, index=names)
    for name in targets:
        k = names.index(name)
        free = all_free.copy()
        free[k] = False

        def restricted(value: float, start: np.ndarray = beta) -> float:
            start = start.copy()
            start[k] = value
            _, loglik, _, _ = problem.fit(start, free)
            return loglik

        statistic = max(0.0, 2.0 * (best - restricted(0.0)))
        pvals[name] = float(stats.chi2.sf(statistic, df=1))

        def excess(value: float) -> float:
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
# Firth logistic regression of many outcomes on one design (vectorised)
# --------------------------------------------------------------------------------------------


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
        return {"loglik": state["loglik"][mask], "p": state["p"][:, mask],
                "w": state["w"][:, mask], "info": state["info"][mask]}

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
        the profile used by :func:`_firth_profile_batch`).
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
def _firth_profile_batch(
    X: np.ndarray,
    Y: np.ndarray,
    k: int,
    level: float = 0.95,
    profile_ci: bool = True,
    max_iter: int = 200,
    tol: float = 1e-8,
    max_step: float = 5.0,
) -> dict[str, np.ndarray]:
    """Firth fits of every column of Y on X, with the penalised LRT and profile CI of coef ``k``.

    The numbers are those of :func:`firth_logistic` (``profile`` = that coefficient) for each
    column: the same penalised likelihood and fitting algorithm, the penalised likelihood-ratio
    test with the full-model penalty kept in the restricted fits, and profile limits where
    ``2 (l*(beta_hat) - l*_restricted(b)) = chi2_{1, level}``. Only the root finder of the limits
    differs: a Newton search on the profile (its slope is the k-th modified score at the
    restricted optimum), kept inside a bracket and falling back to bisection, instead of Brent's
    method; both stop within 1e-10 of the root. Without ``profile_ci`` the limits are NaN (the
    p-values, which decide what is found, do not need them).
    """
    n_coef = X.shape[1]
    n_out = Y.shape[1]
    problem = _FirthBatch(X, Y, max_iter=max_iter, tol=tol, max_step=max_step)
    every = np.arange(n_out)
    all_free = np.ones(n_coef, dtype=bool)
    B, best, converged, _ = problem.fit(np.zeros((n_coef, n_out)), all_free, every)
    state = problem.evaluate(B, every)
    se = np.sqrt(np.linalg.inv(state["info"])[:, k, k])
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
    return {
        "coef": B[k],
        "se": se,
        "ci_lower": limits[-1.0],
        "ci_upper": limits[1.0],
        "p_value": p_value,
        "converged": converged,
    }


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
        inside = np.where(
            have_hi,
            (newton - lo_t) * direction > 0,
            (newton - lo_t) * direction > 0,
        ) & np.where(have_hi, (hi_t - newton) * direction > 0, True) & np.isfinite(newton)
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


# --------------------------------------------------------------------------------------------
# Fisher, BH
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FisherResult:
    """Fisher's exact test of a 2x2 table (group a vs group b, carrier vs not).

    ``odds_ratio`` is the conditional maximum-likelihood estimate (as R's ``fisher.test``), and
    ``ci_lower``/``ci_upper`` the exact conditional confidence interval; ``p_value`` is two-sided
    (tables as or less probable than the observed one).
    """

    odds_ratio: float
    ci_lower: float
    ci_upper: float
    p_value: float


def _count(value: object, name: str) -> int:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = np.nan
    if isinstance(value, (bool, np.bool_)) or not number.is_integer() or number < 0:
        raise LofInputError(f"fisher_or: {name} must be a non-negative integer, got {value!r}")
    return int(number)


def fisher_or(
    carriers_a: int, n_a: int, carriers_b: int, n_b: int, level: float = 0.95
) -> FisherResult:
    """Fisher's exact test and conditional MLE odds ratio of carriers in group a vs group b.

    Parameters
    ----------
    carriers_a, n_a
        Carriers and assayed samples in group a (the numerator of the odds ratio).
    carriers_b, n_b
        The same in group b.
    level
        Confidence level of the exact interval.

    Returns
    -------
    FisherResult
        Conditional MLE odds ratio with its exact conditional CI (what R's ``fisher.test``
        reports; 0 or inf when a cell is empty, never a continuity-corrected value) and the
        two-sided p-value.

    Raises
    ------
    LofInputError
        Counts that are not integers, carriers above n, or an empty group.
    """
    a, n1, b, n2 = (
        _count(carriers_a, "carriers_a"),
        _count(n_a, "n_a"),
        _count(carriers_b, "carriers_b"),
        _count(n_b, "n_b"),
    )
    if a > n1 or b > n2:
        raise LofInputError(f"fisher_or: carriers exceed n ({a}/{n1}, {b}/{n2})")
    if n1 == 0 or n2 == 0:
        raise LofInputError(f"fisher_or: a group is empty (n_a={n1}, n_b={n2})")
    table = np.array([[a, n1 - a], [b, n2 - b]])
    p_value = float(stats.fisher_exact(table, alternative="two-sided")[1])
    if table.sum(axis=0).min() == 0:
        # nobody (or everybody) is a carrier: no information on the odds ratio
        return FisherResult(np.nan, 0.0, np.inf, p_value)
    estimate = stats.contingency.odds_ratio(table, kind="conditional")
    interval = estimate.confidence_interval(confidence_level=level)
    return FisherResult(float(estimate.statistic), float(interval.low), float(interval.high), p_value)


# --------------------------------------------------------------------------------------------
# Group comparisons
# --------------------------------------------------------------------------------------------


def _two_levels(labels: pd.Series, case_group: object | None) -> tuple[object, object]:
    if isinstance(labels.dtype, pd.CategoricalDtype):
        levels = [c for c in labels.cat.categories if (labels == c).any()]
    else:
        levels = sorted(labels.dropna().unique().tolist())
    if len(levels) != 2:
        raise LofInputError(f"compare_groups: group_labels must have exactly two groups, got {levels}")
    if case_group is None:
        return levels[1], levels[0]
    if case_group not in levels:
        raise LofInputError(f"compare_groups: case_group {case_group!r} is not one of {levels}")
    reference = levels[0] if levels[1] == case_group else levels[1]
    return case_group, reference


#: Columns of :func:`compare_groups`.
_COMPARE_COLUMNS = (
    "gene", "carriers_case", "n_case", "carriers_ref", "n_ref", "tested", "reason",
    "fisher_or", "fisher_ci_lower", "fisher_ci_upper", "fisher_p", "fisher_q",
    "firth_or", "firth_ci_lower", "firth_ci_upper", "firth_p", "firth_q",
    "firth_n", "firth_covariates", "firth_dropped", "firth_converged", "max_p", "max_q",
)


def compare_groups(
    lof: pd.DataFrame,
    group_labels: pd.Series,
    covariates: pd.DataFrame | None = None,
    min_carriers: int = 3,
    case_group: object | None = None,
    level: float = 0.95,
    profile_ci: bool = True,
) -> pd.DataFrame:
    """Per-gene LoF comparison of two groups of samples: Fisher and covariate-adjusted Firth.

    Parameters
    ----------
    lof
        Samples x genes matrix from :func:`lof_matrix` (1 LoF, 0 assayed wild type, NaN not
        assayed); its index is the sample id.
    group_labels
        Group of each sample, indexed by sample id; exactly two groups. Samples of ``lof``
        without a label (absent or NaN) are left out. The odds ratios are case vs reference:
        ``case_group`` if given, otherwise the second level (categorical order, else sorted order;
        so for booleans True is the case group).
    covariates
        Optional numeric covariates indexed by sample id (e.g. tmb, purity, msi as 0/1) for the
        Firth model. Per gene, among the tested samples: a column that is entirely missing or
        constant is dropped (reported in ``firth_dropped``); then samples with a missing value in
        a remaining column are left out of the Firth fit only (complete cases; ``firth_n`` gives
        the number used). Nothing is imputed.
    min_carriers
        Genes with fewer LoF carriers than this in the two groups together are not tested.
    case_group
        Label of the case group (see ``group_labels``).
    level
        Confidence level of the intervals.
    profile_ci
        Compute the profile penalised-likelihood interval of each Firth odds ratio. False leaves
        ``firth_ci_lower``/``firth_ci_upper`` NaN and is several times faster; p- and q-values
        are unchanged (used by simulation studies that only count discoveries).

    Notes
    -----
    Genes assayed in the same samples share one design matrix, so their Firth models are fitted
    together by a vectorised version of :func:`firth_logistic` (same estimates, penalised
    likelihood-ratio p-values and profile limits, to about 1e-8); each distinct 2x2 table gets
    one Fisher test.

    Returns
    -------
    pandas.DataFrame
        One row per gene (order of ``lof`` columns): carriers_case, n_case, carriers_ref, n_ref,
        tested, reason (why not tested, or why the Firth fit failed), fisher_or, fisher_ci_lower,
        fisher_ci_upper, fisher_p, fisher_q, firth_or, firth_ci_lower, firth_ci_upper, firth_p,
        firth_q, firth_n, firth_covariates, firth_dropped, firth_converged, max_p, max_q.
        ``n_*`` count samples that assayed the gene. ``max_p`` is the larger of fisher_p and
        firth_p: the p-value of the intersection–union test that rejects only when both tests do
        (Berger 1982); NaN when the Firth model was not fitted. q-values are Benjamini–Hochberg
        over the tested genes of this call. ``attrs`` holds ``case_group`` and
        ``reference_group``.

    Raises
    ------
    LofInputError
        Bad matrix values, labels not matching the matrix, non-numeric covariates, fewer or more
        than two groups.
    """
    if not isinstance(lof, pd.DataFrame):
        raise LofInputError("compare_groups: lof must be a DataFrame (samples x genes)")
    if not isinstance(group_labels, pd.Series):
        raise LofInputError("compare_groups: group_labels must be a Series indexed by sample id")
    if min_carriers < 1:
        raise LofInputError(f"compare_groups: min_carriers must be >= 1, got {min_carriers}")
    values = lof.to_numpy(dtype=float)
    if not np.all(np.isin(values[~np.isnan(values)], (0.0, 1.0))):
        raise LofInputError("compare_groups: lof must contain only 0, 1 or NaN")
    if group_labels.index.has_duplicates:
        raise LofInputError("compare_groups: group_labels has repeated sample ids")
    labels = group_labels.dropna()
    absent = labels.index.difference(lof.index)
    if len(absent):
        raise LofInputError(
            f"compare_groups: {len(absent)} labelled samples are not rows of lof, e.g. "
            f"{list(absent[:3])}"
        )
    case, reference = _two_levels(labels, case_group)
    labels = labels[labels.isin([case, reference])]
    is_case = (labels == case).astype(float)
    matrix = lof.loc[labels.index]

    if covariates is not None:
        if not isinstance(covariates, pd.DataFrame):
            raise LofInputError("compare_groups: covariates must be a DataFrame indexed by sample id")
        if covariates.index.has_duplicates:
            raise LofInputError("compare_groups: covariates has repeated sample ids")
        non_numeric = [
            c for c in covariates.columns
            if not (pd.api.types.is_numeric_dtype(covariates[c]) or pd.api.types.is_bool_dtype(covariates[c]))
        ]
        if non_numeric:
            raise LofInputError(
                f"compare_groups: covariates must be numeric (encode categories first); "
                f"non-numeric columns {non_numeric}"
            )
        clashes = [c for c in covariates.columns if str(c) in ("group", "Intercept")]
        if clashes:
            raise LofInputError(f"compare_groups: covariate names {clashes} are reserved")
        covariate_frame = covariates.reindex(labels.index).astype(float)
    else:
        covariate_frame = pd.DataFrame(index=labels.index)

    values = matrix.to_numpy(dtype=float)
    assayed = ~np.isnan(values)
    carriers = np.where(assayed, values, 0.0)
    case_rows = is_case.to_numpy() == 1.0
    result = pd.DataFrame(
        {
            "gene": list(matrix.columns),
            "carriers_case": carriers[case_rows].sum(axis=0).astype(int),
            "n_case": assayed[case_rows].sum(axis=0).astype(int),
            "carriers_ref": carriers[~case_rows].sum(axis=0).astype(int),
            "n_ref": assayed[~case_rows].sum(axis=0).astype(int),
        }
    )
    total = (result["carriers_case"] + result["carriers_ref"]).to_numpy()
    in_both = (result["n_case"] > 0).to_numpy() & (result["n_ref"] > 0).to_numpy()
    tested = in_both & (total >= min_carriers)
    result["tested"] = tested
    result["reason"] = np.where(
        ~in_both,
        "not assayed in both groups",
        np.where(tested, "", [f"fewer than {min_carriers} carriers ({t})" for t in total]),
    ).astype(object)
    result = result.reindex(columns=list(_COMPARE_COLUMNS))
    for column in ("firth_covariates", "firth_dropped", "firth_converged"):
        result[column] = result[column].astype(object)

    # Fisher: many genes share the same 2x2 table, compute each table once
    fisher_cache: dict[tuple[int, int, int, int], FisherResult] = {}
    counts = result[["carriers_case", "n_case", "carriers_ref", "n_ref"]].to_numpy()
    fisher_columns = ["fisher_or", "fisher_ci_lower", "fisher_ci_upper", "fisher_p"]
    fisher_values = np.full((len(result), 4), np.nan)
    for i in np.flatnonzero(tested):
        key = tuple(int(v) for v in counts[i])
        if key not in fisher_cache:
            fisher_cache[key] = fisher_or(*key, level=level)
        found = fisher_cache[key]
        fisher_values[i] = [found.odds_ratio, found.ci_lower, found.ci_upper, found.p_value]
    result[fisher_columns] = fisher_values

    # Firth: genes assayed in the same samples share one design and are fitted together
    tested_idx = np.flatnonzero(tested)
    if tested_idx.size:
        packed = np.packbits(assayed[:, tested_idx].T, axis=1)
        _, pattern = np.unique(packed, axis=0, return_inverse=True)
        pattern = np.asarray(pattern).ravel()
        for pattern_id in np.unique(pattern):
            genes_idx = tested_idx[pattern == pattern_id]
            rows = assayed[:, genes_idx[0]]
            fitted = _firth_for_genes(
                values[np.ix_(rows, genes_idx)],
                is_case[rows],
                covariate_frame[rows],
                level,
                profile_ci,
            )
            for column, value in fitted.items():
                if column == "reason":
                    result.loc[result.index[genes_idx], "reason"] = value
                else:
                    result.loc[result.index[genes_idx], column] = (
                        value if np.ndim(value) else [value] * len(genes_idx)
                    )

    for column in ("fisher_or", "fisher_ci_lower", "fisher_ci_upper", "fisher_p", "firth_or",
                   "firth_ci_lower", "firth_ci_upper", "firth_p", "firth_n"):
        result[column] = result[column].astype(float)
    result["fisher_q"] = benjamini_hochberg(result["fisher_p"]).to_numpy()
    result["firth_q"] = benjamini_hochberg(result["firth_p"]).to_numpy()
    # intersection-union test: significant only where both tests are (NaN if either is missing)
    result["max_p"] = np.fmax(result["fisher_p"], result["firth_p"]).where(
        result["fisher_p"].notna() & result["firth_p"].notna())
    result["max_q"] = benjamini_hochberg(result["max_p"]).to_numpy()
    result["tested"] = result["tested"].astype(bool)
    result.attrs["case_group"] = case
    result.attrs["reference_group"] = reference
    return result


def _firth_for_genes(
    outcomes: np.ndarray,
    is_case: pd.Series,
    covariates: pd.DataFrame,
    level: float,
    profile_ci: bool,
) -> dict[str, object]:
    """Firth fits of several genes assayed in the same samples (outcomes: samples x genes).

    Covariates that are entirely missing or constant among these samples are dropped; samples
    missing a remaining covariate are left out (complete cases).
    """
    used, dropped = [], []
    for column in covariates.columns:
        present = covariates[column].dropna()
        if present.empty:
            dropped.append(f"{column} (all missing)")
        elif present.nunique() < 2:
            dropped.append(f"{column} (constant)")
        else:
            used.append(column)
    design = pd.concat([is_case.rename("group"), covariates[used]], axis=1)
    complete = design.notna().all(axis=1).to_numpy()
    design = design[complete]
    out: dict[str, object] = {
        "firth_n": int(complete.sum()),
        "firth_covariates": ",".join(map(str, used)),
        "firth_dropped": ";".join(dropped),
    }
    if design["group"].nunique() < 2:
        out["reason"] = "Firth not fitted: complete cases cover one group only"
        return out
    Y = outcomes[complete]
    try:
        _, X, names = _as_design(Y[:, 0], design, add_intercept=True)
        fit = _firth_profile_batch(X, Y, names.index("group"), level=level, profile_ci=profile_ci)
    except (LofInputError, np.linalg.LinAlgError) as err:
        out["reason"] = f"Firth not fitted: {err}"
        return out
    out.update(
        firth_or=np.exp(fit["coef"]),
        firth_ci_lower=np.exp(fit["ci_lower"]),
        firth_ci_upper=np.exp(fit["ci_upper"]),
        firth_p=fit["p_value"],
        firth_converged=fit["converged"].astype(object),
    )
    return out


def paired_gain_test(
    pre_lof: pd.DataFrame, post_lof: pd.DataFrame, min_carriers: int = 1
) -> pd.DataFrame:
    """LoF gained vs lost between paired samples, per gene, with an exact McNemar test.

    Parameters
    ----------
    pre_lof, post_lof
        Patients x genes LoF matrices (1/0/NaN as from :func:`lof_matrix`), indexed by patient id,
        one row per patient: the caller chooses which sample is "pre" and which "post". Patients
        present in both are paired; a gene counts for a pair only where both samples assayed it.
    min_carriers
        A gene is tested only if at least this many pairs carry LoF in either sample
        (gained + lost + both) and at least one pair is discordant.

    Returns
    -------
    pandas.DataFrame
        One row per gene common to both matrices: n_pairs, gained (0 -> 1), lost (1 -> 0),
        both (1 -> 1), tested, reason (why not), p_value (two-sided exact binomial test of gained
        vs lost, p = 1/2, which is the exact McNemar test; NaN when not tested) and q_value
        (Benjamini–Hochberg over the tested genes).

    Raises
    ------
    LofInputError
        Non-DataFrame input, repeated patient ids, values other than 0/1/NaN, no shared patients.
    """
    if min_carriers < 1:
        raise LofInputError(f"paired_gain_test: min_carriers must be >= 1, got {min_carriers}")
    for name, frame in (("pre_lof", pre_lof), ("post_lof", post_lof)):
        if not isinstance(frame, pd.DataFrame):
            raise LofInputError(f"paired_gain_test: {name} must be a DataFrame (patients x genes)")
        if frame.index.has_duplicates:
            raise LofInputError(f"paired_gain_test: {name} has repeated patient ids (one row per patient)")
        values = frame.to_numpy(dtype=float)
        if not np.all(np.isin(values[~np.isnan(values)], (0.0, 1.0))):
            raise LofInputError(f"paired_gain_test: {name} must contain only 0, 1 or NaN")
    patients = pre_lof.index.intersection(post_lof.index)
    if len(patients) == 0:
        raise LofInputError("paired_gain_test: no patient has both a pre and a post row")
    genes = [g for g in pre_lof.columns if g in set(post_lof.columns)]
    pre = pre_lof.loc[patients, genes]
    post = post_lof.loc[patients, genes]
    both_assayed = pre.notna() & post.notna()
    gained = ((pre == 0) & (post == 1) & both_assayed).sum()
    lost = ((pre == 1) & (post == 0) & both_assayed).sum()
    kept = ((pre == 1) & (post == 1) & both_assayed).sum()
    result = pd.DataFrame(
        {
            "gene": genes,
            "n_pairs": both_assayed.sum().to_numpy(),
            "gained": gained.to_numpy(),
            "lost": lost.to_numpy(),
            "both": kept.to_numpy(),
        }
    )
    discordant = (result["gained"] + result["lost"]).to_numpy()
    carriers = discordant + result["both"].to_numpy()
    tested = (carriers >= min_carriers) & (discordant > 0)
    result["tested"] = tested
    result["reason"] = np.where(
        tested,
        "",
        np.where(
            carriers < min_carriers,
            [f"fewer than {min_carriers} carriers ({c})" for c in carriers],
            "no discordant pair",
        ),
    ).astype(object)
    cache: dict[tuple[int, int], float] = {}
    p_values = np.full(len(result), np.nan)
    for i in np.flatnonzero(tested):
        key = (int(result["gained"].iat[i]), int(discordant[i]))
        if key not in cache:
            cache[key] = float(stats.binomtest(key[0], key[1], 0.5).pvalue)
        p_values[i] = cache[key]
    result["p_value"] = p_values
    result["q_value"] = benjamini_hochberg(result["p_value"]).to_numpy()
    return result


# --------------------------------------------------------------------------------------------
# Cohort-level comparisons (DESIGN §4, "Acquired LoF")
# --------------------------------------------------------------------------------------------

#: Primary comparison: post-progression samples of acquired resistance vs pre-treatment samples.
PRIMARY_COMPARISON = "acquired_post_vs_pre"
#: Secondary comparison: post-progression samples, acquired vs primary resistance.
SECONDARY_COMPARISON = "acquired_post_vs_primary_post"
#: Paired comparisons: LoF gained between a patient's pre-treatment and post-progression sample.
PAIRED_ACQUIRED = "paired_gain_acquired"
PAIRED_PRIMARY = "paired_gain_primary"
#: Readable names of the comparisons (tables and figures).
COMPARISON_LABELS: dict[str, str] = {
    PRIMARY_COMPARISON: "acquired resistance, post-progression vs pre-treatment",
    SECONDARY_COMPARISON: "post-progression, acquired vs primary resistance",
    PAIRED_ACQUIRED: "gained within pre/post pairs, acquired resistance",
    PAIRED_PRIMARY: "gained within pre/post pairs, primary resistance",
}
#: Sample groups of :func:`select_lof_samples`.
LOF_GROUPS = ("pre", "post_acquired", "post_primary")
#: Which q-value decides that a gene is found (see :func:`acquired_lof_analysis`): ``both``
#: (max_q: Fisher and Firth must both be significant), ``firth`` (firth_q) or ``fisher`` (fisher_q).
FOUND_CRITERIA = ("both", "firth", "fisher")
#: The (p-value, q-value) columns of each criterion.
CRITERION_COLUMNS: dict[str, tuple[str, str]] = {
    "both": ("max_p", "max_q"), "firth": ("firth_p", "firth_q"), "fisher": ("fisher_p", "fisher_q"),
}
_Q_COLUMNS = {k: v[1] for k, v in CRITERION_COLUMNS.items()}
_P_COLUMNS = {k: v[0] for k, v in CRITERION_COLUMNS.items()}

_SAMPLE_TABLE_COLUMNS = (
    "sample_id", "patient_id", "collection_day", "timepoint", "has_dna", "cancer_type",
    "resistance_class",
)


def select_lof_samples(sample_table: pd.DataFrame) -> pd.DataFrame:
    """One DNA sample per patient and group for the acquired-LoF comparisons.

    Parameters
    ----------
    sample_table
        :func:`helpers.analysis.derive.sample_table` (columns sample_id, patient_id, collection_day,
        timepoint, has_dna, cancer_type, resistance_class).

    Returns
    -------
    pandas.DataFrame
        Columns sample_id, patient_id, cancer_type, resistance_class, collection_day, group
        (``pre``, ``post_acquired``, ``post_primary``) and ``primary_reference`` (True for a pre
        sample that enters the primary comparison). Rules:

        * only samples with a DNA assay and a known cancer type;
        * ``pre``: the pre-treatment sample nearest day 0 (the latest on or before it), whatever
          the patient's class: it is the tumour the ICB course started on;
        * ``post_acquired`` / ``post_primary``: the earliest post-progression sample of a patient
          whose index course is acquired / primary resistance: the tumour closest to the
          moment resistance became manifest, before later lines of therapy reshape it. Patients of
          other classes (not evaluable) are not used after progression;
        * ties (same day) are broken by sample_id, so the choice is deterministic; samples
          without a collection day (timepoint from the source's label) come last;
        * a patient with a ``post_acquired`` sample does not count in the pre-treatment group of
          the primary comparison (``primary_reference`` False), so the two groups of that
          comparison are independent; the pre sample is kept for the paired analysis.

    Raises
    ------
    LofInputError
        Missing columns.
    """
    _require_columns(sample_table, _SAMPLE_TABLE_COLUMNS, "sample_table")
    table = sample_table.loc[
        sample_table["has_dna"].fillna(False).astype(bool) & sample_table["cancer_type"].notna(),
        list(_SAMPLE_TABLE_COLUMNS),
    ].copy()
    table["collection_day"] = pd.to_numeric(table["collection_day"], errors="coerce")
    table["_undated"] = table["collection_day"].isna()

    pre = table[table["timepoint"] == "pre"].sort_values(
        ["patient_id", "_undated", "collection_day", "sample_id"],
        ascending=[True, True, False, True],
    )
    pre = pre.drop_duplicates("patient_id").assign(group="pre")
    post = table[(table["timepoint"] == "post") & table["resistance_class"].isin(["acquired", "primary"])]
    post = post.sort_values(["patient_id", "_undated", "collection_day", "sample_id"])
    post = post.drop_duplicates("patient_id")
    post = post.assign(group="post_" + post["resistance_class"].astype(str))

    chosen = pd.concat([pre, post], ignore_index=True).drop(columns=["timepoint", "has_dna", "_undated"])
    acquired_post = set(chosen.loc[chosen["group"] == "post_acquired", "patient_id"])
    chosen["primary_reference"] = (chosen["group"] == "pre") & ~chosen["patient_id"].isin(acquired_post)
    chosen["group"] = pd.Categorical(chosen["group"], categories=list(LOF_GROUPS))
    chosen = chosen.sort_values(["cancer_type", "group", "patient_id"], kind="mergesort")
    return chosen.reset_index(drop=True)


def lof_covariates(samples: pd.DataFrame, tmb: pd.Series | None = None) -> pd.DataFrame:
    """Covariates of the Firth model per sample: log2(TMB + 1), purity and MSI (0/1).

    Parameters
    ----------
    samples
        Canonical samples table (sample_id and, where known, tmb, purity, msi).
    tmb
        Optional TMB per sample_id (e.g. from :func:`tmb_per_mb`) used where ``samples.tmb`` is
        missing.

    Returns
    -------
    pandas.DataFrame
        Indexed by sample_id, columns ``log2_tmb``, ``purity``, ``msi``; NaN where unknown. TMB is
        log-transformed because mutation counts are right-skewed and their effect on the chance of
        a LoF call is multiplicative; the +1 keeps a TMB of 0 finite.

    Raises
    ------
    LofInputError
        Missing sample_id, repeated sample ids, negative TMB, purity outside [0, 1].
    """
    _require_columns(samples, ["sample_id"], "samples")
    if samples["sample_id"].duplicated().any():
        raise LofInputError("lof_covariates: samples.sample_id must be unique")
    index = pd.Index(samples["sample_id"], name="sample_id")

    def column(name: str) -> pd.Series:
        if name not in samples.columns:
            return pd.Series(np.nan, index=index)
        return pd.Series(pd.to_numeric(samples[name].astype(object).where(samples[name].notna()),
                                       errors="coerce").to_numpy(dtype=float), index=index)

    burden = column("tmb")
    if tmb is not None:
        burden = burden.fillna(tmb.reindex(index).astype(float))
    if (burden < 0).any():
        raise LofInputError("lof_covariates: tmb must not be negative")
    purity = column("purity")
    if ((purity < 0) | (purity > 1)).any():
        raise LofInputError("lof_covariates: purity must lie in [0, 1]")
    msi = column("msi")
    return pd.DataFrame({"log2_tmb": np.log2(burden + 1.0), "purity": purity, "msi": msi})


def lof_event_kinds(
    mutations: pd.DataFrame | None, cna: pd.DataFrame | None, genes: Iterable[str] | None = None
) -> pd.DataFrame:
    """What makes each LoF call: a truncating variant, a deep deletion or both.

    Returns
    -------
    pandas.DataFrame
        One row per (sample_id, gene) with a LoF event, column ``kind`` in ``truncating``,
        ``deep deletion``, ``truncating + deep deletion``. Not panel-aware: combine it with
        :func:`lof_matrix`, which decides what was assayed.
    """
    parts = []
    if mutations is not None and len(mutations):
        _validate_mutations(mutations)
        is_truncating = mutations["variant_classification"].isin(TRUNCATING_CLASSES)
        trunc = mutations.loc[is_truncating, ["sample_id", "gene"]]
        parts.append(trunc.drop_duplicates().assign(truncating=True))
    if cna is not None and len(cna):
        _validate_cna(cna)
        deleted = cna.loc[pd.to_numeric(cna["copy_state"]) == DEEP_DELETION, ["sample_id", "gene"]]
        parts.append(deleted.drop_duplicates().assign(deleted=True))
    if not parts:
        return pd.DataFrame({"sample_id": pd.Series(dtype=object), "gene": pd.Series(dtype=object),
                             "kind": pd.Series(dtype=object)})
    events = parts[0]
    for part in parts[1:]:
        events = events.merge(part, on=["sample_id", "gene"], how="outer")
    no = pd.Series(False, index=events.index)
    truncating = events["truncating"].notna() if "truncating" in events else no
    deleted = events["deleted"].notna() if "deleted" in events else no
    events["kind"] = np.where(truncating & deleted, "truncating + deep deletion",
                              np.where(truncating, "truncating", "deep deletion"))
    if genes is not None:
        events = events[events["gene"].isin(set(genes))]
    return events[["sample_id", "gene", "kind"]].sort_values(["sample_id", "gene"]).reset_index(drop=True)


@dataclass
class AcquiredLofAnalysis:
    """Everything the acquired-LoF chapter shows, from :func:`acquired_lof_analysis`.

    Attributes
    ----------
    samples
        The chosen samples (:func:`select_lof_samples`).
    lof
        LoF matrix of the chosen samples (1 LoF, 0 wild type, NaN not assayed), indexed by
        sample_id.
    events
        :func:`lof_event_kinds` of the chosen samples.
    results
        Group comparisons, one row per cancer type, comparison and gene with at least one carrier
        (the columns of :func:`compare_groups` plus cancer_type, comparison and ``found``).
    paired
        Paired gains, one row per cancer type, comparison (acquired or primary pairs) and gene with
        at least one carrier (the columns of :func:`paired_gain_test`).
    availability
        Patients per cancer type in each group and pairs, and how many genes were tested.
    skipped
        Cancer types and comparisons that could not be run, with the reason.
    missing
        One sentence saying what the cohort lacks when no comparison can be run, else None.
    fdr, min_carriers, criterion
        The settings used.
    """

    samples: pd.DataFrame
    lof: pd.DataFrame
    events: pd.DataFrame
    results: pd.DataFrame
    paired: pd.DataFrame
    availability: pd.DataFrame
    skipped: pd.DataFrame
    missing: str | None
    fdr: float
    min_carriers: int
    criterion: str

    @property
    def q_column(self) -> str:
        """The q-value column that decides ``found``."""
        return _Q_COLUMNS[self.criterion]

    @property
    def p_column(self) -> str:
        """The p-value column behind :attr:`q_column`."""
        return _P_COLUMNS[self.criterion]

    def found(self) -> pd.DataFrame:
        """Rows of the primary comparison that pass the FDR, ordered by cancer type and q."""
        found = self.results[self.results["found"]]
        return found.sort_values(["cancer_type", self.q_column, "gene"]).reset_index(drop=True)


_SKIPPED_COLUMNS = ("cancer_type", "comparison", "reason")
_PAIRED_COLUMNS = ("cancer_type", "comparison", "gene", "n_pairs", "gained", "lost", "both",
                   "tested", "reason", "p_value", "q_value")


def _empty_results() -> pd.DataFrame:
    columns = ["cancer_type", "comparison", *_COMPARE_COLUMNS, "found"]
    return pd.DataFrame({c: pd.Series(dtype=bool if c in ("tested", "found") else object)
                         for c in columns})


def _empty_paired() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=bool if c == "tested" else object)
                         for c in _PAIRED_COLUMNS})


def acquired_lof_analysis(
    cohort: Cohort,
    benefit_months: float = 6,
    min_exposure_weeks: float = 6,
    min_carriers: int = 3,
    fdr: float = 0.1,
    comparisons: Sequence[str] = (PRIMARY_COMPARISON, SECONDARY_COMPARISON, PAIRED_ACQUIRED, PAIRED_PRIMARY),
    criterion: str = "both",
    profile_ci: bool = True,
) -> AcquiredLofAnalysis:
    """The acquired-LoF analysis of DESIGN §4 on a canonical cohort, per cancer type.

    Parameters
    ----------
    cohort
        A :class:`helpers.data.cohort.Cohort`.
    benefit_months, min_exposure_weeks
        Resistance-class rule (:func:`helpers.analysis.derive.sample_table`).
    min_carriers
        Genes with fewer LoF carriers in the two groups together (pairs with LoF, for the paired
        test) are not tested.
    fdr
        Benjamini–Hochberg level, applied within each cancer type and comparison.
    comparisons
        Which of :data:`PRIMARY_COMPARISON`, :data:`SECONDARY_COMPARISON`,
        :data:`PAIRED_ACQUIRED`, :data:`PAIRED_PRIMARY` to run.
    criterion
        Which q-value of the primary comparison must pass ``fdr`` for a gene to be *found*.
        ``"both"`` (default): ``max_q``, Benjamini–Hochberg of the larger of the Fisher and Firth
        p-values, so a gene is found only when it is enriched beyond what TMB, purity and MSI
        explain (Firth) *and* the enrichment holds by an exact test (Fisher). Each guards
        against the other's failure: post-progression tumours carry more mutations, so
        Fisher's test alone calls large genes of hypermutated tumours; the chi-square p-values
        of the Firth penalised likelihood-ratio test are too small in the far tail when carriers
        are few and the groups unbalanced. ``"firth"`` and ``"fisher"`` use one test alone
        (sensitivity analyses and ``scripts/validate_lof_fdr.py``).
    profile_ci
        Passed to :func:`compare_groups` (False: no Firth intervals, faster).

    Returns
    -------
    AcquiredLofAnalysis
        When the cohort lacks what the analysis needs (DNA calls, post-progression DNA samples of
        acquired resistance, pre-treatment DNA samples), ``missing`` says so in one sentence and
        the tables are empty; nothing is raised.

    Raises
    ------
    LofInputError
        Unknown comparison or criterion, fdr outside (0, 1), min_carriers < 1, and bad tables
        (as :func:`lof_matrix`).
    """
    unknown = [c for c in comparisons if c not in COMPARISON_LABELS]
    if unknown:
        raise LofInputError(f"acquired_lof_analysis: unknown comparison(s) {unknown}; "
                            f"known: {list(COMPARISON_LABELS)}")
    if criterion not in FOUND_CRITERIA:
        raise LofInputError(f"acquired_lof_analysis: criterion must be one of {FOUND_CRITERIA}, "
                            f"got {criterion!r}")
    if not 0.0 < float(fdr) < 1.0:
        raise LofInputError(f"acquired_lof_analysis: fdr must lie in (0, 1), got {fdr}")
    if int(min_carriers) != min_carriers or min_carriers < 1:
        raise LofInputError("acquired_lof_analysis: min_carriers must be a positive integer, "
                            f"got {min_carriers}")
    min_carriers = int(min_carriers)

    table = derive_sample_table(cohort, benefit_months, min_exposure_weeks)
    chosen = select_lof_samples(table)
    availability = _availability(chosen)
    missing = _missing_data(cohort, chosen)
    if missing is not None:
        return AcquiredLofAnalysis(
            samples=chosen, lof=pd.DataFrame(index=pd.Index([], name="sample_id")),
            events=lof_event_kinds(None, None), results=_empty_results(), paired=_empty_paired(),
            availability=availability, skipped=pd.DataFrame(columns=list(_SKIPPED_COLUMNS)),
            missing=missing, fdr=float(fdr), min_carriers=min_carriers, criterion=criterion,
        )

    samples = cohort.samples.set_index("sample_id").loc[chosen["sample_id"]].reset_index()
    mutations = cohort.mutations if cohort.mutations is not None else _no_rows("mutations")
    cna = cohort.cna if cohort.cna is not None else _no_rows("cna")
    mutations = mutations[mutations["sample_id"].isin(chosen["sample_id"])]
    cna = cna[cna["sample_id"].isin(chosen["sample_id"])]
    panels = cohort.panels if cohort.panels is not None else _no_rows("panels")
    lof = lof_matrix(mutations, cna, samples, panels)
    events = lof_event_kinds(mutations, cna, lof.columns)

    covariates = lof_covariates(samples, _computed_tmb(cohort, samples, mutations, panels))

    results, paired, skipped = [], [], []
    groups = chosen.set_index("sample_id")
    for cancer_type in sorted(groups["cancer_type"].unique()):
        in_type = groups[groups["cancer_type"] == cancer_type]
        for comparison in comparisons:
            if comparison in (PRIMARY_COMPARISON, SECONDARY_COMPARISON):
                labels = _comparison_labels(in_type, comparison)
                counts = labels.value_counts()
                absent = [g for g in ("case", "reference") if counts.get(g, 0) == 0]
                if absent:
                    skipped.append({"cancer_type": cancer_type, "comparison": comparison,
                                    "reason": _skip_reason(comparison, absent)})
                    continue
                out = compare_groups(lof.loc[labels.index], labels, covariates.loc[labels.index],
                                     min_carriers=min_carriers, case_group="case",
                                     profile_ci=profile_ci)
                out = out[(out["carriers_case"] + out["carriers_ref"]) > 0]
                results.append(out.assign(cancer_type=cancer_type, comparison=comparison))
            else:
                wanted = "post_acquired" if comparison == PAIRED_ACQUIRED else "post_primary"
                post = in_type[in_type["group"] == wanted]
                pre = in_type[(in_type["group"] == "pre")
                              & in_type["patient_id"].isin(post["patient_id"])]
                if pre.empty:
                    skipped.append({"cancer_type": cancer_type, "comparison": comparison,
                                    "reason": "no patient with both a pre-treatment and a "
                                              "post-progression DNA sample"})
                    continue
                pre_lof = lof.loc[pre.index].set_axis(pre["patient_id"].to_numpy())
                post_lof = lof.loc[post.index].set_axis(post["patient_id"].to_numpy())
                out = paired_gain_test(pre_lof, post_lof, min_carriers=min_carriers)
                out = out[(out["gained"] + out["lost"] + out["both"]) > 0]
                paired.append(out.assign(cancer_type=cancer_type, comparison=comparison))

    front = ["cancer_type", "comparison", "gene"]
    result_table = _empty_results()
    if results:
        result_table = pd.concat(results, ignore_index=True)
        q = result_table[_Q_COLUMNS[criterion]].astype(float)
        result_table["found"] = ((result_table["comparison"] == PRIMARY_COMPARISON)
                                 & result_table["tested"] & (q <= fdr))
        result_table = result_table[front + [c for c in result_table.columns if c not in front]]
        result_table = result_table.sort_values(
            ["cancer_type", "comparison", "max_p", "firth_p", "gene"], na_position="last",
            kind="mergesort").reset_index(drop=True)
    paired_table = _empty_paired()
    if paired:
        paired_table = pd.concat(paired, ignore_index=True)
        paired_table = paired_table[front + [c for c in paired_table.columns if c not in front]]
        paired_table = paired_table.sort_values(
            ["cancer_type", "comparison", "p_value", "gene"], na_position="last",
            kind="mergesort").reset_index(drop=True)
    tested = result_table[result_table["tested"]].groupby(["cancer_type", "comparison"]).size()
    for comparison, name in ((PRIMARY_COMPARISON, "primary"), (SECONDARY_COMPARISON, "secondary")):
        if comparison in comparisons:
            availability[f"genes tested ({name})"] = [int(tested.get((t, comparison), 0))
                                                      for t in availability.index]
    return AcquiredLofAnalysis(
        samples=chosen, lof=lof, events=events, results=result_table, paired=paired_table,
        availability=availability, skipped=pd.DataFrame(skipped, columns=list(_SKIPPED_COLUMNS)),
        missing=None, fdr=float(fdr), min_carriers=min_carriers, criterion=criterion,
    )


def _computed_tmb(cohort: Cohort, samples: pd.DataFrame, mutations: pd.DataFrame,
                  panels: pd.DataFrame) -> pd.Series | None:
    """TMB per Mb from the mutations, where samples lack a recorded TMB and sizes are known."""
    sizes = cohort.meta.get("panel_sizes_mb") or {}
    recorded = samples["tmb"] if "tmb" in samples.columns else pd.Series(np.nan, index=samples.index)
    if not sizes or recorded.notna().all():
        return None
    panel = samples["panel_id"] if "panel_id" in samples.columns else pd.Series(None, index=samples.index)
    keys = panel.where(panel.notna(), WHOLE_EXOME_KEY).astype(str)
    if not set(keys) <= set(sizes) or any(sizes[k] is None for k in set(keys)):
        return None  # a panel of unknown size: no TMB rather than a wrong one
    return tmb_per_mb(mutations, samples, sizes, panels)


def leading_genes(analysis: AcquiredLofAnalysis, n: int = 10) -> pd.DataFrame:
    """The genes to show in figures: every gene found, then the next best of the primary comparison.

    Parameters
    ----------
    analysis
        From :func:`acquired_lof_analysis`.
    n
        At most this many rows beyond the found genes (found genes are always all listed).

    Returns
    -------
    pandas.DataFrame
        Columns cancer_type, gene, found, odds ratio and q-value of the primary comparison;
        found genes first, then tested genes in order of the criterion's p-value. Empty when
        nothing was tested.
    """
    if int(n) != n or n < 0:
        raise LofInputError(f"leading_genes: n must be a non-negative integer, got {n}")
    results = analysis.results
    columns = ["cancer_type", "gene", "found", "firth_or", analysis.p_column, analysis.q_column]
    if results.empty:
        return pd.DataFrame(columns=list(dict.fromkeys(columns)))
    primary = results[(results["comparison"] == PRIMARY_COMPARISON) & results["tested"].astype(bool)]
    primary = primary[primary[analysis.p_column].notna()]
    ordered = primary.sort_values(["found", analysis.p_column, "cancer_type", "gene"],
                                  ascending=[False, True, True, True], kind="mergesort")
    n_found = int(ordered["found"].sum())
    return ordered.head(max(n_found, int(n)))[list(dict.fromkeys(columns))].reset_index(drop=True)


def found_table(analysis: AcquiredLofAnalysis, comparison: str = PRIMARY_COMPARISON,
                rows: str = "found", n: int = 10, percentages: bool = True) -> pd.DataFrame:
    """A readable table of one group comparison: counts, prevalences, odds ratios, p and q.

    Parameters
    ----------
    analysis
        From :func:`acquired_lof_analysis`.
    comparison
        :data:`PRIMARY_COMPARISON` or :data:`SECONDARY_COMPARISON`.
    rows
        ``"found"``: genes whose q-value (the analysis's criterion) passes the FDR; ``"top"``:
        the ``n`` tested genes with the smallest p-values.
    n
        Number of rows for ``rows="top"``.
    percentages
        Include the share of carriers in each group. Leave them out for restricted cohorts, where
        small carrier counts are suppressed: a percentage and its denominator would give the
        count back.

    Returns
    -------
    pandas.DataFrame
        One row per cancer type and gene: carriers and samples in the case and reference groups,
        the share of carriers (%), Fisher's conditional odds ratio with its exact 95% CI and p,
        the Firth odds ratio (adjusted) with its profile 95% CI and p, and the q-value that
        decides.
    """
    if comparison not in (PRIMARY_COMPARISON, SECONDARY_COMPARISON):
        raise LofInputError(f"found_table: comparison must be a group comparison, got {comparison!r}")
    if rows not in ("found", "top"):
        raise LofInputError(f"found_table: rows must be 'found' or 'top', got {rows!r}")
    case, reference = {
        PRIMARY_COMPARISON: ("post, acquired", "pre-treatment"),
        SECONDARY_COMPARISON: ("post, acquired", "post, primary"),
    }[comparison]
    results = analysis.results
    if results.empty:
        part = results
    else:
        part = results[(results["comparison"] == comparison) & results["tested"].astype(bool)]
        part = part[part[analysis.p_column].notna()]
        if rows == "found":
            part = part[part[analysis.q_column].astype(float) <= analysis.fdr]
            part = part.sort_values(["cancer_type", analysis.p_column, "gene"], kind="mergesort")
        else:
            part = part.sort_values([analysis.p_column, "cancer_type", "gene"], kind="mergesort").head(int(n))
    table = pd.DataFrame({
        "cancer type": part.get("cancer_type", pd.Series(dtype=object)),
        "gene": part.get("gene", pd.Series(dtype=object)),
        f"carriers, {case}": part.get("carriers_case", pd.Series(dtype=int)),
        f"samples, {case}": part.get("n_case", pd.Series(dtype=int)),
        f"carriers, {reference}": part.get("carriers_ref", pd.Series(dtype=int)),
        f"samples, {reference}": part.get("n_ref", pd.Series(dtype=int)),
    })
    if len(part) and percentages:
        table[f"% {case}"] = 100.0 * part["carriers_case"] / part["n_case"]
        table[f"% {reference}"] = 100.0 * part["carriers_ref"] / part["n_ref"]
    if len(part):
        for label, column in (("Fisher OR", "fisher_or"), ("Fisher CI low", "fisher_ci_lower"),
                              ("Fisher CI high", "fisher_ci_upper"), ("Fisher p", "fisher_p"),
                              ("Firth OR", "firth_or"), ("Firth CI low", "firth_ci_lower"),
                              ("Firth CI high", "firth_ci_upper"), ("Firth p", "firth_p")):
            table[label] = part[column].astype(float)
        table[f"q ({analysis.criterion})"] = part[analysis.q_column].astype(float)
    for column in table.columns[2:6]:
        table[column] = table[column].astype(int)
    return table.reset_index(drop=True)


def paired_table(analysis: AcquiredLofAnalysis, comparison: str = PAIRED_ACQUIRED,
                 rows: str = "found", n: int = 10) -> pd.DataFrame:
    """A readable table of LoF gained within pre/post pairs.

    ``rows="found"`` keeps genes whose McNemar q-value passes the FDR, ``"top"`` the ``n``
    tested genes with the smallest p-values.
    """
    if comparison not in (PAIRED_ACQUIRED, PAIRED_PRIMARY):
        raise LofInputError(f"paired_table: comparison must be a paired comparison, got {comparison!r}")
    if rows not in ("found", "top"):
        raise LofInputError(f"paired_table: rows must be 'found' or 'top', got {rows!r}")
    paired = analysis.paired
    columns = ["cancer_type", "gene", "n_pairs", "gained", "lost", "both", "p_value", "q_value"]
    if paired.empty:
        return pd.DataFrame(columns=columns)
    part = paired[(paired["comparison"] == comparison) & paired["tested"].astype(bool)]
    if rows == "found":
        part = part[part["q_value"] <= analysis.fdr].sort_values(["cancer_type", "p_value", "gene"], kind="mergesort")
    else:
        part = part.sort_values(["p_value", "cancer_type", "gene"], kind="mergesort").head(int(n))
    out = part[columns].reset_index(drop=True)
    for column in ("n_pairs", "gained", "lost", "both"):
        out[column] = out[column].astype(int)
    return out


def skipped_sentences(analysis: AcquiredLofAnalysis) -> list[str]:
    """One sentence per cancer type and comparison that could not be run."""
    return [f"{row.cancer_type}: {COMPARISON_LABELS[row.comparison]} not run ({row.reason})."
            for row in analysis.skipped.itertuples(index=False)]


def planted_lof_pairs(truth: Mapping) -> list[tuple[str, str]]:
    """(cancer_type, gene) pairs with planted acquired LoF in a simulated cohort's truth."""
    try:
        return sorted((str(row["cancer_type"]), str(row["gene"])) for row in truth["acquired_lof"])
    except (KeyError, TypeError) as err:
        raise LofInputError("truth: expected truth['acquired_lof'] rows with gene and cancer_type") from err


def discovery_report(
    analysis: AcquiredLofAnalysis, truth: Mapping, criterion: str | None = None
) -> dict[str, object]:
    """Genes found by the primary comparison, scored against the planted truth.

    Parameters
    ----------
    analysis
        From :func:`acquired_lof_analysis` on a simulated cohort.
    truth
        Its ``truth.json`` (:func:`helpers.simulate.load_truth`).
    criterion
        One of :data:`FOUND_CRITERIA`; default the analysis's own.

    Returns
    -------
    dict
        ``found`` (sorted (cancer_type, gene) pairs), ``true`` and ``false`` discoveries (a planted
        gene found in another cancer type is false), ``fdp`` (false / found, 0 when nothing is
        found) and ``planted_found`` ({(cancer_type, gene): bool}).
    """
    criterion = criterion or analysis.criterion
    if criterion not in FOUND_CRITERIA:
        raise LofInputError(f"discovery_report: criterion must be one of {FOUND_CRITERIA}, got {criterion!r}")
    planted = planted_lof_pairs(truth)
    results = analysis.results
    if len(results):
        q = results[_Q_COLUMNS[criterion]].astype(float)
        passed = results[(results["comparison"] == PRIMARY_COMPARISON)
                         & results["tested"].astype(bool) & (q <= analysis.fdr)]
        found = sorted(zip(passed["cancer_type"].astype(str), passed["gene"].astype(str)))
    else:
        found = []
    true = [pair for pair in found if pair in set(planted)]
    false = [pair for pair in found if pair not in set(planted)]
    return {
        "found": found,
        "true": true,
        "false": false,
        "fdp": len(false) / len(found) if found else 0.0,
        "planted_found": {pair: pair in set(found) for pair in planted},
    }


def _no_rows(table: str) -> pd.DataFrame:
    columns = {"mutations": ["sample_id", "gene", "variant_classification"],
               "cna": ["sample_id", "gene", "copy_state"], "panels": ["panel_id", "gene"]}[table]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _comparison_labels(in_type: pd.DataFrame, comparison: str) -> pd.Series:
    """'case' / 'reference' per sample of one cancer type for a group comparison."""
    if comparison == PRIMARY_COMPARISON:
        case = in_type["group"] == "post_acquired"
        reference = in_type["primary_reference"].astype(bool)
    else:
        case = in_type["group"] == "post_acquired"
        reference = in_type["group"] == "post_primary"
    labels = pd.Series(np.where(case, "case", np.where(reference, "reference", None)), index=in_type.index)
    return labels.dropna()


def _skip_reason(comparison: str, absent: list[str]) -> str:
    names = {
        PRIMARY_COMPARISON: {"case": "post-progression DNA sample of acquired resistance",
                             "reference": "pre-treatment DNA sample"},
        SECONDARY_COMPARISON: {"case": "post-progression DNA sample of acquired resistance",
                               "reference": "post-progression DNA sample of primary resistance"},
    }[comparison]
    return "no " + " and no ".join(names[a] for a in absent)


def _availability(chosen: pd.DataFrame) -> pd.DataFrame:
    """Patients per cancer type in each group of :func:`select_lof_samples`, and pairs."""
    counts = chosen.groupby(["cancer_type", "group"], observed=False).size().unstack("group", fill_value=0)
    counts = counts.reindex(columns=list(LOF_GROUPS), fill_value=0)
    table = pd.DataFrame(index=counts.index)
    table["pre-treatment"] = counts["pre"]
    reference = chosen[chosen["primary_reference"]].groupby("cancer_type").size()
    table["pre-treatment, primary comparison"] = reference.reindex(counts.index, fill_value=0)
    table["post-progression, acquired"] = counts["post_acquired"]
    table["post-progression, primary"] = counts["post_primary"]
    has_pre = set(chosen.loc[chosen["group"] == "pre", "patient_id"])
    for group, label in (("post_acquired", "pairs, acquired"), ("post_primary", "pairs, primary")):
        paired = chosen[(chosen["group"] == group) & chosen["patient_id"].isin(has_pre)]
        table[label] = paired.groupby("cancer_type").size().reindex(counts.index, fill_value=0)
    table.index.name = "cancer_type"
    return table.astype(int)


def _missing_data(cohort: Cohort, chosen: pd.DataFrame) -> str | None:
    """One sentence on what the cohort lacks for the acquired-LoF analysis, or None."""
    has_calls = any(t is not None and len(t) for t in (cohort.mutations, cohort.cna))
    if not has_calls:
        return ("This cohort has no DNA alteration calls (no mutations or copy-number table), so "
                "loss-of-function alterations cannot be called and this chapter has nothing to show.")
    names_panels = "panel_id" in cohort.samples.columns and cohort.samples["panel_id"].notna().any()
    if cohort.panels is None and names_panels:
        return ("Samples of this cohort name gene panels but the cohort has no panels table, so a "
                "gene that was not assayed cannot be told from a wild-type gene; add the panels "
                "table to run this chapter.")
    groups = chosen["group"].astype(str)
    if not (groups == "post_acquired").any():
        if (groups == "post_primary").any():
            return ("This cohort has post-progression DNA samples only after primary resistance, "
                    "none after acquired resistance, so LoF alterations acquired after ICB cannot "
                    "be compared with pre-treatment tumours.")
        return ("This cohort has no DNA samples taken after progression on ICB (only "
                "pre-treatment or on-treatment tumours), so LoF alterations acquired after ICB "
                "cannot be looked for: the comparisons of this chapter need post-progression DNA.")
    if not chosen["primary_reference"].any() and not (groups == "post_primary").any():
        return ("This cohort has post-progression DNA samples of acquired resistance but no "
                "pre-treatment DNA samples and no post-progression samples of primary resistance "
                "to compare them with.")
    return None
