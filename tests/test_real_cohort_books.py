"""The book on real cohorts: which chapters each public cohort supports, and privacy.

Riaz, IMvigor210, Chowell and LORIS are imported as *restricted* cohorts (the default of an import)
and the chapters they support are executed with papermill exactly as ``icb-book run`` does
(``helpers.book.pipeline.execute_notebooks``), into a temporary folder: the real ``_build/`` is never
touched. Then:

* no source identifier and no pseudonym appears as a word anywhere in the executed notebooks'
  outputs or in the result tables;
* no result table (CSV), rendered table (HTML output) or figure label (the figures are made as
  SVG with text kept as text) shows a non-zero count below ``min_cell_count``;
* no suppressed count of a result table can be worked back: no percentage, share, rate or
  median is shown in the row of a hidden count, and no line with a total (a total column, a
  total row, the ``All`` column of a count row) lets its total minus its shown cells give a
  hidden cell back.

Riaz runs the whole book, so the chapters it does not support must say what is missing
instead of failing. The other cohorts run the chapters they support, except those whose
cohort-dependent part no public cohort can feed (radiotherapy: no RT courses) and chapter 7
(it reads the public cohorts, not the run's cohort); LORIS runs chapters 1-2 (see
:data:`LORIS_CHAPTERS`).
"""

from __future__ import annotations

import json
import re
import warnings

import pandas as pd
import pytest
from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

from helpers.analysis.validation import PUBLIC_COHORTS, chapter_support, support_matrix
from helpers.book import pipeline
from helpers.book.privacy import HIDDEN, suppress_small_counts
from helpers.data.importers import import_tidy, tidy_to_cohort

CH = (
    "01_cohort_overview",
    "02_resistance_classes",
    "03_survival_after_progression",
    "04_acquired_lof",
    "05_tme_states",
    "06_radiotherapy_salvage",
    "07_validation",
)

#: What each public cohort supports (yes / partly / no), chapter by chapter.
SUPPORT = {
    "riaz2017_melanoma_nivolumab": ("yes", "yes", "yes", "no", "partly", "partly", "yes"),
    "gide2019_melanoma_pd1": ("yes", "yes", "yes", "no", "partly", "partly", "yes"),
    "vanallen2015_melanoma_ctla4": ("yes", "yes", "yes", "no", "partly", "partly", "yes"),
    "miao2018_ccrcc_pd1": ("yes", "yes", "yes", "no", "partly", "partly", "yes"),
    "hugo2016_melanoma_pd1": ("yes", "partly", "no", "no", "partly", "partly", "yes"),
    "imvigor210_urothelial_atezolizumab": ("yes", "partly", "no", "no", "partly", "partly", "yes"),
    "chowell2021_pancancer_msk": ("yes", "partly", "yes", "no", "no", "partly", "yes"),
    "chang2024_loris_validation_cohorts": ("yes", "partly", "yes", "no", "no", "partly", "yes"),
    "samstein2019_tmb_mskcc": ("yes", "no", "no", "no", "no", "partly", "yes"),
    "rizvi2018_nsclc_msk": ("yes", "partly", "no", "no", "no", "partly", "yes"),
    "morrison1_melanoma_campbell2023": ("yes", "partly", "no", "no", "no", "partly", "yes"),
}
BOOK_COHORTS = (
    "riaz2017_melanoma_nivolumab",
    "imvigor210_urothelial_atezolizumab",
    "chowell2021_pancancer_msk",
    # many small cancer types: exercises the small-count suppression
    "chang2024_loris_validation_cohorts",
)
#: Chapters run for Riaz only (see the module docstring).
COHORT_INDEPENDENT = ("06_radiotherapy_salvage", "07_validation")
#: LORIS is here for its many small cancer types, which the per-type tables of chapters 1-2
#: must suppress; its survival chapter has the shape of Chowell's (time saved).
LORIS_CHAPTERS = ("01_cohort_overview", "02_resistance_classes")

