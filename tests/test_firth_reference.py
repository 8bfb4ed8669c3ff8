"""The Firth fits against R: brglm2 0.9, ``glm(y ~ carrier + score + count, method = "brglmFit",
type = "AS_mean")`` on ``../shared/reference/firth_input.tsv`` (120 rows; the carrier flag separates
the outcome quasi-completely: no carrier has y = 0), as ``firth_reference.json`` records it.

Both paths must agree to 1e-6 relative on every coefficient and standard error: the single fit
(:func:`helpers.stats.firth.firth_logistic`), the batched fit
(:func:`helpers.stats.firth.firth_logistic_batch`) on the design directly and among other
outcomes, and the batched fit the way chapter 4 calls it (:func:`helpers.analysis.lof.compare_groups`,
where the outcome is a gene's LoF status and ``carrier`` is the group).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.lof import compare_groups
from helpers.stats.firth import design_matrix, firth_logistic, firth_logistic_batch

RTOL = 1e-6
COVARIATES = ["carrier", "score", "count"]
#: brglm2's coefficient names, in the order of our design (intercept first).
R_NAMES = ["(Intercept)", *COVARIATES]


@pytest.fixture(scope="module")
def data(reference_dir) -> pd.DataFrame:
    return pd.read_csv(reference_dir / "firth_input.tsv", sep="\t")


@pytest.fixture(scope="module")
def reference(reference_dir) -> dict[str, np.ndarray]:
    raw = json.loads((reference_dir / "firth_reference.json").read_text(encoding="utf-8"))
    return {key: np.array([raw[key][name] for name in R_NAMES]) for key in ("coef", "se")}


def test_reference_data_separate_quasi_completely(data):
    # what makes the reference a test of the penalty: ML has no finite carrier coefficient here
    assert len(data) == 120
    assert set(data["y"]) == {0, 1}
    assert not ((data["carrier"] == 1) & (data["y"] == 0)).any()
    assert ((data["carrier"] == 0) & (data["y"] == 1)).any()


def test_firth_logistic_matches_brglm2(data, reference):
    fit = firth_logistic(data["y"], data[COVARIATES], profile=[])
    assert fit.converged
    assert list(fit.coef.index) == ["Intercept", *COVARIATES]
    assert fit.coef.to_numpy() == pytest.approx(reference["coef"], rel=RTOL)
    assert fit.se.to_numpy() == pytest.approx(reference["se"], rel=RTOL)


def test_batched_firth_matches_brglm2_on_the_design(data, reference):
    _, X, names = design_matrix(data["y"], data[COVARIATES])
    assert names == ["Intercept", *COVARIATES]
    # the reference outcome among others sharing the design: batching must not change its fit
    rng = np.random.default_rng(2)
    others = np.column_stack([rng.permutation(data["y"].to_numpy()) for _ in range(4)])
    Y = np.column_stack([data["y"].to_numpy(dtype=float), others])
    fit = firth_logistic_batch(X, Y, k=names.index("carrier"))
    assert fit.converged.all()
    assert fit.coef[:, 0] == pytest.approx(reference["coef"], rel=RTOL)
    assert fit.se[:, 0] == pytest.approx(reference["se"], rel=RTOL)
    alone = firth_logistic_batch(X, Y[:, :1], k=names.index("carrier"))
    assert alone.coef[:, 0] == pytest.approx(reference["coef"], rel=RTOL)
    assert alone.se[:, 0] == pytest.approx(reference["se"], rel=RTOL)


def test_chapter_path_matches_brglm2(data, reference):
    # chapter 4: the outcome is a gene's LoF status, the group is the first covariate
    index = pd.Index([f"s{i}" for i in range(len(data))], name="sample_id")
    lof = pd.DataFrame({"GENE": data["y"].to_numpy(dtype=float)}, index=index)
    groups = pd.Series(np.where(data["carrier"] == 1, "carrier", "other"), index=index)
    covariates = data[["score", "count"]].set_axis(index).astype(float)
    row = compare_groups(lof, groups, covariates, case_group="carrier").iloc[0]
    assert row["tested"] and row["firth_n"] == len(data)
    assert row["firth_covariates"] == "score,count" and row["firth_dropped"] == ""
    assert np.log(row["firth_or"]) == pytest.approx(reference["coef"][1], rel=RTOL)
