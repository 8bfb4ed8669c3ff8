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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

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
]

# --------------------------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------------------------

#: Variant_Classification values of the MAF specification (GDC/TCGA MAF, vcf2maf).
MAF_VARIANT_CLASSES: frozenset[str] = frozenset(
    {
        "Frame_Shift_Del",
        "Frame_Shift_Ins",
        "In_Frame_Del",
        "In_Frame_Ins",
        "Missense_Mutation",
        "Nonsense_Mutation",
        "Silent",
        "Splice_Site",
        "Splice_Region",
        "Translation_Start_Site",
        "Nonstop_Mutation",
        "3'UTR",
        "3'Flank",
        "5'UTR",
        "5'Flank",
        "IGR",
        "Intron",
        "RNA",
        "Targeted_Region",
        "De_novo_Start_InFrame",
        "De_novo_Start_OutOfFrame",
    }
)

#: Truncating MAF classes counted as LoF (DESIGN §4). This is cBioPortal's "truncating" protein
#: impact (cbioportal-frontend, ``getCanonicalMutationType.ts``: nonsense, frameshift ins/del,
#: nonstart = Translation_Start_Site, nonstop) plus canonical Splice_Site, which older cBioPortal
#: versions also put under "truncating" and newer ones show as a separate "splice" group.
#: Splice_Region is deliberately NOT included: cBioPortal's newer "splice" group maps it together
#: with Splice_Site, but a splice-region variant (1-3 exonic or 3-8 intronic bases from the
#: junction) rarely abolishes splicing, whereas Splice_Site hits the canonical +/-1,2 dinucleotide.
#: De_novo_Start_OutOfFrame (mapped to frameshift by cBioPortal) is not included either: it creates
#: an upstream out-of-frame ORF but leaves the canonical start intact.
TRUNCATING_CLASSES: frozenset[str] = frozenset(
    {
        "Nonsense_Mutation",
        "Frame_Shift_Del",
        "Frame_Shift_Ins",
        "Splice_Site",
        "Translation_Start_Site",
        "Nonstop_Mutation",
    }
)

#: MAF classes counted as nonsynonymous for tumour mutational burden (coding, protein-changing).
NONSYNONYMOUS_CLASSES: frozenset[str] = frozenset(
    {
        "Missense_Mutation",
        "Nonsense_Mutation",
        "Nonstop_Mutation",
        "Frame_Shift_Del",
        "Frame_Shift_Ins",
        "In_Frame_Del",
        "In_Frame_Ins",
        "Splice_Site",
        "Translation_Start_Site",
    }
)

#: copy_state of a deep (homozygous) deletion in the canonical ``cna`` table.
DEEP_DELETION: int = -2

#: Key of ``panel_sizes_mb`` used for DNA samples without a panel (whole-exome sequencing).
WHOLE_EXOME_KEY: str = "whole_exome"

_ASSAYS_WITH_DNA = frozenset({"DNA", "DNA+RNA"})
_ASSAYS = frozenset({"DNA", "RNA", "DNA+RNA"})

#: FoundationOne short-variant classes (the part after ``known_short:`` / ``likely_short:`` in
#: the IMvigor210 ``variant_classification`` column) -> MAF class. Values with a ``|`` are
#: ambiguous at the category level and are resolved per row (see :func:`map_foundationone`).
FOUNDATIONONE_SHORT_VARIANT_CLASSES: dict[str, str] = {
    "Missense": "Missense_Mutation",
    "Nonsense": "Nonsense_Mutation",
    # FMI "splice site" calls are canonical-site or exon-edge variants reported as pathogenic:
    # Splice_Site (not Splice_Region).
    "Splice_Site": "Splice_Site",
    # Ambiguous: MAF splits frameshifts by direction; resolved from the net length of hgvsc.
    "Frameshift": "Frame_Shift_Del|Frame_Shift_Ins",
    # Ambiguous: resolved from the net length of hgvsc.
    "Inframe_Indel": "In_Frame_Del|In_Frame_Ins",
    # TERT promoter variants (c.-124C>T, c.-146C>T): upstream of the gene, MAF 5'Flank.
    "Promoter": "5'Flank",
    # Start codon lost (e.g. RB1 p.M1_A11>?): MAF Translation_Start_Site, which we count as LoF;
    # the IMvigor210 conversion (is_lof) does not.
    "Start_Lost": "Translation_Start_Site",
    # Ambiguous catch-all of FMI: resolved from protein_change. Stop-lost ("*359S") ->
    # Nonstop_Mutation (LoF here, not in is_lof); complex in-frame changes ("L747_A750>S",
    # "N771_P772>SVDNP") -> In_Frame_Del / In_Frame_Ins / Missense_Mutation by protein length.
    "Other": "Nonstop_Mutation|In_Frame_Del|In_Frame_Ins|Missense_Mutation",
}

