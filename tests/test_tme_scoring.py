"""ssGSEA scoring (GSVA 1.46 conformance) and the shipped signature library."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from helpers.data.genesets import SIGNATURE_DIR, load_signatures, read_gmt
from helpers.errors import InputError, ParameterError, SourceFormatError
from helpers.stats.ssgsea import EmptyGeneSetWarning, ssgsea

RTOL_R = 1e-8  # agreement with the R fixtures


# ------------------------------------------------------------------ fixtures and helpers


@pytest.fixture(scope="module")
def gide_expression(public_dir: Path) -> pd.DataFrame:
    """Gide 2019 expression, duplicate gene rows dropped keeping the first (as the R reference)."""
    expression = pd.read_csv(
        public_dir / "gide2019_melanoma_pd1" / "expression.tsv.gz", sep="\t", index_col=0
    )
    return expression[~expression.index.duplicated(keep="first")]


@pytest.fixture(scope="module")
def reference_sets(reference_dir: Path) -> dict[str, list[str]]:
    """The gene sets of the R fixture (``ssgsea_sets.gmt``)."""
    return read_gmt(reference_dir / "ssgsea_sets.gmt")


def gsva_random_walk(
    expression: pd.DataFrame, gene_sets: dict[str, list[str]], tau: float = 0.25
) -> np.ndarray:
    """GSVA's ssGSEA written out literally, one sample and one set at a time.

    R: ``R <- as.integer(rank(x))``; ``geneRanking <- order(R, decreasing=TRUE)`` (ties
    keep input order); running sum of the weighted in-set CDF minus the out-of-set CDF.
    """
    values = expression.to_numpy(dtype=float)
    genes = list(expression.index)
    scores = np.empty((len(gene_sets), values.shape[1]))
    for j in range(values.shape[1]):
        ranks = np.trunc(rankdata(values[:, j], method="average")).astype(int)
        walk_order = np.argsort(-ranks, kind="stable")
        for s, set_genes in enumerate(gene_sets.values()):
            members = {genes.index(g) for g in set_genes if g in genes}
            inside = np.isin(walk_order, list(members))
            weights = np.abs(ranks[walk_order]).astype(float) ** tau * inside
            cdf_in = np.cumsum(weights) / weights.sum()
            cdf_out = np.cumsum(~inside) / (~inside).sum()
            scores[s, j] = np.sum(cdf_in - cdf_out)
    return scores


def random_sets(genes: list[str], rng: np.random.Generator, n_sets: int) -> dict[str, list[str]]:
    return {
        f"set{k}": list(rng.choice(genes, size=int(rng.integers(1, 40)), replace=False))
        for k in range(n_sets)
    }


# ------------------------------------------------------------------ conformance with R GSVA


def test_raw_scores_match_gsva(gide_expression, reference_sets, reference_dir):
    expected = pd.read_csv(reference_dir / "ssgsea_raw.tsv", sep="\t", index_col=0)
    scores = ssgsea(gide_expression, reference_sets, tau=0.25)
    assert list(scores.index) == list(expected.index)
    assert list(scores.columns) == list(expected.columns)
    np.testing.assert_allclose(scores.to_numpy(), expected.to_numpy(), rtol=RTOL_R, atol=0)


def test_normalised_scores_match_gsva(gide_expression, reference_sets, reference_dir):
    expected = pd.read_csv(reference_dir / "ssgsea_norm.tsv", sep="\t", index_col=0)
    scores = ssgsea(gide_expression, reference_sets, tau=0.25, normalize=True, chunk_size=7)
    assert list(scores.index) == list(expected.index)
    assert list(scores.columns) == list(expected.columns)
    np.testing.assert_allclose(scores.to_numpy(), expected.to_numpy(), rtol=RTOL_R, atol=0)


def test_reference_data_exercise_ties(gide_expression, reference_sets):
    """The R fixture is only a test of tie handling if set genes are tied in the data."""
    set_genes = {g for genes in reference_sets.values() for g in genes}
    present = gide_expression.index.isin(list(set_genes))
    tied = 0
    for sample in gide_expression.columns[:5]:
        column = gide_expression[sample]
        tied += int(column[present].isin(column[column.duplicated(keep=False)]).sum())
    assert tied > 10


def test_a_gmt_path_is_not_read_by_the_scorer(gide_expression, reference_dir):
    """stats/ knows no files: a path is a clear error that points to data.genesets.read_gmt."""
    with pytest.raises(TypeError, match=r"got the path .*ssgsea_sets\.gmt.*read_gmt"):
        ssgsea(gide_expression.iloc[:, :5], reference_dir / "ssgsea_sets.gmt")


# ------------------------------------------------------------------ ties, worked by hand


def tiny_expression(order: list[str]) -> pd.DataFrame:
    values = {"g1": 1.0, "g2": 2.0, "g3": 2.0, "g4": 3.0}
    return pd.DataFrame({"s": [values[g] for g in order]}, index=order)


def test_ties_hand_computed():
    # n = 4; average ranks 1, 2.5, 2.5, 4 -> as.integer -> 1, 2, 2, 4.
    # Walk (decreasing R, ties in input order): g4, g2, g3, g1; n(n+1)/2 = 10.
    sets = {
        "g3": ["g3"],  # 2 - (10 - 2) / 3
        "g2": ["g2"],  # 3 - (10 - 3) / 3
        "g2_g3": ["g2", "g3"],  # 2.5 - 2.5
        "g1_g4": ["g1", "g4"],  # (1 + 4 * 4**0.25) / (1 + 4**0.25) - 2.5 = 4.5 - 3*sqrt(2)
        "g1_g2": ["g1", "g2"],  # weight of g2 is 2**0.25 (truncated rank), not 2.5**0.25
    }
    scores = ssgsea(tiny_expression(["g1", "g2", "g3", "g4"]), sets)["s"]
    w2 = 2**0.25
    expected = {
        "g3": -2 / 3,
        "g2": 2 / 3,
        "g2_g3": 0.0,
        "g1_g4": 4.5 - 3 * math.sqrt(2),
        "g1_g2": (3 * w2 + 1) / (w2 + 1) - 3,
    }
    for name, value in expected.items():
        assert scores[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name
    # Untruncated average ranks would give a different weight: the truncation is visible.
    w25 = 2.5**0.25
    assert abs(scores["g1_g2"] - ((3 * w25 + 1) / (w25 + 1) - 3)) > 1e-3


def test_tied_genes_walk_in_input_order():
    swapped = ssgsea(tiny_expression(["g1", "g3", "g2", "g4"]), {"g2": ["g2"], "g3": ["g3"]})["s"]
    assert swapped["g2"] == pytest.approx(-2 / 3, rel=1e-12)
    assert swapped["g3"] == pytest.approx(2 / 3, rel=1e-12)


@pytest.mark.parametrize("kind", ["integers", "near_ties", "signed_zeros", "infinities", "continuous"])
def test_matches_literal_gsva_random_walk(kind):
    rng = np.random.default_rng(2024)
    n_genes, n_samples = 300, 11
    shape = (n_genes, n_samples)
    if kind == "integers":  # heavy exact ties
        values = rng.integers(0, 6, size=shape).astype(float)
    elif kind == "near_ties":  # values one ulp apart, plus exact ties
        values = 1.0 + rng.integers(0, 4, size=shape) * np.finfo(float).eps
    elif kind == "signed_zeros":  # -0.0 and +0.0 are equal for R's rank()
        zeros = rng.choice([0.0, -0.0], size=shape)
        values = np.where(rng.random(shape) < 0.3, zeros, rng.normal(size=shape))
    elif kind == "infinities":
        infinite = rng.choice([np.inf, -np.inf], size=shape)
        values = np.where(rng.random(shape) < 0.1, infinite, np.round(rng.normal(size=shape), 1))
    else:
        values = rng.normal(size=shape)
    genes = [f"G{i}" for i in range(n_genes)]
    expression = pd.DataFrame(values, index=genes, columns=[f"S{j}" for j in range(n_samples)])
    sets = random_sets(genes, rng, 8)
    expected = gsva_random_walk(expression, sets)
    for chunk_size in (1, 4, 64):
        scores = ssgsea(expression, sets, chunk_size=chunk_size)
        np.testing.assert_allclose(scores.to_numpy(), expected, rtol=1e-12, atol=1e-9)


# ------------------------------------------------------------------ independence of samples


def test_a_sample_score_depends_on_that_sample_alone():
    rng = np.random.default_rng(7)
    genes = [f"G{i}" for i in range(2000)]
    values = np.round(rng.normal(size=(2000, 37)), 2)  # rounded: many ties
    expression = pd.DataFrame(values, index=genes, columns=[f"S{j}" for j in range(37)])
    sets = random_sets(genes, rng, 12)
    whole = ssgsea(expression, sets, chunk_size=16)
    pieces = [
        ssgsea(expression.iloc[:, columns], sets, chunk_size=chunk)
        for columns, chunk in ((slice(0, 1), 16), (slice(1, 20), 3), (slice(20, 37), 100))
    ]
    np.testing.assert_array_equal(pd.concat(pieces, axis=1).to_numpy(), whole.to_numpy())
    shuffled = expression.iloc[:, rng.permutation(37)]
    np.testing.assert_array_equal(
        ssgsea(shuffled, sets, chunk_size=5)[whole.columns].to_numpy(), whole.to_numpy()
    )


def test_normalised_is_raw_divided_by_range(gide_expression, reference_sets):
    raw = ssgsea(gide_expression, reference_sets)
    normalised = ssgsea(gide_expression, reference_sets, normalize=True)
    spread = raw.to_numpy().max() - raw.to_numpy().min()
    np.testing.assert_allclose(normalised.to_numpy(), raw.to_numpy() / spread, rtol=1e-15)


# ------------------------------------------------------------------ set and gene handling


def test_missing_genes_are_ignored(gide_expression):
    sample = gide_expression.iloc[:, :6]
    present = ["CD8A", "GZMA", "PRF1", "NKG7"]
    scores = ssgsea(sample, {"with_missing": present + ["NOT_A_GENE", "ALSO_NOT_A_GENE"], "present": present})
    np.testing.assert_array_equal(scores.loc["with_missing"].to_numpy(), scores.loc["present"].to_numpy())


def test_set_with_no_gene_present_is_dropped_with_warning(gide_expression):
    sample = gide_expression.iloc[:, :4]
    sets = {"cyt": ["GZMA", "PRF1"], "absent": ["NOT_A_GENE_1", "NOT_A_GENE_2"]}
    with pytest.warns(EmptyGeneSetWarning, match=r"absent \(0 of 2 genes present\)"):
        scores = ssgsea(sample, sets)
    assert list(scores.index) == ["cyt"]
    np.testing.assert_array_equal(
        scores.loc["cyt"].to_numpy(), ssgsea(sample, {"cyt": ["GZMA", "PRF1"]}).loc["cyt"].to_numpy()
    )
    with pytest.warns(EmptyGeneSetWarning), pytest.raises(InputError, match="no gene set left"):
        ssgsea(sample, {"absent": ["NOT_A_GENE_1"]})


def test_size_bounds_drop_sets(gide_expression):
    sample = gide_expression.iloc[:, :3]
    sets = {"two": ["GZMA", "PRF1"], "four": ["CD8A", "GZMA", "PRF1", "NKG7"]}
    with pytest.warns(EmptyGeneSetWarning, match="two"):
        assert list(ssgsea(sample, sets, min_size=3).index) == ["four"]
    with pytest.warns(EmptyGeneSetWarning, match="four"):
        assert list(ssgsea(sample, sets, max_size=3).index) == ["two"]


def test_repeated_gene_in_a_set_counts_once(gide_expression):
    sample = gide_expression.iloc[:, :5]
    scores = ssgsea(sample, {"once": ["GZMA", "PRF1"], "twice": ["GZMA", "PRF1", "GZMA"]})
    np.testing.assert_array_equal(scores.loc["once"].to_numpy(), scores.loc["twice"].to_numpy())


def test_duplicate_gene_rows():
    expression = pd.DataFrame(
        {"a": [1.0, 5.0, 2.0, 3.0], "b": [4.0, 0.0, 1.0, 2.0]}, index=["X", "Y", "X", "Z"]
    )
    with pytest.raises(InputError, match="column 'gene': a gene label must not repeat") as caught:
        ssgsea(expression, {"s": ["X", "Y"]})
    (violation,) = caught.value.violations
    # the second X is row 3 of the table (rows counted from 1)
    assert violation.n_rows == 1 and list(violation.examples.index) == [3]
    assert violation.examples["gene"].tolist() == ["X"]
    kept_first = ssgsea(expression, {"s": ["X", "Y"]}, duplicate_genes="first")
    deduplicated = ssgsea(expression.iloc[[0, 1, 3]], {"s": ["X", "Y"]})
    pd.testing.assert_frame_equal(kept_first, deduplicated)


def test_nan_is_an_error_naming_gene_and_sample():
    expression = pd.DataFrame(
        {"s1": [1.0, 2.0, 3.0], "s2": [1.0, np.nan, 0.5], "s3": [np.nan, np.nan, 1.0]}, index=["A", "B", "C"]
    )
    with pytest.raises(InputError, match=r"3 NaN value\(s\) in 2 sample\(s\)") as caught:
        ssgsea(expression, {"s": ["A", "B"]})
    first, second = caught.value.violations
    assert (first.table, first.column, first.n_rows) == ("expression", "s2", 1)
    assert list(first.examples.index) == ["B"]  # the gene
    assert (second.column, second.n_rows, list(second.examples.index)) == ("s3", 2, ["A", "B"])
    assert "table 'expression', column 's2': must not be NaN" in str(caught.value)


@pytest.mark.parametrize(
    ("expression", "sets", "kwargs", "error", "message"),
    [
        (np.ones((3, 2)), {"s": ["A"]}, {}, TypeError, "must be a pandas DataFrame"),
        (pd.DataFrame({"s": ["x", "y"]}, index=["A", "B"]), {"s": ["A"]}, {}, TypeError, "non-numeric"),
        (pd.DataFrame({"s": [1.0]}, index=["A"]), {"s": ["A"]}, {}, InputError, "at least two genes"),
        (pd.DataFrame(index=["A", "B"]), {"s": ["A"]}, {}, InputError, "no sample column"),
        (
            pd.DataFrame({"s": [1.0, 2.0]}, index=["A", None]),
            {"s": ["A"]},
            {},
            InputError,
            "needs a gene label",
        ),
        (pd.DataFrame({"s": [1.0, 2.0]}, index=["A", "B"]), {"s": ["A", "B"]}, {}, InputError, "every gene"),
        (pd.DataFrame({"s": [1.0, 2.0]}, index=["A", "B"]), {"s": "A"}, {}, TypeError, "not the string"),
        (pd.DataFrame({"s": [1.0, 2.0]}, index=["A", "B"]), {}, {}, InputError, "gene_sets is empty"),
        (pd.DataFrame({"s": [1.0, 2.0]}, index=["A", "B"]), ["A"], {}, TypeError, "must be a mapping"),
        (pd.DataFrame({"s": [1.0, 2.0]}, index=["A", "B"]), {"s": ["A"]}, {"tau": -1}, ParameterError, "tau"),
        (
            pd.DataFrame({"s": [1.0, 2.0]}, index=["A", "B"]),
            {"s": ["A"]},
            {"chunk_size": 0},
            ParameterError,
            "chunk_size",
        ),
        (
            pd.DataFrame({"s": [1.0, 2.0]}, index=["A", "B"]),
            {"s": ["A"]},
            {"min_size": 0},
            ParameterError,
            "min_size",
        ),
        (
            pd.DataFrame({"s": [1.0, 2.0]}, index=["A", "B"]),
            {"s": ["A"]},
            {"duplicate_genes": "x"},
            ParameterError,
            "duplicate_genes",
        ),
    ],
)
def test_bad_input_is_a_clear_error(expression, sets, kwargs, error, message):
    with pytest.raises(error, match=message):
        ssgsea(expression, sets, **kwargs)


# ------------------------------------------------------------------ GMT reading


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sets.gmt"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_gmt_keeps_order_and_tolerates_blank_comment_and_trailing_tabs(tmp_path):
    path = write(tmp_path, "# comment\nB\tdesc\tG2\tG1\t\n\nA\t\tG3\r\n")
    assert list(read_gmt(path).items()) == [("B", ["G2", "G1"]), ("A", ["G3"])]


@pytest.mark.parametrize(
    ("text", "column", "line", "shown"),
    [
        ("A\tdesc\tG1\nB\tdesc\n", "fields", 2, 2),  # two fields: no gene
        ("A\tdesc\tG1\t\tG2\n", "empty_gene_columns", 1, "4"),  # column 4 of the line
        ("\tdesc\tG1\n", "name", 1, ""),
        ("A\td\tG1\nB\td\tG2\nA\td\tG3\n", "first_defined_on", 3, 1),  # A again, first on line 1
        ("A\tdesc\tG1\tG2\tG1\n", "repeated_genes", 1, "G1"),
    ],
)
def test_read_gmt_errors_name_file_line_and_rule(tmp_path, text, column, line, shown):
    path = write(tmp_path, text)
    with pytest.raises(SourceFormatError, match=f"{re.escape(str(path))} is not a valid GMT file") as caught:
        read_gmt(path)
    (violation,) = caught.value.violations
    assert (violation.table, violation.column, violation.n_rows) == (str(path), column, 1)
    assert list(violation.examples.index) == [line]
    assert violation.examples.at[line, column] == shown


def test_read_gmt_lists_every_broken_rule_of_the_file(tmp_path):
    path = write(tmp_path, "A\tdesc\tG1\nB\tdesc\n\tdesc\tG1\nA\td\tG3\nC\td\tG1\t\tG2\tG1\n")
    with pytest.raises(SourceFormatError) as caught:
        read_gmt(path)
    broken = {v.column: list(v.examples.index) for v in caught.value.violations}
    assert broken == {
        "fields": [2],
        "name": [3],
        "empty_gene_columns": [5],
        "repeated_genes": [5],
        "first_defined_on": [4],
    }


def test_read_gmt_without_a_set(tmp_path):
    with pytest.raises(SourceFormatError, match="no gene set found"):
        read_gmt(write(tmp_path, "\n# nothing\n"))


def test_read_gmt_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="GMT file not found"):
        read_gmt(tmp_path / "absent.gmt")


# ------------------------------------------------------------------ the shipped library

ICB_SETS = [
    "IFNG_AYERS2017",
    "TCELL_INFLAMED_GEP",
    "CYTOLYTIC_ACTIVITY",
    "ANTIGEN_PRESENTATION_MHCI",
    "TCELL_DYSFUNCTION",
    "CAF_MATRIX",
    "PROLIFERATION",
    "EMT_INVASIVENESS",
    "TGFB_SIGNALLING",
    "WNT_SIGNALLING",
    "GLYCOLYSIS",
    "OXPHOS",
]
BAGAEV_SETS = [
    "MHCI",
    "MHCII",
    "Coactivation_molecules",
    "Effector_cells",
    "T_cell_traffic",
    "NK_cells",
    "T_cells",
    "B_cells",
    "M1_signatures",
    "Th1_signature",
    "Antitumor_cytokines",
    "Checkpoint_inhibition",
    "Treg",
    "T_reg_traffic",
    "Neutrophil_signature",
    "Granulocyte_traffic",
    "MDSC",
    "MDSC_traffic",
    "Macrophages",
    "Macrophage_DC_traffic",
    "Th2_signature",
    "Protumor_cytokines",
    "CAF",
    "Matrix",
    "Matrix_remodeling",
    "Angiogenesis",
    "Endothelium",
    "Proliferation_rate",
    "EMT_signature",
]
HGNC_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")


@pytest.mark.parametrize(
    ("file_name", "names"),
    [("icb_signatures.gmt", ICB_SETS), ("bagaev2021_tme.gmt", BAGAEV_SETS)],
)
def test_shipped_gmt_files_parse(file_name, names):
    path = SIGNATURE_DIR / file_name
    sets = read_gmt(path)  # also rejects empty fields and repeated genes
    assert list(sets) == names
    for line in path.read_text(encoding="utf-8").splitlines():
        assert line.split("\t")[1].strip(), f"{file_name}: {line.split(chr(9))[0]} has no citation"
    for name, genes in sets.items():
        assert len(genes) >= 2, name
        assert len(genes) <= 60, name
        bad = [g for g in genes if not HGNC_SYMBOL.match(g)]
        assert not bad, f"{name}: not uppercase HGNC-style symbols: {bad}"


def test_published_signature_sizes():
    sets = load_signatures()
    sizes = {name: len(genes) for name, genes in sets.items()}
    # Ayers 2017: 6-gene IFN-γ and 18-gene GEP; Rooney 2015: 2 genes; Mariathasan 2018
    # F-TBRS: 19 genes; Hallmark WNT/β-catenin: 42 genes; Bagaev 2021: 29 signatures.
    assert sizes["IFNG_AYERS2017"] == 6
    assert sizes["TCELL_INFLAMED_GEP"] == 18
    assert sets["CYTOLYTIC_ACTIVITY"] == ["GZMA", "PRF1"]
    assert sizes["TGFB_SIGNALLING"] == 19
    assert sizes["WNT_SIGNALLING"] == 42
    assert len(read_gmt(SIGNATURE_DIR / "bagaev2021_tme.gmt")) == 29
    assert sets["MHCI"] == ["HLA-A", "HLA-B", "HLA-C", "B2M", "TAP1", "TAP2", "NLRC5", "TAPBP"]


def test_shipped_sets_agree_with_the_r_fixture(reference_sets):
    """The R fixture's sets are independent copies of the same published lists."""
    fixture = reference_sets
    shipped = load_signatures()
    for ours, theirs in [
        ("IFNG_AYERS2017", "IFNG_6"),
        ("TCELL_INFLAMED_GEP", "TIS_18"),
        ("CYTOLYTIC_ACTIVITY", "CYT"),
        ("ANTIGEN_PRESENTATION_MHCI", "MHC_I"),
        ("CAF_MATRIX", "CAF"),
        ("PROLIFERATION", "PROLIFERATION"),
    ]:
        assert set(shipped[ours]) == set(fixture[theirs]), ours
    assert set(fixture["EXHAUSTION"]) <= set(shipped["TCELL_DYSFUNCTION"])


def test_load_signatures_selection():
    chosen = load_signatures(["CAF", "IFNG_AYERS2017"])
    assert list(chosen) == ["CAF", "IFNG_AYERS2017"]
    assert chosen["IFNG_AYERS2017"] == ["IFNG", "STAT1", "CXCL9", "CXCL10", "IDO1", "HLA-DRA"]
    with pytest.raises(KeyError, match="NOT_A_SIGNATURE"):
        load_signatures(["NOT_A_SIGNATURE"])
    with pytest.raises(TypeError, match="not the string"):
        load_signatures("CAF")


def test_shipped_signatures_score_on_real_data(gide_expression):
    scores = ssgsea(gide_expression, load_signatures())
    assert scores.shape == (41, 41)
    assert np.isfinite(scores.to_numpy()).all()
    # Immune signatures go together across patients (same inflamed tumours).
    correlation = np.corrcoef(scores.loc["IFNG_AYERS2017"], scores.loc["CYTOLYTIC_ACTIVITY"])[0, 1]
    assert correlation > 0.8
