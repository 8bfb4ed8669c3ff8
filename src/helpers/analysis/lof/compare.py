"""Per-gene LoF comparisons: two groups of samples (Fisher and adjusted Firth), and paired samples.

:func:`compare_groups` and :func:`paired_gain_test` take LoF matrices (1 LoF, 0 assayed wild
type, NaN not assayed; :func:`helpers.analysis.lof.matrix.lof_matrix`) and return one row per gene.
The statistics themselves live in :mod:`helpers.stats` (Fisher's test and the exact McNemar test
in :mod:`~helpers.stats.contingency`, the Firth fits in :mod:`~helpers.stats.firth`,
Benjamini–Hochberg in :mod:`~helpers.stats.multiple`); this module decides which genes are
tested, which covariates and samples enter each model, and shapes the tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.errors import InputError, Violation, check, raise_violations
from helpers.stats.contingency import FisherResult, fisher_or, mcnemar_exact
from helpers.stats.firth import design_matrix, firth_logistic_batch
from helpers.stats.multiple import benjamini_hochberg

__all__ = ["COMPARE_COLUMNS", "compare_groups", "paired_gain_test"]


def _matrix_violations(frame: pd.DataFrame, table: str) -> list[Violation]:
    """One violation per column of a LoF matrix holding values other than 0, 1 or NaN."""
    found: list[Violation] = []
    values = frame.to_numpy(dtype=float)
    bad = ~np.isnan(values) & ~np.isin(values, (0.0, 1.0))
    if not bad.any():
        return found
    shown = frame.rename_axis("id").reset_index()
    for j in np.flatnonzero(bad.any(axis=0)):
        check(
            found,
            shown,
            bad[:, j],
            table=table,
            column=str(frame.columns[j]),
            rule="must be 0, 1 or NaN",
            show=["id"],
        )
    return found


def _two_levels(labels: pd.Series, case_group: object | None) -> tuple[object, object]:
    if isinstance(labels.dtype, pd.CategoricalDtype):
        levels = [c for c in labels.cat.categories if (labels == c).any()]
    else:
        levels = sorted(labels.dropna().unique().tolist())
    if len(levels) != 2:
        raise InputError(f"compare_groups: group_labels must have exactly two groups, got {levels}")
    if case_group is None:
        return levels[1], levels[0]
    if case_group not in levels:
        raise InputError(f"compare_groups: case_group {case_group!r} is not one of {levels}")
    reference = levels[0] if levels[1] == case_group else levels[1]
    return case_group, reference


#: Columns of :func:`compare_groups`.
COMPARE_COLUMNS = (
    "gene",
    "carriers_case",
    "n_case",
    "carriers_ref",
    "n_ref",
    "tested",
    "reason",
    "fisher_or",
    "fisher_ci_lower",
    "fisher_ci_upper",
    "fisher_p",
    "fisher_q",
    "firth_or",
    "firth_ci_lower",
    "firth_ci_upper",
    "firth_p",
    "firth_q",
    "firth_n",
    "firth_covariates",
    "firth_dropped",
    "firth_converged",
    "max_p",
    "max_q",
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
        Samples x genes matrix from :func:`~helpers.analysis.lof.matrix.lof_matrix` (1 LoF, 0 assayed wild type, NaN not
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
    together by :func:`helpers.stats.firth.firth_logistic_batch`, which gives the estimates,
    penalised likelihood-ratio p-values and profile limits of
    :func:`helpers.stats.firth.firth_logistic` to about 1e-8; each distinct 2x2 table gets one
    Fisher test.

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
    InputError
        Bad matrix values, labels not matching the matrix, non-numeric covariates, fewer or more
        than two groups.
    """
    if not isinstance(lof, pd.DataFrame):
        raise InputError("compare_groups: lof must be a DataFrame (samples x genes)")
    if not isinstance(group_labels, pd.Series):
        raise InputError("compare_groups: group_labels must be a Series indexed by sample id")
    if min_carriers < 1:
        raise InputError(f"compare_groups: min_carriers must be >= 1, got {min_carriers}")
    violations = _matrix_violations(lof, "lof")
    labelled = group_labels.rename("group").rename_axis("sample_id").reset_index()
    check(
        violations,
        labelled,
        labelled["sample_id"].duplicated(keep=False),
        table="group_labels",
        column="sample_id",
        rule="must be unique",
    )
    check(
        violations,
        labelled,
        labelled["group"].notna() & ~labelled["sample_id"].isin(lof.index),
        table="group_labels",
        column="sample_id",
        rule="a labelled sample must be a row of lof",
        show=["group"],
    )
    raise_violations(violations, "compare_groups: bad input")
    labels = group_labels.dropna()
    case, reference = _two_levels(labels, case_group)
    labels = labels[labels.isin([case, reference])]
    is_case = (labels == case).astype(float)
    matrix = lof.loc[labels.index]

    if covariates is not None:
        if not isinstance(covariates, pd.DataFrame):
            raise InputError("compare_groups: covariates must be a DataFrame indexed by sample id")
        repeated: list[Violation] = []
        check(
            repeated,
            covariates,
            covariates.index.duplicated(keep=False),
            table="covariates",
            column="sample_id (index)",
            rule="must be unique",
        )
        raise_violations(repeated, "compare_groups: bad covariates")
        non_numeric = [
            c
            for c in covariates.columns
            if not (pd.api.types.is_numeric_dtype(covariates[c]) or pd.api.types.is_bool_dtype(covariates[c]))
        ]
        if non_numeric:
            raise InputError(
                f"compare_groups: covariates must be numeric (encode categories first); "
                f"non-numeric columns {non_numeric}"
            )
        clashes = [c for c in covariates.columns if str(c) in ("group", "Intercept")]
        if clashes:
            raise InputError(f"compare_groups: covariate names {clashes} are reserved")
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
    result = result.reindex(columns=list(COMPARE_COLUMNS))
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

    for column in (
        "fisher_or",
        "fisher_ci_lower",
        "fisher_ci_upper",
        "fisher_p",
        "firth_or",
        "firth_ci_lower",
        "firth_ci_upper",
        "firth_p",
        "firth_n",
    ):
        result[column] = result[column].astype(float)
    result["fisher_q"] = benjamini_hochberg(result["fisher_p"]).to_numpy()
    result["firth_q"] = benjamini_hochberg(result["firth_p"]).to_numpy()
    # intersection-union test: significant only where both tests are (NaN if either is missing)
    result["max_p"] = np.fmax(result["fisher_p"], result["firth_p"]).where(
        result["fisher_p"].notna() & result["firth_p"].notna()
    )
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
        _, X, names = design_matrix(Y[:, 0], design, add_intercept=True)
        fit = firth_logistic_batch(X, Y, names.index("group"), level=level, profile_ci=profile_ci)
    except (InputError, np.linalg.LinAlgError) as err:
        out["reason"] = f"Firth not fitted: {err}"
        return out
    out.update(
        firth_or=np.exp(fit.coef[fit.profiled]),
        firth_ci_lower=np.exp(fit.ci_lower),
        firth_ci_upper=np.exp(fit.ci_upper),
        firth_p=fit.p_value,
        firth_converged=fit.converged.astype(object),
    )
    return out