MIN_CELL_COUNT = 11
#: Tables of published numbers, not of the run's cohort: chapter 7's public cohorts (open
#: published data) and chapter 6's literature (published trials). Chapter 7's figures show
#: the public cohorts only.
PUBLISHED_TABLES = ("public_", "literature_")
PUBLISHED_CAPTIONS = ("open published data", "literature")
#: Columns that hold small integers that are not counts of patients, samples or events
#: (genes of a signature, degrees of freedom, line of therapy, cancer types pooled, ...).
NOT_COUNTS = re.compile(
    r"^(df|dof|degrees of freedom|line|ecog.*|fractions|row|rank|chapter|k|cancer[ _]types)$"
    r"|genes?\b|present|signature|size|weight",
    re.IGNORECASE,
)
COUNT_NAME = re.compile(
    r"(^|[ _:(])(n|patients?|deaths?|events?|courses?|samples?|carriers?|"
    r"count|total|responders?|rows|subjects?|pairs|at risk|studies)($|[ _),])",
    re.IGNORECASE,
)
TICK = re.compile(r"^[xy]tick_\d+$")
#: What a suppressed cell shows: ``<11`` (primary) or the complementary/secondary label.
SUPPRESSED_CELL = re.compile(rf"<\d+|{HIDDEN}")
#: Columns (and, in a transposed table, row labels) of percentages, shares, rates and medians.
SHARE = re.compile(
    r"%|percent|pct|share|proportion|fraction|rate|median|survival_\d|\bq[13]\b", re.IGNORECASE
)
#: A total column of a row line, and the label of a total row (the first column).
TOTAL_COLUMN = re.compile(r"^(total|all|n)$", re.IGNORECASE)
TOTAL_ROW = re.compile(r"^(all|total|overall|pooled)\b", re.IGNORECASE)
WORD = re.compile(r"(?<![\w.])[A-Za-z0-9][A-Za-z0-9_\-]*(?![\w.])")


def test_every_public_cohort_lists_its_chapters(public_dir):
    imported = {f: tidy_to_cohort(public_dir / f, open_data=True) for f in PUBLIC_COHORTS}

    class PC:  # the minimal interface of validation.PublicCohort that support_matrix needs
        def __init__(self, folder, res):
            self.label, self.cohort = PUBLIC_COHORTS[folder], res.cohort

    matrix = support_matrix({f: PC(f, r) for f, r in imported.items()})
    expected = pd.DataFrame({PUBLIC_COHORTS[f]: dict(zip(CH, s, strict=True)) for f, s in SUPPORT.items()}).T
    pd.testing.assert_frame_equal(matrix.loc[expected.index, list(CH)], expected[list(CH)], check_names=False)
    # an unsupported chapter says what is missing
    riaz = chapter_support(imported["riaz2017_melanoma_nivolumab"].cohort)
    assert (
        riaz.loc["04_acquired_lof", "what is missing"]
        == "no post-progression DNA samples (pre-treatment calls only)"
    )


def _chapters_to_run(folder: str) -> list[str]:
    if folder == "riaz2017_melanoma_nivolumab":
        return pipeline.chapters()  # the whole book, as `icb-book run -p cohort=...` runs it
    support = dict(zip(CH, SUPPORT[folder], strict=True))
    stems = [s for s in pipeline.chapters() if support.get(s, "no") != "no"]
    if folder != "riaz2017_melanoma_nivolumab":
        stems = [s for s in stems if s not in COHORT_INDEPENDENT]
    if folder == "chang2024_loris_validation_cohorts":
        stems = [s for s in stems if s in LORIS_CHAPTERS]
    return stems


@pytest.fixture(scope="module")
def svg_kernel_env(tmp_path_factory):
    """Kernels that draw figures as SVG with text kept as <text> (so labels can be read)."""
    root = tmp_path_factory.mktemp("kernel_env")
    profile = root / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_kernel_config.py").write_text("c.InlineBackend.figure_formats = {'svg'}\n")
    (root / "matplotlibrc").write_text("svg.fonttype: none\nsvg.hashsalt: icb-book\n")
    mp = pytest.MonkeyPatch()
    mp.setenv("IPYTHONDIR", str(root / "ipython"))
    mp.setenv("MATPLOTLIBRC", str(root / "matplotlibrc"))
    yield
    mp.undo()


@pytest.fixture(scope="module", params=BOOK_COHORTS)
def book_run(request, public_dir, tmp_path_factory, svg_kernel_env):
    folder = request.param
    work = tmp_path_factory.mktemp(folder[:12])
    res = import_tidy(public_dir / folder, work / "cohort")  # restricted (default)
    assert res.cohort.access == "restricted"
    stems = _chapters_to_run(folder)
    params = pipeline.load_params(None, {"min_cell_count": str(MIN_CELL_COUNT)})
    staging = work / "staging"
    pipeline.execute_notebooks(params, res.path, stems, staging, log=lambda *_: None, progress=False)
    identifiers = set(res.pseudonyms["source_id"]) | set(res.pseudonyms["pseudonym"])
    return {"folder": folder, "stems": stems, "staging": staging, "ids": identifiers}


