"""Tests for helpers.stats.meta, helpers.analysis.radiotherapy.dose and the curated literature table.

- meta_proportions (helpers.stats.meta): conformance with R metafor 3.8-1
  (../shared/reference/meta_*), hand-computed escalc values for zero/full counts, DL limits,
  metafor's transf.ipft edge handling;
- bed / eqd2: textbook values;
- classify_modality: boundaries;
- E-values (helpers.stats.sensitivity): the worked examples of VanderWeele & Ding (2017) and of
  the EValue R package, the common-outcome conversion of a hazard ratio, intervals covering 1;
- time-updated covariates (helpers.stats.time_updated): splitting and carrying values forward by
  hand, and agreement with helpers.stats.survival.to_counting_process for one exposure;
- data/radiotherapy/rt_salvage_literature.csv: schema, vocabularies, internal arithmetic, the
  trials the review reports, and every arithmetic claim its notes make, checked against the
  table's own columns.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.radiotherapy import MODALITY_CLASSES, bed, classify_modality, eqd2
from helpers.errors import InputError
from helpers.stats import survival
from helpers.stats.meta import freeman_tukey, inverse_freeman_tukey, meta_proportions
from helpers.stats.sensitivity import evalue_hr, evalue_rr, hr_to_rr, shift_towards_null
from helpers.stats.time_updated import time_updated_intervals

REPO = Path(__file__).resolve().parents[1]
LITERATURE = REPO / "data" / "radiotherapy" / "rt_salvage_literature.csv"
REL = 1e-6


# ------------------------------------------------------------------ metafor conformance


@pytest.fixture(scope="module")
def meta_reference(reference_dir):
    counts = pd.read_csv(reference_dir / "meta_input.tsv", sep="\t")
    with open(reference_dir / "meta_reference.json") as fh:
        expected = json.load(fh)
    return counts, expected


@pytest.mark.parametrize("transform, prefix", [("logit", "logit"), ("freeman-tukey", "ft")])
def test_meta_proportions_matches_metafor(meta_reference, transform, prefix):
    counts, expected = meta_reference
    result = meta_proportions(counts["events"], counts["n"], transform=transform)
    assert result.pooled == pytest.approx(expected[f"{prefix}_pooled"], rel=REL)
    assert result.ci_low == pytest.approx(expected[f"{prefix}_ci95"][0], rel=REL)
    assert result.ci_high == pytest.approx(expected[f"{prefix}_ci95"][1], rel=REL)
    assert result.tau2 == pytest.approx(expected[f"{prefix}_tau2"], rel=REL)
    assert result.i2 == pytest.approx(expected[f"{prefix}_I2_percent"], rel=REL)
    assert result.q == pytest.approx(expected[f"{prefix}_Q"], rel=REL)
    assert result.k == 5 and result.df == 4
    assert result.labels == tuple(range(5))


def test_meta_proportions_per_study_quantities(meta_reference):
    counts, _ = meta_reference
    x, n = counts["events"].to_numpy(), counts["n"].to_numpy()
    logit = meta_proportions(x, n, "logit")
    np.testing.assert_allclose(logit.yi, np.log(x / (n - x)), rtol=1e-12)
    np.testing.assert_allclose(logit.vi, 1 / x + 1 / (n - x), rtol=1e-12)
    assert logit.weights.sum() == pytest.approx(100.0)
    # the forest-plot point estimate of a study without zero cells is its raw proportion
    np.testing.assert_allclose(logit.study_estimate, x / n, rtol=1e-12)
    assert np.all(logit.study_ci_low < x / n) and np.all(x / n < logit.study_ci_high)

    ft = meta_proportions(x, n, "freeman-tukey")
    np.testing.assert_allclose(ft.vi, 1 / (4 * n + 2), rtol=1e-12)
    assert ft.harmonic_mean_n == pytest.approx(len(n) / np.sum(1 / n))
    # Q is chi-square with k-1 df under homogeneity: p from the upper tail
    assert ft.p_q == pytest.approx(math.exp(-ft.q / 2) * (1 + ft.q / 2), rel=1e-9)  # df = 4
    # study D (6/7): its upper bound is beyond the attainable FT value, so it is clipped to 1
    assert ft.study_ci_high[3] == 1.0
    table = ft.study_table()
    assert list(table["events"]) == list(x) and len(table) == 5


def test_logit_adds_half_only_to_zero_or_full_studies():
    result = meta_proportions([0, 10, 3], [10, 10, 20], transform="logit")
    # metafor escalc(PLO, add=1/2, to="only0"): 0/10 -> 0.5/10.5, 10/10 -> 10.5/0.5, 3/20 untouched
    expected_yi = [math.log(0.5 / 10.5), math.log(10.5 / 0.5), math.log(3 / 17)]
    np.testing.assert_allclose(result.yi, expected_yi)
    np.testing.assert_allclose(result.vi, [1 / 0.5 + 1 / 10.5, 1 / 10.5 + 1 / 0.5, 1 / 3 + 1 / 17])
    np.testing.assert_array_equal(result.events, [0, 10, 3])  # counts reported as given


def test_freeman_tukey_has_no_correction_for_zero_counts():
    result = meta_proportions([0, 5], [10, 10], transform="PFT")
    assert result.yi[0] == pytest.approx(0.5 * math.asin(math.sqrt(1 / 11)))
    assert result.vi[0] == pytest.approx(1 / 42)
    assert result.study_estimate[0] == 0.0  # back-transform of a 0/n study is exactly 0


def test_homogeneous_studies_give_zero_heterogeneity():
    result = meta_proportions(pd.Series([10, 20], index=["a", "b"]), [50, 100])
    assert result.q == pytest.approx(0.0, abs=1e-12)
    assert result.tau2 == 0.0 and result.i2 == 0.0 and result.p_q == pytest.approx(1.0)
    assert result.pooled == pytest.approx(0.2)
    # fixed-effect SE of the common logit: 1 / sqrt(sum of 1/vi), vi = 1/x + 1/(n-x)
    assert result.se == pytest.approx(1 / math.sqrt(1 / (1 / 10 + 1 / 40) + 1 / (1 / 20 + 1 / 80)))
    assert result.labels == ("a", "b")


def test_single_study_and_level():
    one = meta_proportions([6], [7], "logit", level=0.9)
    assert one.k == 1 and one.df == 0 and one.tau2 == 0.0
    assert math.isnan(one.i2) and math.isnan(one.p_q)
    z = 1.6448536269514722
    se = math.sqrt(1 / 6 + 1 / 1)
    assert one.ci_low == pytest.approx(1 / (1 + math.exp(-(math.log(6) - z * se))))
    wider = meta_proportions([6], [7], "logit", level=0.99)
    assert wider.ci_low < one.ci_low and wider.ci_high > one.ci_high


@pytest.mark.parametrize(
    "events, totals, kwargs, message",
    [
        ([1, 2], [10], {}, "same length"),
        ([], [], {}, "at least one study"),
        ([11], [10], {}, "exceed"),
        ([-1], [10], {}, "non-negative whole"),
        ([1.5], [10], {}, "whole number"),
        ([0], [0], {}, "at least one patient"),
        ([np.nan], [10], {}, "finite"),
        ([1], [10], {"transform": "arcsine"}, "transform"),
        ([1], [10], {"level": 95}, "level"),
    ],
)
def test_meta_proportions_rejects_bad_input(events, totals, kwargs, message):
    with pytest.raises(InputError, match=message):
        meta_proportions(events, totals, **kwargs)


def test_inverse_freeman_tukey_edges():
    n = 10
    lower, upper = freeman_tukey(0.0, n), freeman_tukey(1.0, n)
    assert lower == pytest.approx(0.5 * math.asin(math.sqrt(1 / 11)))
    assert upper == pytest.approx(0.5 * (math.asin(math.sqrt(10 / 11)) + math.pi / 2))
    values = inverse_freeman_tukey(np.array([-0.2, 0.0, lower - 1e-9, upper + 1e-9, 2.0]), n)
    np.testing.assert_array_equal(values, [0.0, 0.0, 0.0, 1.0, 1.0])
    p = np.array([0.05, 0.3, 0.5, 0.77])
    np.testing.assert_allclose(inverse_freeman_tukey(freeman_tukey(p, 25), 25), p, rtol=1e-9)


# ------------------------------------------------------------------ BED / EQD2


def test_bed_eqd2_textbook_values():
    assert bed(50, 4) == pytest.approx(112.5)  # 12.5 Gy x 4, a/b 10
    assert eqd2(50, 4) == pytest.approx(93.75)
    assert eqd2(60, 30) == pytest.approx(60.0)  # 2-Gy fractions are their own EQD2
    assert eqd2(60, 30, alpha_beta=3) == pytest.approx(60.0)
    # hand-computed: 24 Gy in 3 (8 Gy): BED10 = 24 * 1.8 = 43.2, EQD2 = 43.2 / 1.2 = 36
    assert bed(24, 3) == pytest.approx(43.2)
    assert eqd2(24, 3) == pytest.approx(36.0)
    # a/b 3: 50 Gy in 4 -> BED3 = 50 * (1 + 12.5/3) = 258.33.., EQD2 = 258.33 / (5/3) = 155
    assert bed(50, 4, alpha_beta=3) == pytest.approx(50 * (1 + 12.5 / 3))
    assert eqd2(50, 4, alpha_beta=3) == pytest.approx(155.0)
    # 8 Gy single fraction, a/b 3: BED = 8 * (1 + 8/3) = 29.33, EQD2 = 17.6
    assert eqd2(8, 1, alpha_beta=3) == pytest.approx(17.6)
    # 45 Gy in 15 (3 Gy), a/b 10: BED 58.5, EQD2 48.75
    assert bed(45, 15) == pytest.approx(58.5)
    assert eqd2(45, 15) == pytest.approx(48.75)


def test_bed_eqd2_keep_input_kind():
    assert isinstance(bed(50, 4), float) and isinstance(eqd2(50.0, 4), float)
    arr = eqd2(np.array([50.0, 60.0]), np.array([4, 30]))
    assert isinstance(arr, np.ndarray)
    np.testing.assert_allclose(arr, [93.75, 60.0])
    index = pd.Index(["c1", "c2"])
    series = eqd2(pd.Series([50.0, 45.0], index=index), pd.Series([4, 15], index=index), 10.0)
    assert isinstance(series, pd.Series) and series.index.equals(index)
    np.testing.assert_allclose(series.to_numpy(), [93.75, 48.75])
    mixed = bed(pd.Series([50.0, 60.0]), 4, alpha_beta=np.array([10.0, 3.0]))
    np.testing.assert_allclose(mixed.to_numpy(), [112.5, 60 * (1 + 15 / 3)])
    assert math.isnan(bed(float("nan"), 3))  # missing stays missing


@pytest.mark.parametrize(
    "args, message",
    [
        ((0, 4), "total_dose_gy"),
        ((-5, 4), "total_dose_gy"),
        ((float("inf"), 4), "total_dose_gy"),
        ((50, 0), "fractions"),
        ((50, 2.5), "whole number"),
        ((50, 4, 0), "alpha_beta"),
        ((50, 4, -3), "alpha_beta"),
        ((50, 4, float("nan")), "alpha_beta"),
        (("fifty", 4), "expected numbers"),
        ((np.array([50, 60]), np.array([4, 5, 6])), "incompatible shapes"),
    ],
)
def test_bed_rejects_bad_input(args, message):
    with pytest.raises(InputError, match=message):
        bed(*args)
    with pytest.raises(InputError):
        eqd2(*args)


def test_dose_errors_list_every_broken_rule_with_example_rows():
    totals = pd.Series([50.0, -5.0, 30.0], index=["c1", "c2", "c3"])
    fractions = pd.Series([4.0, 5.0, 2.5], index=["c1", "c2", "c3"])
    with pytest.raises(InputError) as caught:
        bed(totals, fractions)
    message = str(caught.value)
    assert message.startswith("bed (2 problems):")
    assert "table 'RT courses', column 'total_dose_gy': must be a positive, finite number [1 row" in message
    assert "column 'fractions': a number of fractions must be a whole number [1 row" in message
    # the example rows are labelled by the Series index (the course), with the offending value
    assert re.search(r"c2\s+-5\.0", message) and re.search(r"c3\s+2\.5", message)
    assert [v.column for v in caught.value.violations] == ["total_dose_gy", "fractions"]


def test_series_with_different_indexes_are_refused():
    with pytest.raises(InputError, match="same index"):
        bed(pd.Series([50.0], index=[1]), pd.Series([4], index=[2]))


# ------------------------------------------------------------------ modality classes


@pytest.mark.parametrize(
    "total, fractions, expected",
    [
        (10, 5, "low_dose"),  # 2 Gy x 5: both low-dose limits, inclusive
        (2, 4, "low_dose"),  # 0.5 Gy x 4
        (5.6, 4, "low_dose"),  # 1.4 Gy x 4 (the review's liver case)
        (12, 6, "conventional"),  # 2 Gy x 6: above the 10 Gy low-dose ceiling
        (45, 30, "conventional"),  # 1.5 Gy x 30: hyperfractionated, grouped with conventional
        (60, 30, "conventional"),
        (45, 25, "conventional"),  # 1.8 Gy
        (66, 30, "conventional"),  # 2.2 Gy exactly (66/30 is 2.2000000000000002 in floats)
        (46, 20, "hypofractionated"),  # 2.3 Gy
        (45, 15, "hypofractionated"),  # 3 Gy
        (3, 1, "hypofractionated"),  # single 3 Gy: per-fraction dose above the low-dose limit
        (24.5, 5, "hypofractionated"),  # 4.9 Gy x 5
        (25, 5, "SBRT"),  # 5 Gy x 5: SBRT floor, inclusive
        (40, 8, "SBRT"),  # 5 Gy x 8: fraction limit, inclusive
        (45, 9, "hypofractionated"),  # 5 Gy x 9: too many fractions for SBRT
        (50, 4, "SBRT"),
        (20, 1, "SBRT"),
        (8, 1, "SBRT"),
    ],
)
def test_classify_modality_defaults(total, fractions, expected):
    assert classify_modality(total, fractions) == expected
    assert expected in MODALITY_CLASSES


def test_classify_modality_vectorised_and_parameters():
    totals = pd.Series([10.0, 45.0, 25.0, np.nan], index=list("abcd"))
    fractions = pd.Series([5, 15, 5, 3], index=list("abcd"))
    out = classify_modality(totals, fractions)
    assert isinstance(out, pd.Series) and list(out.index) == list("abcd")
    assert list(out[:3]) == ["low_dose", "hypofractionated", "SBRT"] and out["d"] is None
    arr = classify_modality(np.array([50.0, 60.0]), np.array([4, 30]))
    assert isinstance(arr, np.ndarray) and list(arr) == ["SBRT", "conventional"]
    # thresholds are parameters: a 6-Gy SBRT floor and a 5-fraction limit
    assert classify_modality(25, 5, sbrt_min_per_fraction=6.0) == "hypofractionated"
    assert classify_modality(42, 6, sbrt_max_fractions=5) == "hypofractionated"
    assert classify_modality(12, 6, low_dose_max_total=12.0) == "low_dose"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"low_dose_max_total": 0}, "low_dose_max_total"),
        ({"sbrt_max_fractions": 2.5}, "whole number"),
        ({"conventional_max_per_fraction": 6.0}, "must satisfy"),
        ({"low_dose_max_per_fraction": 3.0}, "must satisfy"),
    ],
)
def test_classify_modality_rejects_bad_thresholds(kwargs, message):
    with pytest.raises(InputError, match=message):
        classify_modality(50, 4, **kwargs)


def test_classify_modality_rejects_bad_doses():
    with pytest.raises(InputError, match="fractions"):
        classify_modality(50, 0)


# ------------------------------------------------------------------ literature table

VOCAB = {
    "record_type": {"table2", "text", "ongoing"},
    "setting": {"salvage_after_icb_failure", "rt_with_icb_naive"},
    "setting_basis": {"text", "design", "cited_title", "table2_caption", "uncertain"},
    "arm_role": {"rt", "icb_alone"},
    "rt_modality": {"SBRT", "hypofractionated", "conventional", "low_dose", "mixed", "none", ""},
    "rt_modality_basis": {"label", "dose_rule", ""},
    "response_unit": {"patient", "lesion", "unclear", ""},
    "response_scope": {"overall", "in_field", "out_of_field", ""},
}
REQUIRED = [
    "study_id",
    "source",
    "design",
    "setting",
    "response_unit",
    "ici",
    "n",
    "tumour",
    "rt_modality",
    "dose_fractions",
    "total_dose_gy",
    "fractions",
    "orr_events",
    "orr_n",
    "orr_pct_reported",
    "pfs",
    "os",
    "note",
]


@pytest.fixture(scope="module")
def literature() -> pd.DataFrame:
    table = pd.read_csv(LITERATURE, dtype=str, keep_default_na=False)
    return table.set_index("study_id", drop=False)


def _num(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column.replace("", np.nan))


def test_literature_schema_and_vocabularies(literature):
    assert set(REQUIRED) <= set(literature.columns)
    assert literature["study_id"].is_unique
    assert literature["study_id"].str.fullmatch(r"[a-z0-9_]+").all()
    for column, allowed in VOCAB.items():
        bad = set(literature[column]) - allowed
        assert not bad, f"{column}: values outside the vocabulary: {bad}"
    for column in [
        "n",
        "total_dose_gy",
        "fractions",
        "dose_per_fraction_gy",
        "orr_events",
        "orr_n",
        "orr_pct_reported",
        "dcr_pct_reported",
        "table2_row",
        "ref_no",
    ]:
        _num(literature[column])  # raises if any non-numeric text
    for column in ["n", "fractions", "orr_events", "orr_n", "table2_row", "ref_no"]:
        values = _num(literature[column]).dropna()
        assert (values == values.round()).all() and (values >= 0).all(), column
    assert (literature["note"].str.len() > 20).all(), "every row needs a note"
    assert literature["source"].str.len().gt(0).all()
    assert (literature["location"].str.startswith(("Table 2, row", "Text,"))).all()


def test_literature_counts_are_consistent(literature):
    events, totals = _num(literature["orr_events"]), _num(literature["orr_n"])
    has_counts = events.notna() | totals.notna()
    assert (events.notna() == totals.notna()).all()
    assert (events[has_counts] <= totals[has_counts]).all() and (totals[has_counts] > 0).all()
    counted = literature[has_counts]
    # counts are derived only on text rows with a patient/lesion unit, from the printed percentage
    assert set(counted["record_type"]) == {"text"}
    assert set(counted["response_unit"]) <= {"patient", "lesion"}
    pct = 100 * events[has_counts] / totals[has_counts]
    np.testing.assert_allclose(pct.round(1), _num(counted["orr_pct_reported"]), atol=1e-9)
    n = _num(counted["n"])
    assert (n.isna() | (n == totals[has_counts])).all()
    # exactly these four groups have derivable counts in this review
    assert {k: (int(events[k]), int(totals[k])) for k in counted.index} == {
        "theelen2021_pooled_pembro_rt": (30, 72),
        "theelen2021_pooled_pembro_alone": (15, 76),
        "lin2022_npc_pd1_alone": (1, 8),
        "lin2022_npc_sbrt": (6, 7),
    }


def test_literature_doses_are_consistent(literature):
    total, fractions = _num(literature["total_dose_gy"]), _num(literature["fractions"])
    per_fraction = _num(literature["dose_per_fraction_gy"])
    both = total.notna() & fractions.notna()
    np.testing.assert_allclose(per_fraction[both], total[both] / fractions[both], rtol=1e-9)
    # every row with one unambiguous schedule agrees with the dose-based classification
    rows = literature[both & (literature["rt_modality"] != "")]
    assert len(rows) >= 6
    predicted = classify_modality(total[rows.index], fractions[rows.index])
    assert (predicted == rows["rt_modality"]).all(), predicted[predicted != rows["rt_modality"]]
    # ICB-alone rows carry no RT; rows without RT are ICB-alone rows
    assert ((literature["arm_role"] == "icb_alone") == (literature["rt_modality"] == "none")).all()
    assert (literature.loc[literature["rt_modality"] == "none", "dose_fractions"] == "").all()
    no_basis = literature["rt_modality_basis"] == ""
    assert (no_basis == literature["rt_modality"].isin(["", "none"])).all()


def test_literature_links_and_record_types(literature):
    ids = set(literature["study_id"])
    for study_id, links in literature["linked_ids"].items():
        for other in filter(None, links.split(";")):
            assert other in ids, f"{study_id} links to unknown {other}"
            assert study_id in literature.at[other, "linked_ids"].split(";"), (study_id, other)
    table2 = literature[literature["record_type"] == "table2"]
    assert sorted(_num(table2["table2_row"]).astype(int)) == list(range(1, 12))
    assert (literature.loc[literature["record_type"] != "table2", "table2_row"] == "").all()
    ongoing = literature[literature["record_type"] == "ongoing"]
    outcome_columns = ["orr_events", "orr_n", "orr_pct_reported", "dcr_pct_reported", "pfs", "os"]
    assert (ongoing[outcome_columns] == "").all().all()
    # every text row with a reference number is linked to its Table 2 row when the study has one
    table2_refs = set(table2["ref_no"])
    is_text = literature["record_type"] == "text"
    text = literature[is_text & literature["ref_no"].isin(table2_refs)]
    for study_id, row in text.iterrows():
        assert any(link.startswith("t2r") for link in row["linked_ids"].split(";")), study_id


def test_literature_table2_rows_as_printed(literature):
    """Table 2 of the review, cell by cell (author/ref, n, ICI, dose, OS, ORR)."""
    expected = {
        1: (121, "1", "Pembrolizumab", "6 Gy/4 fractions", "10", "25"),
        2: (121, "1", "Ipilimumab, nivolumab", "5.6 Gy/4 fractions", "6", "42"),
        3: (121, "1", "Pembrolizumab", "7 Gy/5 fractions", "12", "15"),
        4: (122, "1", "Ipilimumab", "3 Gy total", "6", ""),
        5: (96, "100", "Pembrolizumab", "50 Gy/4 fractions; 45 Gy/15 fractions", "", "38"),
        6: (98, "50", "PD-1 inhibitors", "5 Gy/3 fractions", "9.6", "13.2"),
        7: (97, "148", "PD-1 inhibitors", "15 Gy/3 fractions", "9", ""),
        8: (99, "41", "Avelumab, adalimumab", "30 Gy/4 fractions", "", "31"),
        9: (100, "8", "PD-1 inhibitors", "25\u201336 Gy/ 5\u20136 fractions", "", "85.7"),
        10: (123, "1", "Pembrolizumab", "27 Gy/9 fractions", "20", ""),
        11: (101, "399", "Ipilimumab", "8 Gy/fraction", "11.2", ""),
    }
    table2 = literature[literature["record_type"] == "table2"].copy()
    table2.index = _num(table2["table2_row"]).astype(int)
    for row, (ref, n, ici, dose, os_, orr) in expected.items():
        got = table2.loc[row]
        assert int(got["ref_no"]) == ref and got["n"] == n and got["ici"] == ici, row
        assert got["dose_fractions"] == dose and got["os"] == os_, row
        printed = got["orr_pct_reported"]
        assert (float(printed) if printed else None) == (float(orr) if orr else None), row
        assert f"(ref. {ref})" in got["source"]


def test_literature_contains_the_named_trials(literature):
    trials = " ".join(literature["trial"])
    for name in ["PEMBRO-RT", "ICE-PAC", "PRaG", "ChiCTR1900026175", "CA184-043"]:
        assert name in trials, name
    welsh = literature[(literature["ref_no"] == "96") & (literature["record_type"] == "text")]
    assert sorted(_num(welsh["orr_pct_reported"]).astype(int)) == [10, 17, 25, 33, 38]
    assert set(welsh["rt_modality"]) == {"none", "SBRT", "hypofractionated", "conventional"}
    assert set(welsh.loc[welsh["orr_pct_reported"].isin(["33", "17"]), "setting"]) == {
        "salvage_after_icb_failure"
    }
    icepac = literature.loc["kwan2022_icepac"]
    assert (icepac["orr_pct_reported"], icepac["dcr_pct_reported"]) == ("31", "48")
    assert (icepac["total_dose_gy"], icepac["fractions"]) == ("20", "1")
    npc = literature.loc["lin2022_npc_sbrt"]
    assert "nasopharyngeal" in npc["tumour"] and npc["setting"] == "salvage_after_icb_failure"
    assert npc["rt_modality"] == "SBRT" and npc["os"] == "2-year OS 71.0%"
    pooled = literature.loc["theelen2021_pooled_pembro_rt"]
    assert "HR 0.67" in pooled["pfs"] and pooled["setting"] == "rt_with_icb_naive"
    for case in [
        "postow2012_melanoma_case",
        "slovin2013_mcrpc_ipi_rt",
        "bloom2019_merkel_case",
        "patel2021_melanoma_liver_case",
        "patel2021_oropharynx_case",
        "menon2019_flhcc_case",
        "kong2022_prag",
        "kwon2014_ca184043",
    ]:
        assert case in literature.index


def _fractions_rounding_to(pct: float, max_n: int, digits: int) -> list[tuple[int, int]]:
    """Every k/n with n <= max_n whose percentage rounds to ``pct`` at ``digits`` decimals."""
    return [(k, n) for n in range(1, max_n + 1) for k in range(n + 1) if round(100 * k / n, digits) == pct]


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


#: Every "k/n = x%" (or "x% = k/n") the notes state, by row: read by hand from the notes and
#: checked by hand (6/50 = 12, 7/50 = 14, 12/41 = 29.27, 13/41 = 31.71, 19/41 = 46.34,
#: 20/41 = 48.78, 30/72 = 41.667, 15/76 = 19.737, 5/7 = 71.43, 1/8 = 12.5, 3/8 = 37.5, 6/7 = 85.71).
NOTE_PERCENTAGES = {
    ("t2r06_kong2022_prag", 6, 50, "12"),
    ("t2r06_kong2022_prag", 7, 50, "14"),
    ("t2r08_kwan2022_icepac", 12, 41, "29.3"),
    ("t2r08_kwan2022_icepac", 13, 41, "31.7"),
    ("t2r08_kwan2022_icepac", 19, 41, "46.3"),
    ("t2r08_kwan2022_icepac", 20, 41, "48.8"),
    ("theelen2021_pooled_pembro_rt", 30, 72, "41.67"),
    ("theelen2021_pooled_pembro_alone", 15, 76, "19.74"),
    ("lin2022_npc_sbrt", 5, 7, "71.4"),
    ("lin2022_npc_sbrt", 6, 7, "85.7"),
    ("lin2022_npc_pd1_alone", 1, 8, "12.5"),
    ("lin2022_npc_pd1_alone", 3, 8, "37.5"),
}

#: Every "d Gy (per fraction) = total/fractions" the notes state (1.4 x 4 = 5.6, 12.5 x 4 = 50,
#: 3 x 15 = 45, 1.8 x 25 = 45).
NOTE_DOSES = {
    ("t2r02_patel2021_ipinivo_ldrt", "1.4", "5.6", 4),
    ("welsh2020_pembro_sbrt", "12.5", "50", 4),
    ("welsh2020_pembro_hypofx", "3", "45", 15),
    ("bloom2019_merkel_case", "1.8", "45", 25),
}


def test_literature_note_arithmetic(literature):
    """Every fraction, percentage and dose the notes of the table state is right."""
    notes = literature["note"]
    found = set()
    for study, note in notes.items():
        for k, n, pct in re.findall(r"(\d+)/(\d+) = (\d+(?:\.\d+)?)%", note):
            found.add((study, int(k), int(n), pct))
        for pct, k, n in re.findall(r"(\d+(?:\.\d+)?)% \(?= (\d+)/(\d+)", note):
            found.add((study, int(k), int(n), pct))
    assert found == NOTE_PERCENTAGES  # a new claim must be added here (and checked by hand)
    for study, k, n, pct in found:
        assert round(100 * k / n, _decimals(pct)) == float(pct), (study, k, n, pct)

    doses = set()
    for study, note in notes.items():
        for per_fraction, total, fractions in re.findall(
            r"(\d+(?:\.\d+)?) Gy(?: per fraction)? = (\d+(?:\.\d+)?)/(\d+)", note
        ):
            doses.add((study, per_fraction, total, int(fractions)))
    assert doses == NOTE_DOSES
    for study, per_fraction, total, fractions in doses:
        assert float(total) / fractions == pytest.approx(float(per_fraction)), study

    # "the only k/n": the printed percentage of the row has exactly one k/n, and it is the row's
    # counts (30/72 for 41.7%, 15/76 for 19.7%, 1/8 for 12.5%, 6/7 for 85.7%)
    only = {s: int(n) for s, note in notes.items() for n in re.findall(r"the only k/(\d+)", note)}
    assert only == {
        "theelen2021_pooled_pembro_rt": 72,
        "theelen2021_pooled_pembro_alone": 76,
        "lin2022_npc_pd1_alone": 8,
        "lin2022_npc_sbrt": 7,
    }
    for study, n in only.items():
        row = literature.loc[study]
        pct = row["orr_pct_reported"]
        matches = [f for f in _fractions_rounding_to(float(pct), n, _decimals(pct)) if f[1] == n]
        assert matches == [(int(row["orr_events"]), int(row["orr_n"]))], study


def test_literature_notes_explain_the_counts_that_cannot_be_derived(literature):
    """Where a note says no counts can be derived, the table's n and percentage prove it."""
    # PRaG: 13.2% of n = 50 is no k/50; among denominators up to 50 only 5/38 rounds to 13.2%
    prag = literature.loc["t2r06_kong2022_prag"]
    pct, n = float(prag["orr_pct_reported"]), int(prag["n"])
    assert (pct, n) == (13.2, 50) and prag["orr_events"] == ""
    assert _fractions_rounding_to(pct, n, 1) == [(5, 38)]
    assert "only 5/38 rounds to 13.2%" in prag["note"]
    # ICE-PAC: n = 41 in Table 2; neither the ORR of 31% nor the text's DCR of 48% is a k/41
    icepac_t2, icepac = literature.loc["t2r08_kwan2022_icepac"], literature.loc["kwan2022_icepac"]
    n = int(icepac_t2["n"])
    assert n == 41 and icepac_t2["orr_events"] == icepac["orr_events"] == ""
    for printed in (icepac_t2["orr_pct_reported"], icepac["orr_pct_reported"], icepac["dcr_pct_reported"]):
        assert not [f for f in _fractions_rounding_to(float(printed), n, 0) if f[1] == n], printed
    # Lin (Table 2): 85.7% of n = 8 is not a whole number (6.856); the counts are 6/7 in the text row
    lin_t2, lin = literature.loc["t2r09_lin2022_npc"], literature.loc["lin2022_npc_sbrt"]
    assert float(lin_t2["orr_pct_reported"]) * int(lin_t2["n"]) / 100 == pytest.approx(6.856)
    assert lin_t2["orr_events"] == "" and (lin["orr_events"], lin["orr_n"]) == ("6", "7")
    # Lin: the 2-year OS of 71.0% is not a multiple of 1/7 (5/7 = 71.4%)
    os_pct = float(re.search(r"(\d+\.\d)%", lin["os"]).group(1))
    assert os_pct == 71.0 and not [f for f in _fractions_rounding_to(os_pct, 7, 1) if f[1] == 7]
    # Welsh (Table 2): 38% is one arm of a three-arm n = 100, so 38/100 would be wrong
    welsh = literature.loc["t2r05_welsh2020"]
    assert (welsh["n"], welsh["orr_pct_reported"], welsh["orr_events"]) == ("100", "38", "")
    assert "38/100 would be wrong" in welsh["note"]
    # Theelen: the crude odds ratio of the table's counts, (30/42) / (15/61) = 1830/630 = 2.905,
    # is the 2.90 of the note, beside the reported (model-based) 2.96
    rt_arm, control = (
        literature.loc["theelen2021_pooled_pembro_rt"],
        literature.loc["theelen2021_pooled_pembro_alone"],
    )
    k1, n1, k0, n0 = (
        int(v) for v in (rt_arm["orr_events"], rt_arm["orr_n"], control["orr_events"], control["orr_n"])
    )
    crude = (k1 / (n1 - k1)) / (k0 / (n0 - k0))
    assert crude == pytest.approx(1830 / 630) and f"{crude:.2f}" == "2.90"
    assert "crude odds ratio is 2.90 (reported 2.96" in rt_arm["note"]
    # a single patient cannot have an ORR strictly between 0 and 100%: such rows have unit
    # "unclear" and say so (Table 2 rows 1-3: 25%, 42%, 15% for n = 1)
    pct = pd.to_numeric(literature["orr_pct_reported"].replace("", np.nan))
    single = literature[(literature["n"] == "1") & pct.gt(0) & pct.lt(100)]
    assert sorted(single.index) == [
        "t2r01_patel2021_pembro_ldrt",
        "t2r02_patel2021_ipinivo_ldrt",
        "t2r03_patel2021_pembro_ldrt",
    ]
    assert (single["response_unit"] == "unclear").all()
    assert single["note"].str.contains("impossible as a patient-level rate for n = 1").all()