#: FoundationOne copy-number classes (``deletion:``, ``amplification:``, ``gain:`` channels) ->
#: canonical copy_state.
FOUNDATIONONE_COPY_STATES: dict[str, int] = {
    "Homozygous_Deletion": DEEP_DELETION,  # FMI "loss(0, ...)": zero copies
    "Amplification": 2,  # focal amplification
    # Ambiguous: FMI "gain" is a non-focal copy increase (copy number can be high, e.g. 8);
    # mapped to low-level gain +1 because it is not a focal amplification.
    "Gain": 1,
}

_FOUNDATIONONE_CHANNELS = {
    "known_short": "short",
    "likely_short": "short",
    "deletion": "copy",
    "amplification": "copy",
    "gain": "copy",
}


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class LofInputError(ValueError):
    """Bad input to a function of :mod:`helpers.lof` (the message says what and where)."""


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


def read_gene_list(path: str | PathLike[str]) -> list[str]:
    """Read a gene list file: one symbol per line, ``#`` lines are comments.

    Parameters
    ----------
    path
        File such as ``data/panels/impact468_genes.txt``.

    Returns
    -------
    list of str
        The symbols in file order.

    Raises
    ------
    LofInputError
        If a symbol is repeated or the file has no symbols.
    """
    genes: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            symbol = line.strip()
            if symbol and not symbol.startswith("#"):
                genes.append(symbol)
    if not genes:
        raise LofInputError(f"{path}: no gene symbols found")
    duplicated = sorted({g for g in genes if genes.count(g) > 1})
    if duplicated:
        raise LofInputError(f"{path}: repeated gene symbol(s) {duplicated}")
    return genes


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