def _outputs(nb: dict) -> list[tuple[str, str]]:
    """(mime type, text) of every output of every code cell."""
    out = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            if o["output_type"] == "stream":
                out.append(("stream", "".join(o["text"])))
            elif o["output_type"] == "error":
                out.append(("error", o["ename"] + ": " + o["evalue"]))
            else:
                for mime, data in o.get("data", {}).items():
                    # glued outputs carry their mime type after papermill's record prefix
                    if "image/" in mime and not mime.endswith("image/svg+xml"):
                        continue
                    out.append((mime, "".join(data) if isinstance(data, list) else str(data)))
    return out


def _is_small_count(text: str) -> bool:
    t = str(text).strip().replace(",", "")
    try:
        v = float(t)
    except ValueError:
        return False
    return v.is_integer() and 0 < v < MIN_CELL_COUNT


def _table_leaks(table: pd.DataFrame, row_labels: list[str]) -> list[str]:
    """Cells of count columns (or rows labelled ', n') holding a count below the threshold."""
    leaks = []
    for col in table.columns:
        name = str(col).strip().lower()
        if NOT_COUNTS.search(name):
            continue
        values = table[col].dropna().astype(str).str.strip()
        values = values[values != ""]
        if values.empty:
            continue
        integer_like = values.str.fullmatch(rf"-?\d+|<\d+|{HIDDEN}").all()
        if COUNT_NAME.search(name) or integer_like:
            leaks += [f"column '{col}': {v}" for v in values if _is_small_count(v)]
    for label, (_, row) in zip(row_labels, table.iterrows(), strict=True):
        if re.search(r",\s*n$|^n$|^patients$", str(label).strip(), re.IGNORECASE):
            leaks += [f"row '{label}': {v}" for v in row.astype(str) if _is_small_count(v)]
    return leaks


def _cell_number(text: str) -> float | None:
    try:
        return float(str(text).replace(",", ""))
    except ValueError:
        return None


def _gives_back(parts: list[str], total: str) -> bool:
    """Whether a line (cells ``parts`` adding up to ``total``, as the CSV shows them) gives a
    hidden cell back, as a reader would work it out.

    One hidden cell: the total minus the shown cells is its value, if that value fits what its
    label says (``<11``: 1 to 10; a complementary cell: 11 or more; else the cells are no sum).
    Several hidden ``<11`` parts: they are given back when they must all be 1 or all 10.
    """
    cells = [*parts, total]
    if any(c == "" for c in cells):
        return False
    hidden = [i for i, c in enumerate(cells) if SUPPRESSED_CELL.fullmatch(c)]
    numbers = {i: _cell_number(c) for i, c in enumerate(cells) if i not in hidden}
    if not hidden or any(v is None for v in numbers.values()):
        return False
    last = len(cells) - 1
    shown_parts = sum(v for i, v in numbers.items() if i != last)
    if len(hidden) == 1:
        (h,) = hidden
        value = shown_parts if h == last else numbers[last] - shown_parts
        if cells[h] == HIDDEN:
            return value >= MIN_CELL_COUNT
        return 1 <= value < MIN_CELL_COUNT
    if last in hidden or any(cells[i] == HIDDEN for i in hidden):
        return False
    rest = numbers[last] - shown_parts
    return rest in (len(hidden), len(hidden) * (MIN_CELL_COUNT - 1))


