"""The book layer: the chapter session, small-cell suppression, published tables and figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers.book import figures, privacy, session, tables  # noqa: E402
from helpers.data.cohort import Cohort  # noqa: E402


@pytest.fixture
def chapter_state():
    """Restore the module-level chapter state after each test."""
    saved = dict(session._state)
    yield session._state
    session._state.clear()
    session._state.update(saved)


def _use(state: dict, *, simulated: bool, access: str, results_dir=None) -> None:
    cohort = Cohort(tables={}, meta={"name": "t", "simulated": simulated, "access": access})
    state.update(cohort=cohort, results_dir=results_dir, chapter="99_test", min_cell_count=11)


def test_suppress_small_counts_hides_exactly_the_counts_from_1_to_10():
    table = pd.DataFrame(
        {"n": [0, 1, 10, 11, 250], "share": [0.0, 0.5, 0.25, 0.75, 1.0], "hr": [1.0, 0.5, 0.6, 0.7, 0.8]},
        index=["a", "b", "c", "d", "e"],
    )
    out = privacy.suppress_small_counts(table, 11)
    assert out["n"].tolist() == [0, "<11", "<11", 11, 250]
    # a share beside a hidden count would give it back; beside 0, 11 and 250 it stays
    assert out["share"].tolist() == [0.0, privacy.HIDDEN, privacy.HIDDEN, 0.75, 1.0]
    assert out["hr"].tolist() == table["hr"].tolist()  # not an integer column, not a share
    # a count beside its total: the next smallest count is hidden with it
    counts = pd.DataFrame(
        {"primary": [41], "acquired": [13], "ongoing": [12], "not_evaluable": [7], "total": [73]}
    )
    out = privacy.suppress_small_counts(counts, 11)
    assert out.iloc[0].tolist() == [41, 13, privacy.HIDDEN, "<11", 73]  # 73 - 41 - 13 - 12 gave back 7


def test_suppress_small_counts_reads_count_rows_of_a_transposed_table():
    table = pd.DataFrame(
        {"NSCLC": [3, 61.5, 3.0], "Melanoma": [40, 58.0, 12.0]}, index=["Patients, n", "Age, median", "ECOG"]
    )
    out = privacy.suppress_small_counts(table, 11, count_columns=[])
    assert out.loc["Patients, n"].tolist() == ["<11", 40]
    assert out.loc["Age, median"].tolist() == [privacy.HIDDEN, 58.0]  # a median of a hidden group size
    assert out.loc["ECOG"].tolist() == [3.0, 12.0]  # neither a count row nor a share row


def test_count_label_suppresses_only_for_restricted_cohorts(chapter_state):
    _use(chapter_state, simulated=False, access="restricted")
    assert [privacy.count_label(n) for n in (0, 5, 10, 11)] == ["0", "<11", "<11", "11"]
    with privacy.open_published_data():
        assert privacy.count_label(5) == "5"
    assert privacy.count_label(5) == "<11"
    _use(chapter_state, simulated=False, access="open")
    assert privacy.count_label(5) == "5"


def test_publish_table_writes_the_suppressed_table(chapter_state, tmp_path, capsys):
    _use(chapter_state, simulated=False, access="restricted", results_dir=tmp_path)
    tables.publish_table(pd.DataFrame({"group": ["x", "y"], "n": [4, 40]}), "counts", index=False, show=False)
    written = pd.read_csv(tmp_path / "counts.csv")
    assert written["n"].tolist() == ["<11", "40"]
    _use(chapter_state, simulated=True, access="open", results_dir=tmp_path)
    tables.publish_table(pd.DataFrame({"group": ["x", "y"], "n": [4, 40]}), "counts", index=False, show=False)
    assert pd.read_csv(tmp_path / "counts.csv")["n"].tolist() == [4, 40]


def test_published_tables_scroll_sideways_and_long_ones_are_folded(chapter_state, tmp_path, monkeypatch):
    _use(chapter_state, simulated=True, access="open", results_dir=tmp_path)
    shown: list[str] = []
    monkeypatch.setattr(tables, "display", lambda obj: shown.append(obj.data))
    short = pd.DataFrame({"gene": ["A", "B"], "q": [0.01, 0.5]})
    tables.publish_table(short, "short", caption="Short table", index=False)
    long = pd.DataFrame({"gene": [f"G{i}" for i in range(tables.MAX_UNFOLDED_ROWS + 1)], "q": 0.5})
    tables.publish_table(long, "long", caption="Long table", index=False)
    assert shown[0].startswith("<div class='result-table' style='overflow-x: auto;")
    assert "<details" not in shown[0]
    assert shown[1].startswith("<details class='result-table-fold'><summary>Long table: 26 rows")
    assert "overflow-x: auto" in shown[1] and shown[1].count("<tr") == len(long) + 1
    assert len(pd.read_csv(tmp_path / "long.csv")) == len(long)  # the CSV holds every row


@pytest.mark.parametrize(("simulated", "marked"), [(True, 1), (False, 0)])
def test_figures_are_marked_simulated_in_one_place(chapter_state, simulated, marked):
    _use(chapter_state, simulated=simulated, access="open")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    figures.mark_simulated(fig)
    figures.mark_simulated(fig)  # marking twice leaves one mark
    assert [t.get_text() for t in fig.texts].count(figures.SIMULATED_MARK) == marked
    plt.close(fig)


def test_the_banner_says_whether_the_data_are_simulated(chapter_state):
    simulated = Cohort(tables={}, meta={"name": "sim", "simulated": True, "access": "open"})
    real = Cohort(tables={}, meta={"name": "real", "simulated": False, "access": "restricted"})
    assert "Simulated data" in session.data_banner(simulated)
    text = session.data_banner(real)
    assert "Real cohort" in text and "suppressed" in text and "Simulated" not in text
