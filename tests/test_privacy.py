"""Small-cell suppression that cannot be undone: primary, complementary and secondary rules.

Every table here has counts between 1 and 10. Besides the exact cells each rule hides, a checker
written from the rule's statement (not from the implementation) reads each line of a suppressed
table the way a reader would: the total minus the shown cells, with a ``"<11"`` cell in [1, 10]
and a hidden complementary count at 11 or more, must not pin any hidden cell to one value.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from helpers.book import privacy, session
from helpers.book.privacy import HIDDEN, protect, suppress_small_counts
from helpers.data.cohort import Cohort

M = 11
LT = f"<{M}"


def _hidden(v: object) -> bool:
    return v in (LT, HIDDEN)


def _pins(shown_total: float | None, cells: list[object], total_cell: object = None) -> bool:
    """Whether a line (parts ``cells`` adding up to a total) gives back one hidden cell exactly.

    ``shown_total`` is the total when it is known (a shown cell or a number stated elsewhere);
    ``total_cell`` is the total's own cell when it is hidden.
    """
    bounds = {LT: (1, M - 1), HIDDEN: (M, math.inf)}
    terms, c = [], 0.0 if shown_total is None else float(shown_total)
    for v in cells:
        if _hidden(v):
            terms.append((1, bounds[v]))
        else:
            c -= float(v)
    if total_cell is not None and _hidden(total_cell):
        terms.append((-1, bounds[total_cell]))
    for k, (a, (lo, hi)) in enumerate(terms):
        rest = [t for n, t in enumerate(terms) if n != k]
        r_lo = sum(b[0] if s > 0 else -b[1] for s, b in rest)
        r_hi = sum(b[1] if s > 0 else -b[0] for s, b in rest)
        x_lo, x_hi = (c - r_hi, c - r_lo) if a > 0 else (r_lo - c, r_hi - c)
        if max(x_lo, lo) == min(x_hi, hi):
            return True
    return False


def _row_line_pins(out: pd.DataFrame, parts: list[str], total: str) -> list[object]:
    """Rows of ``out`` whose parts and total (a column) pin a hidden cell."""
    bad = []
    for label, row in out.iterrows():
        cells = [row[p] for p in parts]
        t = row[total]
        if _pins(None if _hidden(t) else t, cells, t):
            bad.append(label)
    return bad


def _column_line_pins(out: pd.DataFrame, total_row: object, columns: list[str]) -> list[str]:
    """Columns whose parts (the other rows) and total row pin a hidden cell."""
    parts = out.drop(index=total_row)
    bad = []
    for c in columns:
        t = out.loc[total_row, c]
        if _pins(None if _hidden(t) else t, parts[c].tolist(), t):
            bad.append(c)
    return bad


def test_the_checker_sees_what_a_reader_recovers():
    assert _pins(73, [41, 13, 12, LT])  # 73 - 41 - 13 - 12 = 7
    assert not _pins(73, [41, 13, HIDDEN, LT])  # 7 + 12 = 19: the <11 cell lies in 1..8
    assert _pins(52, [LT, LT, 50])  # 1 + 1
    assert _pins(12, [LT, HIDDEN])  # 1 + 11
    assert not _pins(None, [5, 20], total_cell=30)


# -- secondary suppression ------------------------------------------------------------------


def test_a_percentage_beside_a_suppressed_count_is_hidden():
    reasons = pd.DataFrame(
        {
            "reason": ["short follow-up", "NE", "short exposure"],
            "courses": [4, 30, 0],
            "% of all courses": [5.5, 41.1, 0.0],
        }
    )
    out = suppress_small_counts(reasons, M, count_columns=["courses"])
    assert out["courses"].tolist() == [LT, 30, 0]
    assert out["% of all courses"].tolist() == [HIDDEN, 41.1, 0.0]  # 5.5 % of 73 gave back 4


def test_medians_rates_and_shares_beside_a_suppressed_count_are_hidden():
    km = pd.DataFrame(
        {
            "group": ["acquired", "primary"],
            "patients": [13, 41],
            "deaths": [5, 30],
            "median_months": [20.5, 12.7],
            "median_ci_high": [float("nan"), 15.9],
            "survival_6m": [0.92, 0.66],
            "hr": [0.45, 0.45],
        }
    )
    out = suppress_small_counts(km, M)
    assert out.loc[0].tolist()[:4] == ["acquired", 13, LT, HIDDEN]
    assert math.isnan(out.loc[0, "median_ci_high"])  # nothing shown, nothing to hide
    assert out.loc[0, "survival_6m"] == HIDDEN
    assert out.loc[0, "hr"] == 0.45  # not a share of the count
    assert out.loc[1].tolist() == km.loc[1].tolist()
    # a share column named without a share word can be named by the caller
    named = suppress_small_counts(km.rename(columns={"hr": "gained"}), M, share_columns=["gained"])
    assert named.loc[0, "gained"] == HIDDEN and named.loc[1, "gained"] == 0.45


def test_a_share_beside_a_complementary_count_is_hidden_too():
    subtypes = pd.DataFrame(
        {
            "IE/F": [16, 60],
            "IE": [11, 70],
            "F": [3, 80],
            "D": [16, 90],
            "n": [46, 300],
            "immune_share": [0.59, 0.43],
        },
        index=["Melanoma", "NSCLC"],
    )
    out = suppress_small_counts(subtypes, M)
    assert out.loc["Melanoma"].tolist() == [16, HIDDEN, LT, 16, 46, HIDDEN]  # IE = 11: the next smallest
    assert out.loc["NSCLC"].tolist() == [60, 70, 80, 90, 300, 0.43]


# -- complementary suppression ----------------------------------------------------------------


def test_a_total_column_gets_a_second_hidden_cell():
    classes = pd.DataFrame(
        {
            "primary": [41],
            "acquired": [13],
            "ongoing_benefit": [12],
            "not_evaluable": [7],
            "total": [73],
            "changed": [3],
        },
        index=["all"],
    )
    out = suppress_small_counts(classes, M)
    # 73 - 41 - 13 - 12 gave back the 7; the next smallest (12) is hidden with it
    assert out.loc["all"].tolist() == [41, 13, HIDDEN, LT, 73, LT]
    assert not _row_line_pins(out, ["primary", "acquired", "ongoing_benefit", "not_evaluable"], "total")


def test_a_total_row_gets_a_second_hidden_cell_in_its_column():
    availability = pd.DataFrame(
        {"patients": [30, 40, 25, 95], "pre DNA": [28, 6, 20, 54], "post DNA": [0, 0, 0, 0]},
        index=["Melanoma", "NSCLC", "RCC", "All"],
    )
    out = suppress_small_counts(availability, M)
    assert out["pre DNA"].tolist() == [28, LT, HIDDEN, 54]  # 54 - 28 - 20 gave back the 6
    assert out["patients"].tolist() == [30, 40, 25, 95] and out["post DNA"].tolist() == [0, 0, 0, 0]
    assert not _column_line_pins(out, "All", ["patients", "pre DNA", "post DNA"])


def test_rows_and_columns_are_revisited_until_no_line_gives_a_cell_back():
    # a: 5 is hidden; its row and column each need a second cell, which exposes other rows and
    # columns in turn (b's complement falls in row z, c's in row x, ...)
    raw = pd.DataFrame(
        {"a": [5, 40, 70], "b": [20, 85, 80], "c": [30, 60, 90]},
        index=["x", "y", "z"],
    )
    table = raw.copy()
    table["total"] = table.sum(axis=1)
    table.loc["all"] = table.sum(axis=0)
    out = suppress_small_counts(table, M)
    assert out.loc["x", "a"] == LT
    hidden = {(r, c) for r in out.index for c in out.columns if _hidden(out.loc[r, c])}
    assert len(hidden) > 4  # more than one round was needed
    assert not _row_line_pins(out, ["a", "b", "c"], "total")
    assert not _column_line_pins(out, "all", ["a", "b", "c", "total"])
    assert {(r, c) for r, c in hidden if out.loc[r, c] == LT} == {("x", "a")}  # the rest are complements
    assert out.loc["all"].tolist() == table.loc["all"].tolist()  # the margins stay shown


def test_nested_totals_are_lines_too():
    """courses = not recorded + NE + evaluable, evaluable = CR + PR + SD + PD, responses = CR + PR."""
    response = pd.DataFrame(
        {
            "group": ["SBRT", "conventional"],
            "courses": [120, 90],
            "not recorded": [0, 12],
            "NE": [20, 14],
            "evaluable": [100, 64],
            "CR": [3, 15],
            "PR": [40, 20],
            "SD": [30, 14],
            "PD": [27, 15],
            "responses": [43, 35],
            "ORR %": [43.0, 54.7],
        }
    )
    out = suppress_small_counts(response, M)
    sbrt = out.loc[0]
    assert sbrt["CR"] == LT and sbrt["ORR %"] == HIDDEN
    assert not _row_line_pins(out, ["CR", "PR", "SD", "PD"], "evaluable")
    assert not _row_line_pins(out, ["CR", "PR"], "responses")
    assert not _row_line_pins(out, ["not recorded", "NE", "evaluable"], "courses")
    assert out.loc[1].tolist() == response.loc[1].tolist()


def test_two_small_cells_that_must_be_ones_get_a_third():
    table = pd.DataFrame({"a": [1], "b": [1], "c": [50], "total": [52]})
    out = suppress_small_counts(table, M)
    assert out.loc[0].tolist() == [LT, LT, HIDDEN, 52]  # 52 - 50 = 2 = 1 + 1 gave both back
    assert not _row_line_pins(out, ["a", "b", "c"], "total")


def test_a_total_stated_elsewhere_is_a_line():
    reasons = pd.DataFrame({"reason": ["a", "b", "c"], "courses": [4, 30, 20]})
    assert suppress_small_counts(reasons, M, ["courses"])["courses"].tolist() == [LT, 30, 20]  # no total
    out = suppress_small_counts(reasons, M, ["courses"], column_totals={"courses": 54})
    assert out["courses"].tolist() == [LT, 30, HIDDEN]
    assert not _pins(54, out["courses"].tolist())
    flows = pd.DataFrame({"primary": [5, 0], "acquired": [30, 40]}, index=["acquired", "primary"])
    out = suppress_small_counts(flows, M, row_totals={"acquired": 35})
    assert out.loc["acquired"].tolist() == [LT, HIDDEN]


def test_a_total_row_that_is_not_a_sum_is_no_line():
    attrition = pd.DataFrame(
        {
            "analysis set": ["All patients", "progressed", "with DNA"],
            "patients": [73, 54, 6],
            "% of all": [100.0, 74.0, 8.2],
        }
    )
    out = suppress_small_counts(attrition, M, ["patients"])
    assert out["patients"].tolist() == [73, 54, LT]  # nested steps: 73 is not 54 + 6
    assert out["% of all"].tolist() == [100.0, 74.0, HIDDEN]


def test_a_count_row_of_a_transposed_table_has_its_all_column():
    table1 = pd.DataFrame(
        {
            "All": [86, "60 (52-68)", 40.7, 3.1],
            "Melanoma": [60, "58 (50-66)", 38.3, 3.4],
            "RCC": [20, "63 (55-70)", 45.0, 2.9],
            "TNBC": [6, "51 (44-60)", 50.0, 1.8],
        },
        index=["Patients, n", "Age, median (IQR)", "Female, % of known", "Median PFS, months (KM)"],
    )
    out = suppress_small_counts(table1, M, count_columns=[])
    assert out.loc["Patients, n"].tolist() == [86, 60, HIDDEN, LT]  # 86 - 60 - 20 gave back the 6
    for group in ("RCC", "TNBC"):  # shares and medians of a hidden group size
        assert (
            out.loc[["Age, median (IQR)", "Female, % of known", "Median PFS, months (KM)"], group]
            .eq(HIDDEN)
            .all()
        )
    assert (
        out["All"].tolist() == table1["All"].tolist()
        and out["Melanoma"].tolist() == table1["Melanoma"].tolist()
    )


def test_zero_counts_are_never_suppressed_nor_chosen_as_complement():
    table = pd.DataFrame({"a": [5, 0], "b": [0, 0], "c": [30, 12], "total": [35, 12]})
    out = suppress_small_counts(table, M)
    assert out["b"].tolist() == [0, 0]
    assert out.loc[0].tolist() == [LT, 0, HIDDEN, 35]
    assert out.loc[1].tolist() == [0, 0, 12, 12]


def test_large_counts_are_left_alone():
    table = pd.DataFrame({"a": [11, 40], "b": [50, 60], "total": [61, 100], "share": [0.18, 0.4]})
    pd.testing.assert_frame_equal(suppress_small_counts(table, M), table)


# -- the chapter: restricted cohorts only ---------------------------------------------------------


@pytest.fixture
def chapter_state():
    saved = dict(session._state)
    yield session._state
    session._state.clear()
    session._state.update(saved)


def _use(state: dict, access: str, simulated: bool = False) -> None:
    cohort = Cohort(tables={}, meta={"name": "t", "simulated": simulated, "access": access})
    state.update(cohort=cohort, min_cell_count=M, open_published=False)


CLASSES = pd.DataFrame(
    {
        "primary": [41],
        "acquired": [13],
        "ongoing_benefit": [12],
        "not_evaluable": [7],
        "total": [73],
        "%": [9.6],
    }
)


def test_open_and_simulated_cohorts_are_not_suppressed(chapter_state):
    _use(chapter_state, "open")
    pd.testing.assert_frame_equal(protect(CLASSES), CLASSES)
    _use(chapter_state, "open", simulated=True)
    pd.testing.assert_frame_equal(protect(CLASSES), CLASSES)
    _use(chapter_state, "restricted")
    with privacy.open_published_data():
        pd.testing.assert_frame_equal(protect(CLASSES), CLASSES)
    out = protect(CLASSES)
    assert out.loc[0].tolist() == [41, 13, HIDDEN, LT, 73, HIDDEN]
    reasons = pd.DataFrame({"courses": [4, 30]})
    assert protect(reasons, ["courses"], column_totals={"courses": 34})["courses"].tolist() == [LT, HIDDEN]


def test_count_label_and_is_suppressed_keep_their_meaning(chapter_state):
    _use(chapter_state, "restricted")
    assert [privacy.count_label(n) for n in (0, 1, 10, 11)] == ["0", LT, LT, "11"]
    assert [privacy.is_suppressed(n) for n in (0, 5, 11)] == [False, True, False]
    _use(chapter_state, "open")
    assert privacy.count_label(5) == "5" and not privacy.is_suppressed(5)


def test_an_integer_share_is_no_count():
    table = pd.DataFrame({"patients": [40, 4], "% of all": [91, 9]})
    out = suppress_small_counts(table, M)
    assert out["patients"].tolist() == [40, LT]
    assert out["% of all"].tolist() == [91, HIDDEN]  # hidden beside the 4, not as a count of 9


def test_a_total_must_name_a_column_or_row_of_the_table():
    with pytest.raises(KeyError, match="not a column"):
        suppress_small_counts(pd.DataFrame({"n": [4]}), M, column_totals={"courses": 4})
    with pytest.raises(KeyError, match="not a row label"):
        suppress_small_counts(pd.DataFrame({"n": [4]}), M, row_totals={"all": 4})


def test_a_total_hidden_in_another_table_keeps_a_cell_of_its_line_hidden():
    """Linked tables: the parts of a count that another table hides must not add up to it."""
    by_group = pd.DataFrame({"ongoing": [7, 5], "primary": [20, 21]}, index=["a", "b"])
    out = privacy.suppress_small_counts(
        by_group, 11, column_totals={"ongoing": privacy.HIDDEN, "primary": 41}
    )
    assert out.loc["a", "ongoing"] == "<11" and out.loc["b", "ongoing"] == "<11"  # primary already
    big = pd.DataFrame({"ongoing": [30, 25], "primary": [20, 21]}, index=["a", "b"])
    out = privacy.suppress_small_counts(big, 11, column_totals={"ongoing": privacy.HIDDEN, "primary": 41})
    assert (out["ongoing"] == privacy.HIDDEN).sum() >= 1  # 30 + 25 would give back the hidden 55
    assert out["primary"].tolist() == [20, 21]


def test_a_table_that_cannot_be_protected_cell_by_cell_hides_every_count():
    # the only other cells of the hidden one's column are zeros, and its column total is stated
    flows = pd.DataFrame({"primary": [31, 0], "acquired": [8, 13]}, index=["primary", "acquired"])
    out = privacy.suppress_small_counts(
        flows, 11, column_totals={"primary": 31, "acquired": 21}, row_totals={"primary": 39, "acquired": 13}
    )
    assert (out == privacy.HIDDEN).all().all()


def test_a_nested_row_that_differs_from_its_parent_by_a_small_count_is_hidden():
    """An attrition table: 73 patients, 66 classified (so 7 not evaluable), 54 of those resistant."""
    attrition = pd.DataFrame(
        {"analysis set": ["all", "classified", "resistant", "progressed"], "patients": [73, 66, 54, 53]}
    )
    nesting = {"classified": "all", "resistant": "classified", "progressed": "resistant"}
    out = privacy.suppress_small_counts(attrition, 11, count_columns=["patients"], nested_rows=nesting)
    # 73 - 66 = 7 hides 66; 54 is compared with 73 (19: shown); 54 - 53 = 1 hides 53
    assert out["patients"].tolist() == [73, privacy.HIDDEN, 54, privacy.HIDDEN]
    plain = privacy.suppress_small_counts(attrition, 11, count_columns=["patients"])
    assert plain["patients"].tolist() == [73, 66, 54, 53]  # without the nesting nothing is hidden