def _recoverable(table: pd.DataFrame) -> list[str]:
    """Hidden counts of a result table (CSV text) that the table itself gives back.

    * a percentage, share, rate or median (:data:`SHARE`) shown in the row of a hidden cell,
      or, in a transposed table, in the column of a hidden count row cell;
    * a line with a total that gives a hidden cell back (:func:`_gives_back`): a total column
      (:data:`TOTAL_COLUMN`) with the count columns before it as parts, a total row
      (:data:`TOTAL_ROW`, first column) with the other rows as parts, the ``All`` column of a
      count row (", n") with the other columns as parts.
    """
    problems = []
    labels = table.iloc[:, 0].astype(str).tolist()
    columns = list(table.columns[1:])
    shares = [c for c in columns if SHARE.search(str(c))]

    def countlike(c: str) -> bool:
        values = table[c][table[c] != ""]
        return (
            not NOT_COUNTS.search(str(c))
            and not values.empty
            and values.str.fullmatch(rf"-?\d+(\.0)?|<\d+|{HIDDEN}").all()
        )

    counts = [c for c in columns if c not in shares and countlike(c)]
    count_rows = [i for i, x in enumerate(labels) if re.search(r",\s*n$|^n$", x.strip(), re.IGNORECASE)]
    share_rows = [i for i, x in enumerate(labels) if i not in count_rows and SHARE.search(x)]
    for i, label in enumerate(labels):
        row = table.iloc[i]
        if any(SUPPRESSED_CELL.fullmatch(row[c]) for c in columns if c not in shares):
            shown = [c for c in shares if row[c] != "" and not SUPPRESSED_CELL.fullmatch(row[c])]
            problems += [f"row '{label}': '{c}' = {row[c]} beside a hidden count" for c in shown]
    for i in count_rows:
        for c in columns:
            if SUPPRESSED_CELL.fullmatch(table.iloc[i][c]):
                shown = [
                    labels[k] for k in share_rows if not SUPPRESSED_CELL.fullmatch(table.iloc[k][c] or "<0")
                ]
                problems += [f"column '{c}': '{x}' shown beside a hidden '{labels[i]}'" for x in shown]
    for p, total in enumerate(counts):
        if TOTAL_COLUMN.match(str(total)):
            parts = [c for c in counts[:p] if not TOTAL_COLUMN.match(str(c))]
            for i, label in enumerate(labels):
                row = table.iloc[i]
                if len(parts) > 1 and _gives_back([row[c] for c in parts], row[total]):
                    problems.append(f"row '{label}': {[row[c] for c in parts]} and {total} {row[total]}")
    totals = [i for i, x in enumerate(labels) if TOTAL_ROW.match(x.strip())]
    others = [i for i in range(len(labels)) if i not in totals]
    for t in totals:
        for c in counts:
            cells = [table.iloc[i][c] for i in others]
            if _gives_back(cells, table.iloc[t][c]):
                problems.append(f"column '{c}': {cells} and '{labels[t]}' {table.iloc[t][c]}")
    for i in count_rows:
        row = table.iloc[i]
        for total in [c for c in columns if TOTAL_ROW.match(str(c))]:
            parts = [
                c
                for c in columns
                if c != total and (_cell_number(row[c]) is not None or SUPPRESSED_CELL.fullmatch(row[c]))
            ]
            if _gives_back([row[c] for c in parts], row[total]):
                problems.append(f"row '{labels[i]}': {[row[c] for c in parts]} and {total} {row[total]}")
    return problems


def _html_tables(html: str) -> list[tuple[str, pd.DataFrame, list[str]]]:
    soup = BeautifulSoup(html, "html.parser")
    tables = []
    for t in soup.find_all("table"):
        caption = t.caption.get_text(" ", strip=True) if t.caption else ""
        head = t.find("thead")
        columns = (
            [th.get_text(" ", strip=True) for th in head.find_all("tr")[0].find_all("th")] if head else []
        )
        rows, labels = [], []
        for tr in (t.find("tbody") or t).find_all("tr"):
            cells = tr.find_all(["th", "td"])
            ths = [c for c in cells if c.name == "th"]
            labels.append(ths[0].get_text(" ", strip=True) if ths else "")
            rows.append([c.get_text(" ", strip=True) for c in cells])
        width = max((len(r) for r in rows), default=0)
        cols = (columns + [f"col{i}" for i in range(len(columns), width)])[:width]
        frame = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], columns=cols)
        tables.append((caption, frame, labels))
    return tables


def test_chapters_run_on_the_real_cohort(book_run):
    staging = book_run["staging"]
    for stem in book_run["stems"]:
        nb = json.loads((staging / "chapters" / f"{stem}.ipynb").read_text())
        errors = [t for m, t in _outputs(nb) if m == "error"]
        assert not errors, (stem, errors)
    assert {"01_cohort_overview", "02_resistance_classes"} <= set(book_run["stems"])
    if book_run["folder"] in ("riaz2017_melanoma_nivolumab", "chowell2021_pancancer_msk"):
        assert "03_survival_after_progression" in book_run["stems"]
    if book_run["folder"] == "riaz2017_melanoma_nivolumab":
        assert book_run["stems"] == pipeline.chapters()  # the whole book