def test_literature_notes_on_table2_doses_read_as_totals(literature):
    """Table 2 cells that would contradict their modality label if read as totals are left blank."""
    for study, label, as_total in [
        ("t2r10_bloom2019_merkel", "conventional", "hypofractionated"),  # 27 Gy/9: 3 Gy per fraction
        ("t2r06_kong2022_prag", "SBRT", "low_dose"),  # 5 Gy/3: 1.7 Gy per fraction, 5 Gy in total
    ]:
        row = literature.loc[study]
        total, fractions = (
            float(v) for v in re.fullmatch(r"(\d+) Gy/(\d+) fractions", row["dose_fractions"]).groups()
        )
        assert row["rt_modality"] == label and row["total_dose_gy"] == "", study
        assert classify_modality(total, fractions) == as_total, study
        assert "total left blank" in row["note"], study
    assert (
        "hypofractionated by the review's own > 2.5 Gy definition"
        in literature.loc["t2r10_bloom2019_merkel", "note"]
    )
    assert "(1.7 Gy per fraction, low-dose)" in literature.loc["t2r06_kong2022_prag", "note"]
    assert 5 / 3 == pytest.approx(1.7, abs=0.05) and 27 / 9 == 3


# ------------------------------------------------------------------ E-values (stats.sensitivity)