def paired_gain_test(pre_lof: pd.DataFrame, post_lof: pd.DataFrame, min_carriers: int = 1) -> pd.DataFrame:
    """LoF gained vs lost between paired samples, per gene, with an exact McNemar test.

    Parameters
    ----------
    pre_lof, post_lof
        Patients x genes LoF matrices (1/0/NaN as from :func:`~helpers.analysis.lof.matrix.lof_matrix`), indexed by patient id,
        one row per patient: the caller chooses which sample is "pre" and which "post". Patients
        present in both are paired; a gene counts for a pair only where both samples assayed it.
    min_carriers
        A gene is tested only if at least this many pairs carry LoF in either sample
        (gained + lost + both) and at least one pair is discordant.

    Returns
    -------
    pandas.DataFrame
        One row per gene common to both matrices: n_pairs, gained (0 -> 1), lost (1 -> 0),
        both (1 -> 1), tested, reason (why not), p_value (the exact McNemar test of gained vs
        lost, :func:`helpers.stats.contingency.mcnemar_exact`; NaN when not tested) and q_value
        (Benjamini–Hochberg over the tested genes).

    Raises
    ------
    InputError
        Non-DataFrame input, repeated patient ids, values other than 0/1/NaN, no shared patients.
    """
    if min_carriers < 1:
        raise InputError(f"paired_gain_test: min_carriers must be >= 1, got {min_carriers}")
    violations: list[Violation] = []
    for name, frame in (("pre_lof", pre_lof), ("post_lof", post_lof)):
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"paired_gain_test: {name} must be a DataFrame (patients x genes)")
        ids = frame.index.to_frame(index=False, name="patient_id")
        check(
            violations,
            ids,
            ids["patient_id"].duplicated(keep=False),
            table=name,
            column="patient_id",
            rule="must be unique (one row per patient)",
        )
        violations += _matrix_violations(frame, name)
    raise_violations(violations, "paired_gain_test: bad input")
    patients = pre_lof.index.intersection(post_lof.index)
    if len(patients) == 0:
        raise InputError("paired_gain_test: no patient has both a pre and a post row")
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
    p_values = np.full(len(result), np.nan)
    p_values[tested] = mcnemar_exact(result["gained"].to_numpy()[tested], result["lost"].to_numpy()[tested])
    result["p_value"] = p_values
    result["q_value"] = benjamini_hochberg(result["p_value"]).to_numpy()
    return result