def test_no_identifier_reaches_the_book(book_run):
    staging, ids = book_run["staging"], book_run["ids"]
    for stem in book_run["stems"]:
        nb = json.loads((staging / "chapters" / f"{stem}.ipynb").read_text())
        texts = [t for _, t in _outputs(nb)]
        texts += ["".join(c["source"]) for c in nb["cells"]]
        words = set(WORD.findall("\n".join(texts)))
        assert not words & ids, (stem, sorted(words & ids)[:5])
    for csv in (staging / "results").rglob("*.csv"):
        words = set(WORD.findall(csv.read_text()))
        assert not words & ids, (csv.name, sorted(words & ids)[:5])


def test_no_small_count_is_shown(book_run):
    staging = book_run["staging"]
    leaks = []
    for csv in sorted((staging / "results").rglob("*.csv")):
        if csv.name.startswith(PUBLISHED_TABLES):
            continue
        t = pd.read_csv(csv, dtype=str, keep_default_na=False)
        labels = t.iloc[:, 0].tolist()
        leaks += [f"{csv.parent.name}/{csv.name}: {x}" for x in _table_leaks(t, labels)]
    n_tables = n_labels = 0
    for stem in book_run["stems"]:
        nb = json.loads((staging / "chapters" / f"{stem}.ipynb").read_text())
        for mime, text in _outputs(nb):
            if mime == "text/html":
                for caption, frame, labels in _html_tables(text):
                    if any(w in caption.lower() for w in PUBLISHED_CAPTIONS):
                        continue
                    n_tables += 1
                    leaks += [f"{stem} table '{caption}': {x}" for x in _table_leaks(frame, labels)]
            elif mime.endswith("image/svg+xml") and stem != "07_validation":  # shown or glued
                # every text drawn in a figure (bar labels, at-risk numbers, annotations,
                # legends) except tick labels, which are axis scales, not counts
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
                    soup = BeautifulSoup(text, "html.parser")
                for t in soup.find_all("text"):
                    groups = [g.get("id", "") for g in t.parents if g.name == "g"]
                    if any(TICK.match(g) for g in groups):
                        continue
                    label = t.get_text(" ", strip=True)
                    n_labels += 1
                    if _is_small_count(label):
                        leaks.append(f"{stem} figure label: {label} (in {groups[:2]})")
    assert n_tables > 5 and n_labels > 0
    assert not leaks, "\n".join(leaks)


def test_no_suppressed_count_can_be_recovered(book_run):
    """Secondary and complementary suppression: no table gives a hidden count back."""
    staging = book_run["staging"]
    problems, n_hidden = [], 0
    for csv in sorted((staging / "results").rglob("*.csv")):
        if csv.name.startswith(PUBLISHED_TABLES):
            continue
        t = pd.read_csv(csv, dtype=str, keep_default_na=False)
        n_hidden += int(t.apply(lambda col: col.str.fullmatch(SUPPRESSED_CELL.pattern)).to_numpy().sum())
        problems += [f"{csv.parent.name}/{csv.name}: {x}" for x in _recoverable(t)]
    if book_run["folder"] == "riaz2017_melanoma_nivolumab":
        assert n_hidden > 0  # Riaz has small counts: the check is not empty there
    assert not problems, "\n".join(problems)


def test_a_class_count_hidden_in_the_class_table_is_hidden_wherever_chapter_2_states_it(book_run):
    """Linked tables: a class count hidden in the class table stays hidden wherever chapter 2 states it.

    On Riaz, ``classes_overall`` hides not evaluable (7, primary) and ongoing benefit (12, its
    complement); a reader who finds 12 elsewhere in the chapter gets the 7 back as 73 - 41 - 13 - 12.
    """
    if book_run["folder"] != "riaz2017_melanoma_nivolumab":
        pytest.skip("the chapter-2 numbers of Riaz")
    results = book_run["staging"] / "results" / "02_resistance_classes"
    overall = pd.read_csv(results / "classes_overall.csv", dtype=str, keep_default_na=False)
    hidden = [c for c in overall.columns[1:] if SUPPRESSED_CELL.fullmatch(overall.iloc[0][c])]
    assert hidden  # the cohort has a small class
    shown = []
    glued = json.loads((results / "glue_sources.json").read_text())
    for c in hidden:
        text = glued.get(f"ch2_{c}_pct", {}).get("shown", "suppressed")
        if text != "suppressed":
            shown.append(f"glued share of {c}: {text} of all courses")
    basis = pd.read_csv(results / "classification_basis.csv", dtype=str, keep_default_na=False)
    for c in hidden:
        if c in basis and basis[c].map(_cell_number).notna().all():
            shown.append(f"classification_basis: column {c} sums to the class count")
    for flows in sorted(results.glob("transitions_*.csv")):
        t = pd.read_csv(flows, dtype=str, keep_default_na=False)
        for _, row in t.iterrows():
            if row.iloc[0] in hidden and row.iloc[1:].map(_cell_number).notna().all():
                shown.append(f"{flows.name}: row {row.iloc[0]} sums to the class count")
    assert not shown, "\n".join(shown)