def test_evalue_of_risk_ratios_matches_vanderweele_ding_examples():
    """VanderWeele & Ding (Ann Intern Med 2017): RR 3.9 (1.8-8.7) -> E-values 7.26 and 3.0
    (1.8 + sqrt(1.8 x 0.8) = 1.8 + 1.2 exactly); the breastfeeding-leukaemia RR 0.80 (0.71-0.91)
    -> 1.81 and 1.43 (1/0.8 = 1.25, 1.25 + sqrt(1.25 x 0.25) = 1.809)."""
    causal = evalue_hr(3.9, 1.8, 8.7, rare=True)  # rare: the ratio is the risk ratio itself
    assert causal.evalue == pytest.approx(3.9 + math.sqrt(3.9 * 2.9), rel=1e-12)
    assert round(causal.evalue, 2) == 7.26
    assert causal.evalue_limit == pytest.approx(3.0, rel=1e-12) and causal.limit == "ci_low"
    protective = evalue_hr(0.80, 0.71, 0.91, rare=True)
    assert protective.evalue == pytest.approx(1.25 + math.sqrt(1.25 * 0.25), rel=1e-12)
    assert (round(protective.evalue, 2), round(protective.evalue_limit, 2)) == (1.81, 1.43)
    assert protective.limit == "ci_high" and not protective.covers_null
    assert evalue_rr(1.0) == 1.0 and evalue_rr(2.0) == pytest.approx(evalue_rr(0.5), rel=1e-12)
    assert evalue_rr(2.0) == pytest.approx(2 + math.sqrt(2), rel=1e-12)


