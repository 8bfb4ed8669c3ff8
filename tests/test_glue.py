"""Numbers in the prose: the glue module, and every glued value of the built book against its source.

The book-level tests read the book built on the small simulated cohort (fixture ``built_book``):
no chapter prints a result; every key the markdown quotes is glued; and each glued text equals
the formatted value of the cell it came from in the chapter's result CSVs (the published table
for :func:`helpers.book.glue.cell`, ``key_numbers.csv`` for the others), so the prose says what
the downloadable tables say.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers.book import glue, pipeline, session, tables  # noqa: E402
from helpers.data.cohort import Cohort  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
GLUE_ROLE = re.compile(r"\{glue:(?:text|md)\}`([^`:]+)(?::[^`]*)?`")
GLUE_FIGURE = re.compile(r"```\{glue:figure\}\s+(\S+)")


@pytest.fixture
def chapter(tmp_path):
    """A chapter state (restored afterwards) on a restricted real cohort, results in tmp_path."""
    saved = dict(session._state)
    cohort = Cohort(tables={}, meta={"name": "t", "simulated": False, "access": "restricted"})
    session._state.update(
        cohort=cohort, results_dir=tmp_path, chapter="99_test", min_cell_count=11, published={}, glued={}
    )
    yield tmp_path
    session._state.clear()
    session._state.update(saved)


@pytest.mark.parametrize(
    ("p", "shown"),
    [
        (0.0004, "<0.001"),
        (0.001, "0.001"),
        (0.0099, "0.010"),
        (0.01, "0.01"),
        (0.2349, "0.23"),
        (1.0, "1.00"),
    ],
)
def test_p_values_are_printed_as_a_journal_prints_them(p, shown):
    assert glue.format_p(p) == shown


def test_a_missing_number_is_said_in_words():
    assert glue.format_value(float("nan"), ".2f") == glue.NOT_ESTIMABLE
    assert glue.format_value(None, ",d") == glue.NOT_ESTIMABLE
    assert glue.format_value("<11", ",d") == "<11"  # a suppressed count stays as it is shown
    assert glue.format_value(5000, ",d") == "5,000"


def test_a_glued_cell_is_the_suppressed_cell_of_the_published_table(chapter):
    counts = pd.DataFrame({"primary": [4], "acquired": [40], "total": [44]}, index=["all"])
    tables.publish_table(counts, "classes", show=False)
    assert glue.cell("k_primary", "classes", "all", "primary", ",d") == "<11"
    assert glue.cell("k_acquired", "classes", "all", "acquired", ",d") != "4"
    assert glue.cell("k_absent", "no_such_table", "all", "primary", ",d") == glue.NOT_ESTIMABLE
    sources = json.loads((chapter / glue.SOURCES_FILE).read_text())
    assert sources["k_primary"]["table"] == "classes"


def test_counts_and_shares_that_would_reveal_a_small_count_are_suppressed(chapter):
    assert glue.count("k_small", 7, what="patients") == "<11"
    assert glue.count("k_large", 1234, what="patients") == "1,234"
    # 7 of 100 hides the count; 95 of 100 reveals 5 by subtraction; 0 and 50 of 100 are safe
    assert glue.share("s_small", 7, 100, what="x") == glue.SUPPRESSED
    assert glue.share("s_complement", 95, 100, what="x") == glue.SUPPRESSED
    assert glue.share("s_half", 50, 100, what="x") == "50.0 %"
    assert glue.share("s_none", 0, 100, what="x") == "0.0 %"
    numbers = pd.read_csv(chapter / f"{glue.KEY_NUMBERS}.csv").set_index("key")
    assert numbers.loc["k_large", "value"] == 1234
    assert math.isnan(numbers.loc["k_small", "value"])  # the suppressed count is not written either


def test_an_estimate_and_its_interval_are_one_phrase(chapter):
    assert glue.interval("hr", 0.6, 0.54, 0.671, what="HR") == "0.60 (95% CI 0.54–0.67)"
    assert glue.interval("hr_missing", float("nan"), None, None, what="HR") == glue.NOT_ESTIMABLE
    numbers = pd.read_csv(chapter / f"{glue.KEY_NUMBERS}.csv").set_index("key")
    assert numbers.loc["hr_high", "value"] == pytest.approx(0.671)


def test_a_key_cannot_be_glued_twice_with_different_values(chapter):
    glue.value("k", 1.0, ".1f", what="x")
    with pytest.raises(ValueError, match="already glued"):
        glue.value("k", 2.0, ".1f", what="x")


def test_a_figure_that_cannot_be_drawn_is_glued_as_words(chapter, monkeypatch):
    glued: dict[str, object] = {}
    monkeypatch.setattr(glue, "_myst_glue", lambda key, value, display: glued.update({key: value}))
    glue.figure("fig_missing", None, missing="No patient has RNA after progression.")
    assert "No patient has RNA after progression." in glued["fig_missing"].data
    fig = plt.figure()
    glue.figure("fig_drawn", fig)
    assert glued["fig_drawn"] is fig
    assert not plt.fignum_exists(fig.number)  # closed, so never shown twice


# --- the built book ----------------------------------------------------------------------------


def _markdown_keys(nb) -> set[str]:
    keys: set[str] = set()
    for c in nb.cells:
        if c.cell_type == "markdown":
            keys |= set(GLUE_ROLE.findall(c.source)) | set(GLUE_FIGURE.findall(c.source))
    return keys


def _glued_outputs(nb) -> dict[str, str]:
    """Key -> glued text (``<figure>`` for images) of an executed notebook."""
    out: dict[str, str] = {}
    for c in nb.cells:
        for o in c.get("outputs", []):
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            if not name:
                continue
            data = o.get("data", {})
            text = data.get("application/papermill.record/text/plain", "")
            out[name] = "<figure>" if any(k.endswith("image/png") for k in data) else str(text).strip("'\"")
    return out


def _number_or_text(raw: object) -> object:
    """A CSV cell as the table had it: a number, or text such as a suppressed ``<11``."""
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            return raw
    return raw


def test_no_chapter_prints_a_result():
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        for c in nb.cells:
            assert not (c.cell_type == "code" and re.search(r"\bprint\(", c.source)), (
                f"{path.name} prints: {c.source[:80]!r}"
            )


def test_every_quoted_key_is_glued_and_every_glued_value_equals_its_table(built_book):
    root, _ = built_book
    checked = 0
    for stem in pipeline.chapters():
        nb = nbformat.read(str(root / "book" / "chapters" / f"{stem}.ipynb"), as_version=4)
        glued = _glued_outputs(nb)
        quoted = _markdown_keys(nb)
        assert quoted, f"{stem} quotes no glued value"
        assert not quoted - set(glued), f"{stem}: quoted but never glued: {sorted(quoted - set(glued))}"
        results = root / "_build" / "html" / "results" / stem
        sources = json.loads((results / glue.SOURCES_FILE).read_text())
        numbers = (
            pd.read_csv(results / f"{glue.KEY_NUMBERS}.csv").set_index("key")
            if (results / f"{glue.KEY_NUMBERS}.csv").is_file()
            else pd.DataFrame()
        )
        for key, source in sources.items():
            if source.get("figure") or source.get("table") is None:
                continue
            shown = source["shown"]
            if key in glued:
                assert glued[key] == shown, (
                    f"{stem}/{key}: the page shows {glued[key]!r}, the record {shown!r}"
                )
            if source["table"] == glue.KEY_NUMBERS:
                raw = numbers.loc[key, "value"] if key in numbers.index else None
                if source["value"] is None:  # suppressed or not estimable: written as empty
                    assert raw is None or pd.isna(raw), f"{stem}/{key}"
                    continue
            else:
                table = pd.read_csv(results / f"{source['table']}.csv", index_col=None)
                row = source["row"]
                if isinstance(row, dict):
                    hit = table
                    for column, wanted in row.items():
                        hit = hit[hit[column].astype(str) == str(wanted)]
                    assert len(hit) == 1, f"{stem}/{key}: {len(hit)} rows match {row}"
                    raw = hit.iloc[0][source["column"]]
                else:
                    table = table.set_index(table.columns[0])
                    table.index = table.index.astype(str)
                    raw = table.loc[str(row), source["column"]]
                raw = _number_or_text(raw)
            expected = glue.format_value(raw, source["fmt"])
            assert shown == expected, (
                f"{stem}/{key}: prose {shown!r}, table {source['table']} gives {expected!r}"
            )
            checked += 1
    assert checked > 50


def test_a_share_of_one_prints_as_a_spaced_percentage():
    assert glue.format_value(0.8081, ".1%") == "80.8 %"


def test_a_ratio_with_a_meaningless_interval_is_not_quoted_as_an_estimate(chapter):
    shown = glue.interval("hr_sparse", 2653.48, 0.07, 96732237.43, what="HR")
    assert shown.startswith(glue.NOT_ESTIMABLE) and "2653" not in shown
    assert glue.interval("hr_wide", 3.0, 0.5, 40.0, what="HR") == "3.00 (95% CI 0.50–40.00)"