def benjamini_hochberg(pvalues: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray | pd.Series:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN stays NaN and is not counted.

    Parameters
    ----------
    pvalues
        p-values in [0, 1], NaN allowed.

    Returns
    -------
    numpy.ndarray or pandas.Series
        Same shape and, for a Series, same index.

    Raises
    ------
    LofInputError
        A p-value outside [0, 1].
    """
    values = np.asarray(pvalues, dtype=float)
    flat = values.ravel()
    present = ~np.isnan(flat)
    observed = flat[present]
    if np.any((observed < 0) | (observed > 1)):
        raise LofInputError("benjamini_hochberg: p-values must lie in [0, 1]")
    adjusted = np.full(flat.shape, np.nan)
    m = observed.size
    if m:
        order = np.argsort(observed, kind="mergesort")
        scaled = observed[order] * m / np.arange(1, m + 1)
        monotone = np.minimum.accumulate(scaled[::-1])[::-1]
        q = np.empty(m)
        q[order] = np.minimum(monotone, 1.0)
        adjusted[present] = q
    adjusted = adjusted.reshape(values.shape)
    if isinstance(pvalues, pd.Series):
        return pd.Series(adjusted, index=pvalues.index, name=pvalues.name)
    return adjusted


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


def compare_groups(
    lof: pd.DataFrame,
    group_labels: pd.Series,
    covariates: pd.DataFrame | None = None,
    min_carriers: int = 3,
    case_group: object | None = None,
    level: float = 0.95,
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

    Returns
    -------
    pandas.DataFrame
        One row per gene (order of ``lof`` columns): carriers_case, n_case, carriers_ref, n_ref,
        tested, reason (why not tested, or why the Firth fit failed), fisher_or, fisher_ci_lower,
        fisher_ci_upper, fisher_p, fisher_q, firth_or, firth_ci_lower, firth_ci_upper, firth_p,
        firth_q, firth_n, firth_covariates, firth_dropped, firth_converged. ``n_*`` count samples
        that assayed the gene. q-values are Benjamini–Hochberg over the tested genes of this
        call. ``attrs`` holds ``case_group`` and ``reference_group``.

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

    rows = []
    for gene in matrix.columns:
        status = matrix[gene]
        assayed = status.notna()
        in_case = assayed & (is_case == 1.0)
        in_ref = assayed & (is_case == 0.0)
        row: dict[str, object] = {
            "gene": gene,
            "carriers_case": int(status[in_case].sum()),
            "n_case": int(in_case.sum()),
            "carriers_ref": int(status[in_ref].sum()),
            "n_ref": int(in_ref.sum()),
            "tested": False,
            "reason": "",
        }
        total = row["carriers_case"] + row["carriers_ref"]  # type: ignore[operator]
        if row["n_case"] == 0 or row["n_ref"] == 0:
            row["reason"] = "not assayed in both groups"
        elif total < min_carriers:
            row["reason"] = f"fewer than {min_carriers} carriers ({total})"
        else:
            row["tested"] = True
            fisher = fisher_or(row["carriers_case"], row["n_case"], row["carriers_ref"], row["n_ref"], level)  # type: ignore[arg-type]
            row.update(
                fisher_or=fisher.odds_ratio,
                fisher_ci_lower=fisher.ci_lower,
                fisher_ci_upper=fisher.ci_upper,
                fisher_p=fisher.p_value,
            )
            row.update(_firth_for_gene(status[assayed], is_case[assayed], covariate_frame.loc[assayed[assayed].index], level))
        rows.append(row)

    columns = [
        "gene", "carriers_case", "n_case", "carriers_ref", "n_ref", "tested", "reason",
        "fisher_or", "fisher_ci_lower", "fisher_ci_upper", "fisher_p", "fisher_q",
        "firth_or", "firth_ci_lower", "firth_ci_upper", "firth_p", "firth_q",
        "firth_n", "firth_covariates", "firth_dropped", "firth_converged",
    ]
    result = pd.DataFrame(rows).reindex(columns=columns)
    result["fisher_q"] = benjamini_hochberg(result["fisher_p"].astype(float)).to_numpy()
    result["firth_q"] = benjamini_hochberg(result["firth_p"].astype(float)).to_numpy()
    result["tested"] = result["tested"].astype(bool)
    result.attrs["case_group"] = case
    result.attrs["reference_group"] = reference
    return result


def _firth_for_gene(
    status: pd.Series, is_case: pd.Series, covariates: pd.DataFrame, level: float
) -> dict[str, object]:
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
    complete = design.notna().all(axis=1)
    design, outcome = design[complete], status[complete]
    out: dict[str, object] = {
        "firth_n": int(complete.sum()),
        "firth_covariates": ",".join(map(str, used)),
        "firth_dropped": ";".join(dropped),
    }
    if design["group"].nunique() < 2:
        out["reason"] = "Firth not fitted: complete cases cover one group only"
        return out
    try:
        fit = firth_logistic(outcome, design, profile="group", level=level)
    except (LofInputError, np.linalg.LinAlgError) as err:
        out["reason"] = f"Firth not fitted: {err}"
        return out
    out.update(
        firth_or=float(np.exp(fit.coef["group"])),
        firth_ci_lower=float(np.exp(fit.ci_lower["group"])),
        firth_ci_upper=float(np.exp(fit.ci_upper["group"])),
        firth_p=float(fit.p_value["group"]),
        firth_converged=bool(fit.converged),
    )
    return out


def paired_gain_test(pre_lof: pd.DataFrame, post_lof: pd.DataFrame) -> pd.DataFrame:
    """LoF gained vs lost between paired samples, per gene, with an exact McNemar test.

    Parameters
    ----------
    pre_lof, post_lof
        Patients x genes LoF matrices (1/0/NaN as from :func:`lof_matrix`), indexed by patient id,
        one row per patient: the caller chooses which sample is "pre" and which "post". Patients
        present in both are paired; a gene counts for a pair only where both samples assayed it.

    Returns
    -------
    pandas.DataFrame
        One row per gene common to both matrices: n_pairs, gained (0 -> 1), lost (1 -> 0),
        both (1 -> 1), p_value (two-sided exact binomial test of gained vs lost, p = 1/2, which is
        the exact McNemar test; NaN when there is no discordant pair) and q_value
        (Benjamini–Hochberg over genes with a p-value).

    Raises
    ------
    LofInputError
        Non-DataFrame input, repeated patient ids, values other than 0/1/NaN, no shared patients.
    """
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
    discordant = result["gained"] + result["lost"]
    result["p_value"] = [
        float(stats.binomtest(int(g), int(d), 0.5).pvalue) if d > 0 else np.nan
        for g, d in zip(result["gained"], discordant)
    ]
    result["q_value"] = benjamini_hochberg(result["p_value"]).to_numpy()
    return result


# --------------------------------------------------------------------------------------------
# FoundationOne (IMvigor210) vocabulary
# --------------------------------------------------------------------------------------------

_HGVSC_COORDS = re.compile(r"^c\.(-?\d+)(?:[+-]\d+)?(?:_(-?\d+)(?:[+-]\d+)?)?(.*)$")


def _net_length_change(hgvsc: str) -> int | None:
    """Net change in coding length of an indel written the FoundationOne way, or None."""
    match = _HGVSC_COORDS.match(str(hgvsc))
    if not match:
        return None
    start, end, change = match.groups()
    span = int(end) - int(start) + 1 if end is not None else 1
    if ">" in change:  # "GAG>AA", ">CGGTCTT" (deleted bases not spelt), "del>TT"
        ref, alt = change.split(">", 1)
        ref = ref.removeprefix("del")
        ref_len = len(ref) if ref else span
        return len(alt) - ref_len
    if change.startswith("delins"):
        return len(change[6:]) - span
    if change.startswith("del"):
        rest = change[3:]
        return -(int(rest) if rest.isdigit() else (len(rest) if rest else span))
    if change.startswith(("ins", "dup")):
        rest = change[3:]
        return int(rest) if rest.isdigit() else (len(rest) if rest else span)
    return None


_PROTEIN_COMPLEX = re.compile(r"^([A-Z])(\d+)_([A-Z])(\d+)>([A-Z]+)$")


def _resolve_other(protein_change: str) -> str | None:
    """MAF class of an FMI "Other" short variant from its protein change, or None."""
    text = str(protein_change)
    if re.match(r"^\*\d+[A-Z]", text):  # stop codon replaced by an amino acid: stop lost
        return "Nonstop_Mutation"
    match = _PROTEIN_COMPLEX.match(text)
    if match:
        replaced = int(match.group(4)) - int(match.group(2)) + 1
        inserted = len(match.group(5))
        if inserted < replaced:
            return "In_Frame_Del"
        if inserted > replaced:
            return "In_Frame_Ins"
        return "Missense_Mutation"
    return None


def map_foundationone(mutations_tsv: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map the FoundationOne alterations of IMvigor210 onto canonical ``mutations`` and ``cna``.

    Parameters
    ----------
    mutations_tsv
        The table ``imvigor210_urothelial_atezolizumab/mutations.tsv`` (columns sample_id, gene,
        variant_classification as ``channel:Class``, protein_change, hgvsc, vaf, ...).

    Returns
    -------
    (mutations, cna)
        ``mutations``: sample_id, gene, variant_classification (MAF), protein_change, vaf for
        short variants; ``cna``: sample_id, gene, copy_state for copy-number alterations. Both
        keep the row index of the input, so each canonical row can be traced to its source row.
        Categories are mapped by :data:`FOUNDATIONONE_SHORT_VARIANT_CLASSES` and
        :data:`FOUNDATIONONE_COPY_STATES`; ambiguous categories are resolved per row (frameshift
        and in-frame direction from the net length of ``hgvsc``; "Other" from
        ``protein_change``). Gene symbols are passed through unchanged (FoundationOne uses some
        previous symbols, e.g. MLL2 for KMT2D).

    Raises
    ------
    LofInputError
        Missing columns, a channel or class not in the mapping, a channel/class mismatch, or a
        row whose ambiguous class cannot be resolved.
    """
    _require_columns(
        mutations_tsv, ["sample_id", "gene", "variant_classification", "protein_change", "hgvsc", "vaf"],
        "mutations.tsv",
    )
    parts = mutations_tsv["variant_classification"].astype(str).str.split(":", n=1, expand=True)
    if parts.shape[1] != 2 or parts[1].isna().any():
        bad = parts[1].isna() if parts.shape[1] == 2 else pd.Series(True, index=parts.index)
        raise LofInputError(
            "mutations.tsv.variant_classification: expected 'channel:Class', e.g.\n"
            + _examples(mutations_tsv[["sample_id", "gene", "variant_classification"]], bad)
        )
    channel, category = parts[0], parts[1]
    kind = channel.map(_FOUNDATIONONE_CHANNELS)
    unknown = kind.isna() | ~(
        ((kind == "short") & category.isin(FOUNDATIONONE_SHORT_VARIANT_CLASSES))
        | ((kind == "copy") & category.isin(FOUNDATIONONE_COPY_STATES))
    )
    if unknown.any():
        raise LofInputError(
            "mutations.tsv.variant_classification: unmapped channel/class "
            f"{sorted(mutations_tsv.loc[unknown, 'variant_classification'].unique())}; extend "
            "FOUNDATIONONE_SHORT_VARIANT_CLASSES / FOUNDATIONONE_COPY_STATES"
        )

    short = mutations_tsv[kind == "short"]
    maf = category[kind == "short"].map(FOUNDATIONONE_SHORT_VARIANT_CLASSES)
    resolved = maf.copy()
    for index in maf.index[maf.str.contains("|", regex=False)]:
        fmi_class = category[index]
        if fmi_class == "Other":
            value = _resolve_other(short.at[index, "protein_change"])
        else:
            net = _net_length_change(short.at[index, "hgvsc"])
            value = None
            if net is not None and net != 0:
                prefix = "Frame_Shift_" if fmi_class == "Frameshift" else "In_Frame_"
                value = prefix + ("Del" if net < 0 else "Ins")
        if value is None:
            raise LofInputError(
                f"mutations.tsv row {index}: cannot resolve FoundationOne class {fmi_class!r} "
                f"(protein_change={short.at[index, 'protein_change']!r}, hgvsc={short.at[index, 'hgvsc']!r})"
            )
        resolved[index] = value
    mutations = pd.DataFrame(
        {
            "sample_id": short["sample_id"],
            "gene": short["gene"],
            "variant_classification": resolved,
            "protein_change": short["protein_change"],
            "vaf": pd.to_numeric(short["vaf"], errors="coerce"),
        },
        index=short.index,
    )
    copies = mutations_tsv[kind == "copy"]
    cna = pd.DataFrame(
        {
            "sample_id": copies["sample_id"],
            "gene": copies["gene"],
            "copy_state": category[kind == "copy"].map(FOUNDATIONONE_COPY_STATES).astype(int),
        },
        index=copies.index,
    )
    return mutations, cna