def test_hazard_ratio_of_a_common_outcome_is_converted_first():
    """RR ~ (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)): HR 4 -> 0.75 / (1 - 1/sqrt 2) = 2.5607;
    HR 1/4 -> its reciprocal; HR 1 -> 1. The EValue example HR 0.56 (0.46-0.69), common outcome:
    RR 0.6701 -> E-value 2.35; the upper limit 0.69 -> RR 0.7735 -> 1.91."""
    rr4 = 0.75 / (1 - 2**-0.5)
    assert hr_to_rr(4.0) == pytest.approx(rr4, rel=1e-12) and rr4 == pytest.approx(2.5607, abs=1e-4)
    assert hr_to_rr(0.25) == pytest.approx(1 / rr4, rel=1e-12)
    assert hr_to_rr(1.0) == 1.0 and hr_to_rr(0.7, rare=True) == 0.7
    example = evalue_hr(0.56, 0.46, 0.69)
    rr = (1 - 0.5 ** math.sqrt(0.56)) / (1 - 0.5 ** math.sqrt(1 / 0.56))
    assert example.rr == pytest.approx(rr, rel=1e-12) and rr == pytest.approx(0.6701, abs=1e-4)
    assert example.evalue == pytest.approx(1 / rr + math.sqrt(1 / rr * (1 / rr - 1)), rel=1e-12)
    assert (round(example.evalue, 2), round(example.evalue_limit, 2)) == (2.35, 1.91)
    # the conversion pulls towards 1, so a common outcome needs a weaker confounder
    assert example.evalue < evalue_hr(0.56, 0.46, 0.69, rare=True).evalue


