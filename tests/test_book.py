"""Every chapter runs under papermill on the small simulated cohort, nbval re-execution
reproduces its outputs, the book builds, and no identifier reaches the HTML."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from helpers.book import pipeline

HERE = Path(__file__).resolve().parent


def test_every_chapter_was_executed_and_built(built_book) -> None:
    root, result = built_book
    assert result.html_index.is_file()
    for stem in pipeline.chapters():
        assert (root / "book" / "chapters" / f"{stem}.ipynb").is_file()
        page = root / "_build" / "html" / "book" / "chapters" / f"{stem}.html"
        assert page.is_file(), stem
        html = page.read_text()
        assert "<img" in html, f"{stem} shows no figure"
        assert "Simulated data" in html, f"{stem} does not say the data are simulated"
        results = root / "_build" / "html" / "results" / stem
        assert any(results.glob("*.csv")), f"{stem} wrote no result table"


def test_nbval_reproduces_the_executed_notebooks(built_book) -> None:
    root, _ = built_book
    # the executed notebooks with this machine's paths (the book shows them by name only)
    notebooks = sorted(str(p) for p in (root / "_build" / pipeline.EXECUTED_DIR).glob("*.ipynb"))
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval",
            "-p",
            "no:cacheprovider",
            "-q",
            "--nbval-sanitize-with",
            str(HERE / "nbval_sanitize.cfg"),
            "--rootdir",
            str(root),
            *notebooks,
        ],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert re.search(r"\d+ passed", proc.stdout)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def _public_identifiers(public_dir: Path) -> set[str]:
    """Patient and sample identifiers of the real public cohorts (not bare small numbers)."""
    import pandas as pd

    ids: set[str] = set()
    for table in sorted(public_dir.glob("*/clinical.tsv")) + sorted(public_dir.glob("*/samples.tsv")):
        frame = pd.read_csv(table, sep="\t", low_memory=False, dtype=str)
        for column in ("patient_id", "sample_id"):
            if column in frame.columns:
                ids |= set(frame[column].dropna())
    return {i for i in ids if not re.fullmatch(r"\d{1,4}(\.\d+)?", i)}


#: Embedded images (base64): they hold every short string by chance, and no text a reader sees.
_EMBEDDED_IMAGE = re.compile(r"data:image/[\w.+-]+;base64,[A-Za-z0-9+/=\s]+")


def _site_text(path: Path) -> str | None:
    """The text a file of the built site ships, without its embedded images; None if binary."""
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if path.suffix == ".ipynb":  # executed notebooks: outputs without their image data
        nb = json.loads(text)
        for cell in nb.get("cells", []):
            for output in cell.get("outputs", []):
                data_ = output.get("data", {})
                for mime in [m for m in data_ if "image/" in m and not m.endswith("svg+xml")]:
                    del data_[mime]
        text = "\n".join(_strings(nb))
    return _EMBEDDED_IMAGE.sub(" ", text)


def _strings(node: object) -> list[str]:
    """Every key and text of a notebook's JSON, unescaped (a newline is a newline)."""
    if isinstance(node, dict):
        return [t for k, v in node.items() for t in (str(k), *_strings(v))]
    if isinstance(node, list):
        return [t for v in node for t in _strings(v)]
    return [str(node)]


def test_no_identifier_reaches_the_book(built_book, small_cohort, public_dir) -> None:
    """No patient or sample identifier in any text file the site ships.

    Every file under ``_build/html`` is read (pages, the executed notebooks under ``_sources``,
    result CSVs, ``searchindex.js`` and the other scripts, JSON, text); binary files (images,
    fonts, compiled translations) are skipped. HTML pages are read as their text for whole
    words, every other file as it is; every file is also searched for the identifiers as
    substrings. In ``_static`` (the theme's scripts, styles and icons, copied from packages,
    not written from any cohort) plain numbers are left out of the word check: icon code
    points such as 10001 are not identifiers.
    """
    root, _ = built_book
    ids = set(small_cohort.patients["patient_id"]) | set(small_cohort.samples["sample_id"])
    ids |= _public_identifiers(public_dir)  # the validation chapter shows real cohorts
    site = root / "_build" / "html"
    words: set[str] = set()
    raw = []
    kinds: set[str] = set()
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        text = _site_text(path)
        if text is None:
            continue
        kinds.add(path.suffix)
        raw.append(text)
        if path.suffix == ".html":
            parser = _Text()
            parser.feed(text)
            text = " ".join(parser.chunks)
        found = set(re.findall(r"[\w-]+", text))
        if path.relative_to(site).parts[0] == "_static":
            found = {w for w in found if not w.isdigit()}
        words |= found
    assert {".html", ".ipynb", ".csv", ".js"} <= kinds  # the executed notebooks are read too
    assert not ids & words
    blob = "\n".join(raw)
    # substrings too (attributes, scripts), for identifiers that are not plain numbers, which
    # occur by chance in numeric tables
    assert not [i for i in ids if not i.isdigit() and i in blob]


def test_downloads_are_linked_and_exist(built_book) -> None:
    root, _ = built_book
    site = root / "_build" / "html"
    for stem in pipeline.chapters():
        page = (site / "book" / "chapters" / f"{stem}.html").read_text()
        links = re.findall(r"href='(\.\./\.\./results/[^']+\.csv)'", page)
        assert links, stem
        for link in links:
            assert (site / "book" / "chapters" / link).resolve().is_file(), link