def test_the_recovery_checks_find_what_a_reader_recovers():
    """The checks above can fail: the leaks the book had with primary suppression only."""
    reasons = pd.DataFrame({"reason": ["short follow-up"], "courses": ["<11"], "% of all courses": ["5.5"]})
    assert _recoverable(reasons) == ["row 'short follow-up': '% of all courses' = 5.5 beside a hidden count"]
    classes = pd.DataFrame(
        {
            "": ["all"],
            "primary": ["41"],
            "acquired": ["13"],
            "ongoing_benefit": ["12"],
            "not_evaluable": ["<11"],
            "total": ["73"],
        }
    )
    assert len(_recoverable(classes)) == 1  # 73 - 41 - 13 - 12 = 7
    classes["ongoing_benefit"] = HIDDEN
    assert _recoverable(classes) == []  # 7 + 12 = 19: the hidden count lies anywhere in 1..8
    availability = pd.DataFrame({"cancer_type": ["Melanoma", "RCC", "All"], "pre DNA": ["28", "<11", "34"]})
    assert len(_recoverable(availability)) == 1  # 34 - 28 = 6
    attrition = pd.DataFrame({"step": ["All patients", "with DNA"], "patients": ["73", "<11"]})
    assert _recoverable(attrition) == []  # nested steps: 73 - 0 is no count below 11
    ones = pd.DataFrame({"": ["x"], "a": ["<11"], "b": ["<11"], "c": ["50"], "total": ["52"]})
    assert len(_recoverable(ones)) == 1  # 1 + 1
    table1 = pd.DataFrame(
        {
            "": ["Patients, n", "Female, %"],
            "All": ["86", "40.7"],
            "Melanoma": ["80", "38.3"],
            "TNBC": ["<11", "50.0"],
        }
    )
    assert len(_recoverable(table1)) == 2  # 86 - 80 = 6, and the share of a hidden group


def test_the_checks_find_leaks():
    """The checks above can fail: a small count in a count column, a count row, a figure."""
    assert _table_leaks(pd.DataFrame({"patients": ["5", "20"]}), ["a", "b"]) == ["column 'patients': 5"]
    assert _table_leaks(pd.DataFrame({"x": ["<11", "12"], "df": ["1", "1"]}), ["a", "b"]) == []
    t1 = pd.DataFrame({"All": ["1402", "63 (56-71)"], "Breast": ["6", "58 (46-58)"]})
    assert _table_leaks(t1, ["Patients, n", "Age, median (IQR)"]) == ["row 'Patients, n': 6"]
    html = (
        "<table><caption>c</caption><thead><tr><th></th><th>deaths</th></tr></thead>"
        "<tbody><tr><th>a</th><td>3</td></tr></tbody></table>"
    )
    ((caption, frame, labels),) = _html_tables(html)
    assert _table_leaks(frame, labels) == ["column 'deaths': 3"]
    assert WORD.findall("P7d4e25262d, Pt1_pre and 0.10255") == ["P7d4e25262d", "Pt1_pre", "and"]


def test_count_rows_are_suppressed():
    table1 = pd.DataFrame(
        {"All": [1402, "63 (56-71)", 37.0], "Breast": [6, "58 (46-58)", 50.0]},
        index=["Patients, n", "Age, median (IQR)", "Female, %"],
    )
    out = suppress_small_counts(table1, MIN_CELL_COUNT, count_columns=[])
    assert out.loc["Patients, n"].tolist() == [1402, "<11"]
    assert out.loc["Female, %"].tolist() == [37.0, HIDDEN]  # a share of a hidden group size