def test_evalue_of_an_interval_that_covers_one_is_one():
    covering = evalue_hr(0.85, 0.70, 1.03)
    assert covering.covers_null and covering.evalue_limit == 1.0 and covering.evalue > 1
    harmful = evalue_hr(1.20, 0.95, 1.5)
    assert harmful.limit == "ci_low" and harmful.evalue_limit == 1.0
    null = evalue_hr(1.0, 0.9, 1.1)
    assert null.evalue == 1.0 and null.evalue_limit == 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0.0, 0.5, 1.0), "hr must be a positive"),
        ((0.8, float("nan"), 1.0), "ci_low must be a positive"),
        ((0.8, 0.85, 1.0), "must enclose the estimate"),
        (("x", 0.5, 1.0), "hr must be a number"),
    ],
)
def test_evalue_rejects_bad_input(args, message):
    with pytest.raises(InputError, match=message):
        evalue_hr(*args)


def test_shift_towards_null_is_the_share_of_the_log_hazard_ratio_removed():
    # 1 - log(0.75)/log(0.5) = 1 - 0.41504 = 0.58496
    assert shift_towards_null(0.5, 0.75) == pytest.approx(1 - math.log(0.75) / math.log(0.5), rel=1e-12)
    assert shift_towards_null(0.5, 0.75) == pytest.approx(0.58496, abs=1e-5)
    assert shift_towards_null(0.5, 0.5) == 0.0 and shift_towards_null(2.0, 1.0) == 1.0
    assert shift_towards_null(0.5, 2.0) == pytest.approx(2.0)  # crossed to the other side
    assert shift_towards_null(0.5, 0.25) == pytest.approx(-1.0)  # further from 1
    with pytest.raises(InputError, match="reference hazard ratio is 1"):
        shift_towards_null(1.0, 0.8)


