"""Published tables as a reader sees them: words, merged intervals, journal p-values; raw CSVs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.validation.facts import NOT_COMPUTED, facts_by_cohort
from helpers.book import labels, session, tables
from helpers.data.cohort import Cohort


@pytest.fixture
def chapter_state():
    """Restore the module-level chapter state after each test."""
    saved = dict(session._state)
    yield session._state
    session._state.clear()
    session._state.update(saved)


@pytest.fixture
def shown(monkeypatch) -> list[str]:
    """The HTML that publish_table displays, in order."""
    out: list[str] = []
    monkeypatch.setattr(tables, "display", lambda obj: out.append(obj.data))
    return out


def _use(state: dict, *, access: str = "open", results_dir=None, simulated: bool = True) -> None:
    cohort = Cohort(tables={}, meta={"name": "t", "simulated": simulated, "access": access})
    state.update(cohort=cohort, results_dir=results_dir, chapter="99_test", min_cell_count=11, published={})


def _cell(table: pd.DataFrame, header: str, row: int = 0) -> str:
    return tables.readable_table(table, index=False)[header].iloc[row]


# ----------------------------------------------------------------------------- the CSV


def test_the_csv_keeps_raw_names_and_numbers(chapter_state, tmp_path, shown):
    _use(chapter_state, results_dir=tmp_path)
    table = pd.DataFrame(
        {
            "n_acquired": [1234, 56],
            "hr": [0.6012345, 1.25],
            "ci_low": [0.5401, 0.98],
            "ci_high": [0.6702, 1.61],
            "p": [0.00004, 0.2],
            "survival_6m": [0.61887, 0.4],
        },
        index=pd.Index(["IFNG_AYERS2017", "ongoing_benefit"], name="signature"),
    )
    tables.publish_table(table, "estimates")
    written = pd.read_csv(tmp_path / "estimates.csv", index_col=0)
    assert list(written.columns) == list(table.columns) and written.index.name == "signature"
    assert written.index.tolist() == ["IFNG_AYERS2017", "ongoing_benefit"]
    assert all(pd.api.types.is_numeric_dtype(written[c]) for c in written.columns)
    np.testing.assert_allclose(written.to_numpy(float), table.to_numpy(float), rtol=1e-12)
    assert chapter_state["published"]["estimates"] is not None
    pd.testing.assert_frame_equal(chapter_state["published"]["estimates"], table)
    page = shown[0]  # while the page shows words and merged cells
    assert "HR (95% CI)" in page and "0.60 (0.54–0.67)" in page and "IFN-γ (Ayers 2017)" in page
    assert "ci_low" not in page and "1,234" in page and "61.9" in page


def test_old_calls_still_work(chapter_state, tmp_path, shown):
    _use(chapter_state, results_dir=tmp_path)
    table = pd.DataFrame({"estimate": [0.123456], "weight": [2.0]})
    tables.publish_table(
        table, "old", "Caption", count_columns=[], show=True, index=False, float_format="{:.4g}"
    )
    assert "0.1235" in shown[0] and "Caption" in shown[0]
    tables.publish_table(table, "hidden", show=False)
    assert len(shown) == 1 and (tmp_path / "hidden.csv").is_file()


# ----------------------------------------------------------------------------- intervals


@pytest.mark.parametrize(
    ("columns", "header", "expected"),
    [
        ({"hr": 0.6012, "ci_low": 0.5398, "ci_high": 0.6711}, "HR (95% CI)", "0.60 (0.54–0.67)"),
        (
            {"effect": 2.1879, "effect_low": 0.8936, "effect_high": 5.3569},
            "OR or HR per SD (95% CI)",
            "2.19 (0.89–5.36)",
        ),
        (
            {"median_months": 8.799, "median_ci_low": 7.825, "median_ci_high": 9.846},
            "Median (months; 95% CI)",
            "8.8 (7.8–9.8)",
        ),
        (
            {"firth_or": 13.4129, "firth_ci_lower": 3.3707, "firth_ci_upper": 121.813},
            "Odds ratio (Firth; 95% CI)",
            "13.41 (3.37–121.81)",
        ),
        ({"estimate": 1.3366, "lower": 1.2088, "upper": 1.4644}, "Estimate (95% CI)", "1.34 (1.21–1.46)"),
        ({"ORR %": 48.656, "CI low %": 43.471, "CI high %": 53.863}, "ORR (%; 95% CI)", "48.7 (43.5–53.9)"),
        (
            {"shrunken_hr": 0.5945, "shrunken_ci_low": 0.4678, "shrunken_ci_high": 0.7555},
            "HR, shrunken (95% CI)",
            "0.59 (0.47–0.76)",
        ),
        ({"median": 0.2326, "q1": -0.5465, "q3": 0.9337}, "Median (IQR)", "0.233 (−0.546 to 0.934)"),
    ],
)
def test_an_estimate_and_its_interval_share_one_cell(columns, header, expected):
    table = pd.DataFrame({"label": ["x"], **{k: [v] for k, v in columns.items()}})
    shown = tables.readable_table(table, index=False)
    assert list(shown.columns) == ["Label", header]
    assert shown[header].iloc[0] == expected


def test_the_estimate_of_a_bare_interval_is_the_column_it_contains():
    # as in the pooled biomarker table: the interval is of log_effect, not of the p-value beside it
    table = pd.DataFrame(
        {
            "log_effect": [0.7829, -0.3479],
            "se": [0.4569, 0.1988],
            "p": [0.0866, 0.0801],
            "note": [None, None],
            "ci_low": [-0.1125, -0.7374],
            "ci_high": [1.6784, 0.0417],
        }
    )
    shown = tables.readable_table(table, index=False)
    assert list(shown.columns) == ["Log OR or log HR per SD (95% CI)", "SE", "p", "Note"]
    assert shown.iloc[:, 0].tolist() == ["0.783 (−0.113 to 1.678)", "−0.348 (−0.737 to 0.042)"]


def test_a_missing_interval_leaves_the_estimate_and_a_missing_estimate_a_dash():
    table = pd.DataFrame({"hr": [0.5, np.nan], "ci_low": [np.nan, np.nan], "ci_high": [np.nan, np.nan]})
    assert tables.readable_table(table, index=False)["HR (95% CI)"].tolist() == ["0.50", tables.MISSING]


def test_intervals_can_stay_apart():
    table = pd.DataFrame({"hr": [0.6], "ci_low": [0.5], "ci_high": [0.7]})
    shown = tables.readable_table(table, index=False, merge_intervals=False, interval_label="90% CI")
    assert list(shown.columns) == ["HR", "CI low", "CI high"]
    merged = tables.readable_table(table, index=False, interval_label="90% CI")
    assert list(merged.columns) == ["HR (90% CI)"]


# ----------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0, "<0.001"),
        (0.000999, "<0.001"),
        (0.001, "0.001"),
        (0.00949, "0.009"),
        (0.0099, "0.010"),
        (0.01, "0.01"),
        (0.0449, "0.04"),
        (0.5, "0.50"),
        (1.0, "1.00"),
        (np.nan, tables.MISSING),
    ],
)
def test_p_and_q_values_as_a_journal_prints_them(p, text):
    table = pd.DataFrame({"p": [p], "fdr_q": [p], "max_p": [p]})
    assert tables.readable_table(table, index=False).iloc[0].tolist() == [text, text, text]


def test_cochrans_q_beside_its_df_is_a_statistic_not_a_q_value():
    table = pd.DataFrame({"q": [9.9397], "df": [7], "p": [0.192]})
    shown = tables.readable_table(table, index=False)
    assert list(shown.columns) == ["Cochran's Q", "df", "p"] and shown.iloc[0].tolist() == [
        "9.94",
        "7",
        "0.19",
    ]


def test_each_kind_of_number_has_its_precision():
    table = pd.DataFrame(
        {
            "patients": [12345, 7],
            "hr": [0.5731, 1.0],
            "% of all": [66.3812, 100.0],
            "rmst_acquired": [6.6517, 12.0],
            "tau2": [0.014253, 0.1],
            "jt_statistic": [7656.0, 91.0],
            "share_present": [0.8, 1.0],
            "firth_n": [41.0, 860.0],
            "shift": [-1.234, 0.0],
            "sd": [np.inf, 2.0],
        }
    )
    shown = tables.readable_table(table, index=False)
    assert shown.iloc[0].tolist() == [
        "12,345",
        "0.57",
        "66.4",
        "6.7",
        "0.0143",
        "7,656",
        "80.0",
        "41",
        "−1.23",
        "∞",
    ]
    # one number of decimals per column, from its typical size
    assert shown.iloc[1].tolist() == [
        "7",
        "1.00",
        "100.0",
        "12.0",
        "0.1000",
        "91",
        "100.0",
        "860",
        "0.00",
        "2.00",
    ]
    assert "Genes present (%)" in shown.columns


def test_a_column_of_text_and_numbers_prints_each_row_as_its_label_says():
    # Table 1: one column per group, rows of counts, percentages, months and text
    table = pd.DataFrame(
        {"All": [5000, "65 (58-72)", 100.0, 2.2412, 0.3]},
        index=["Patients, n", "Age, median (IQR)", "Female, % of known", "Median PFS, months (KM)", "other"],
        dtype=object,
    )
    assert tables.readable_table(table)["All"].tolist() == ["5,000", "65 (58-72)", "100.0", "2.2", "0.300"]


def test_float_format_replaces_the_rule_for_other_numbers_only():
    table = pd.DataFrame({"tau2": [0.0142529], "hr": [0.6012], "p": [0.0312]})
    assert tables.readable_table(table, index=False, float_format="{:.4g}").iloc[0].tolist() == [
        "0.01425",
        "0.60",
        "0.03",
    ]


def test_suppressed_counts_and_other_text_pass_unchanged(chapter_state, tmp_path, shown):
    _use(chapter_state, access="restricted", results_dir=tmp_path, simulated=False)
    table = pd.DataFrame(
        {
            "cancer_type": ["NSCLC", "ccRCC"],
            "patients": [4, 2500],
            "note": ["<5 samples", None],
            "hr": [0.5, 0.7],
        }
    )
    tables.publish_table(table, "restricted", index=False)
    page = shown[0]
    assert "&lt;11" in page and "2,500" in page and "&lt;5 samples" in page and "ccRCC" in page
    assert pd.read_csv(tmp_path / "restricted.csv")["patients"].tolist() == ["<11", "2500"]
    view = tables.readable_table(chapter_state["published"]["restricted"], index=False)
    assert view["Patients"].tolist() == ["<11", "2,500"] and view["Note"].tolist() == ["<5 samples", ""]


def test_missing_numbers_show_a_dash_and_flags_read_yes_or_no():
    table = pd.DataFrame({"hr": [np.nan, 0.5], "found": [True, False], "status": [None, "enriched"]})
    assert tables.MISSING == "–"
    assert tables.readable_table(table, index=False).to_numpy().tolist() == [
        [tables.MISSING, "yes", ""],
        ["0.50", "no", "enriched"],
    ]


# ----------------------------------------------------------------------------- words


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("hr", "HR"),
        ("median_months", "Median (months)"),
        ("patients", "Patients"),
        ("q", "q"),
        ("fdr_q", "q"),
        ("p", "p"),
        ("firth_or", "Odds ratio (Firth)"),
        ("primary", "Primary resistance"),
        ("ongoing_benefit", "Ongoing benefit"),
        ("not_evaluable", "Not evaluable"),
        ("primary (FACTS)", "Primary resistance (FACTS)"),
        ("n_acquired", "n, acquired"),
        ("rmst_primary", "RMST, primary (months)"),
        ("IFNG_AYERS2017", "IFN-γ (Ayers 2017)"),
        ("TCELL_INFLAMED_GEP", "T-cell-inflamed GEP (Ayers 2017)"),
        ("Effector_cells", "Effector cells (Bagaev 2021)"),
        ("IFNG_AYERS2017_p", "IFN-γ (Ayers 2017): p"),
        ("05_tme_states", "5. TME states"),
        ("some_new_column", "Some new column"),
        ("cancer type", "Cancer type"),
        ("Gastro-oesophageal", "Gastro-oesophageal"),
        ("ccRCC", "ccRCC"),
        ("vs all pre-treatment", "vs all pre-treatment"),
        (None, ""),
        (7, "7"),
    ],
)
def test_names_in_words(name, words):
    assert labels.label(name) == words


def test_signature_names_come_from_the_gmt_metadata(tmp_path, monkeypatch):
    (tmp_path / "sets.gmt").write_text(
        "NEW_SET\tSmith et al. 2020 Nature 1:1 (12-gene interferon-gamma response)\tA\tB\n"
        "TWO_SOURCES\tSmith 2020; Jones 2021\tA\n"
        "ABBREV_SET\tLee et al. 2019 Cell 2:2 (ABC)\tA\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(labels, "SIGNATURE_DIR", tmp_path)
    labels.signature_names.cache_clear()
    labels._label.cache_clear()
    try:
        names = labels.signature_names()
        words = labels.label("NEW_SET")
    finally:
        monkeypatch.undo()
        labels.signature_names.cache_clear()
        labels._label.cache_clear()
    assert names["NEW_SET"] == words == "Interferon-γ response (Smith 2020)"
    assert names["TWO_SOURCES"] == "Two sources"  # a composite source: no single citation
    assert names["ABBREV_SET"] == "Abbrev set (ABC; Lee 2019)"
    assert "NEW_SET" not in labels.signature_names()  # the shipped sets again


def test_row_labels_and_label_columns_in_words(chapter_state, tmp_path, shown):
    _use(chapter_state, results_dir=tmp_path)
    table = pd.DataFrame(
        {
            "resistance_class": ["acquired", "primary"],
            "analysis": ["primary", "lagged"],  # not all classes: left as written
            "adjusted_for": ["acquired", "acquired"],  # a list of model terms: left as written
            "signature": ["IFNG_AYERS2017", "immune_axis"],
            "n": [3, 4],
        },
        index=pd.Index(["ongoing_benefit", "time_updated_ps"], name="class"),
    )
    view = tables.readable_table(table)
    assert view.index.tolist() == ["Ongoing benefit", "Time-updated performance status"]
    assert view.columns.name == "Class"  # the row labels' name sits in the header row
    assert view["Resistance class"].tolist() == ["Acquired resistance", "Primary resistance"]
    assert view["Analysis"].tolist() == ["primary", "lagged"]
    assert view["Adjusted for"].tolist() == ["acquired", "acquired"]
    assert view["Signature"].tolist() == ["IFN-γ (Ayers 2017)", "Immune axis"]
    tables.publish_table(table, "words")
    assert shown[0].count("<tr") == len(table) + 1  # one header row
    assert pd.read_csv(tmp_path / "words.csv")["resistance_class"].tolist() == ["acquired", "primary"]


def test_html_is_escaped_and_deterministic(chapter_state, shown):
    _use(chapter_state)
    table = pd.DataFrame({"< 20 Gy": [3], "note": ["<b>bold</b>"]}, index=pd.Index(["a<b"]))
    tables.publish_table(table, "escape me", caption="R&D <table>")
    tables.publish_table(table, "escape me", caption="R&D <table>")
    assert shown[0] == shown[1]
    assert "&lt; 20 Gy" in shown[0] and "&lt;b&gt;bold&lt;/b&gt;" in shown[0] and "A&lt;b" in shown[0]
    assert "R&amp;D &lt;table&gt;" in shown[0] and "<b>" not in shown[0]
    assert 'id="T_escape_me"' in shown[0]


# ----------------------------------------------------------------------------- folded tables


def test_a_folded_table_links_its_csv(chapter_state, tmp_path, shown):
    _use(chapter_state, results_dir=tmp_path)
    long = pd.DataFrame({"gene": [f"G{i}" for i in range(tables.MAX_UNFOLDED_ROWS + 1)], "q": 0.5})
    tables.publish_table(long, "long_genes", caption="Long table", index=False)
    summary = shown[0].split("<summary>")[1].split("</summary>")[0]
    assert summary.startswith("Long table: 26 rows")
    assert "<a href='../../results/99_test/long_genes.csv'>long_genes.csv</a>" in summary
    assert (tmp_path / "long_genes.csv").is_file()
    short = long.head(tables.MAX_UNFOLDED_ROWS)
    tables.publish_table(short, "short_genes", index=False)
    assert "<summary>" not in shown[1] and "<a href" not in shown[1]


def test_a_folded_table_without_a_csv_has_no_link(chapter_state, shown):
    _use(chapter_state, results_dir=None)
    long = pd.DataFrame({"gene": [f"G{i}" for i in range(tables.MAX_UNFOLDED_ROWS + 1)]})
    tables.publish_table(long, "nowhere", index=False)
    assert "<summary>" in shown[0] and "<a href" not in shown[0]


# ----------------------------------------------------------------------------- chapter 7


def test_facts_by_cohort_counts_agreeing_disagreeing_and_uncheckable_facts():
    agreement = pd.DataFrame(
        {
            "cohort": ["Riaz", "Riaz", "Riaz", "Gide", "Gide"],
            "fact": list("abcde"),
            "computed": ["3", "4", NOT_COMPUTED, "5", "6"],
            "agrees": ["pass", "fail", "fail", "pass", "pass"],
        }
    )
    out = facts_by_cohort(agreement)
    assert out.index.tolist() == ["Riaz", "Gide", "all cohorts"] and out.index.name == "cohort"
    assert list(out.columns) == ["facts checked", "agree", "disagree", "not checkable"]
    assert out.loc["Riaz"].tolist() == [3, 1, 1, 1]
    assert out.loc["Gide"].tolist() == [2, 2, 0, 0]
    assert out.loc["all cohorts"].tolist() == [5, 3, 1, 1]
    empty = facts_by_cohort(agreement.iloc[:0])
    assert empty.loc["all cohorts"].tolist() == [0, 0, 0, 0]