# ------------------------------------------------------------------ time-updated covariates


def test_time_updated_intervals_split_at_changes_and_carry_the_last_value():
    subjects = pd.DataFrame(
        {"id": ["A", "B", "C"], "T": [100.0, 50.0, 80.0], "e": [1, 0, 1], "age": [6, 7, 5]}
    )
    changes = pd.DataFrame(
        {
            "id": ["A", "A", "A", "A", "B", "B", "C"],
            "time": [-3.0, 0.0, 40.0, 100.0, -5.0, 20.0, 90.0],
            "ecog": [1, 2, 3, 4, 0, np.nan, 3],
            "rt": [np.nan, np.nan, np.nan, np.nan, np.nan, 1.0, np.nan],
        }
    )
    long = time_updated_intervals(subjects, changes, "id", "T", "e", ["ecog", "rt"], initial={"rt": 0.0})
    expected = pd.DataFrame(
        {
            "id": ["A", "A", "B", "B", "C"],
            "start": [0.0, 40.0, 0.0, 20.0, 0.0],
            "stop": [40.0, 100.0, 20.0, 50.0, 80.0],
            "e": [0, 1, 0, 0, 1],
            # A: the day-0 value beats the day -3 one; the day-100 assessment (day of death) is
            # unused; B: the ECOG of day -5 is carried past the RT change of day 20; C: nothing
            # known before its only assessment (after follow-up ended) -> NaN
            "ecog": [2.0, 3.0, 0.0, 0.0, np.nan],
            "rt": [0.0, 0.0, 0.0, 1.0, 0.0],
            "age": [6, 6, 7, 7, 5],
        }
    )
    pd.testing.assert_frame_equal(long, expected, check_dtype=False)


def test_time_updated_intervals_reproduce_the_counting_process_of_one_exposure():
    rng = np.random.default_rng(7)
    n = 200
    subjects = pd.DataFrame(
        {
            "id": np.arange(n),
            "T": rng.exponential(100, n) + 0.5,
            "e": rng.integers(0, 2, n),
            "x": rng.normal(size=n),
        }
    )
    start = np.where(
        rng.random(n) < 0.5, rng.uniform(-10, 150, n), np.nan
    )  # some at or before 0, some after T
    one = survival.to_counting_process(subjects.assign(s=start), "id", "T", "e", "s", exposure_col="rt")
    changes = pd.DataFrame({"id": subjects["id"], "time": start, "rt": 1.0}).dropna()
    many = time_updated_intervals(subjects, changes, "id", "T", "e", ["rt"], initial={"rt": 0.0})
    columns = ["id", "start", "stop", "e", "rt", "x"]
    pd.testing.assert_frame_equal(one[columns].astype(float), many[columns].astype(float))


def test_time_updated_intervals_reject_bad_input():
    subjects = pd.DataFrame({"id": ["A", "A"], "T": [10.0, 0.0], "e": [1, 2]})
    changes = pd.DataFrame({"id": ["Z"], "time": [np.inf], "v": ["high"]})
    with pytest.raises(InputError) as caught:
        time_updated_intervals(subjects, changes, "id", "T", "e", ["v"])
    text = str(caught.value)
    for rule in (
        "column 'T': must be > 0",
        "column 'e': must be 0 (censored) or 1",
        "column 'id': must be unique",
        "table 'changes', column 'id': must be a subject",
        "column 'time': must be a finite number",
        "column 'v': must be numeric",
    ):
        assert rule in text, rule
    with pytest.raises(InputError, match="exist in subjects already"):
        time_updated_intervals(subjects.assign(v=1), changes, "id", "T", "e", ["v"])
