"""The pipeline: parameters, unknown keys, failures that leave the previous book intact."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml

from bookroot import copy_book_sources
from helpers.book import pipeline
from helpers.book.cli import main
from helpers.book.pipeline import PipelineError, load_params, parse_overrides


def test_defaults_and_overrides() -> None:
    p = load_params()
    assert p["benefit_months"] == 6.0 and p["n_patients"] == 5000 and p["cohort"] == ""
    p = load_params(overrides={"benefit_months": "12", "seed": "3"})
    assert p["benefit_months"] == 12.0 and p["seed"] == 3


def test_unknown_parameter_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="unknown parameter 'benefit_month'"):
        load_params(overrides={"benefit_month": "12"})
    f = tmp_path / "p.yml"
    f.write_text("benefit_months: 3\nfdr_typo: 0.2\n")
    with pytest.raises(PipelineError, match="fdr_typo"):
        load_params(f)
    with pytest.raises(PipelineError, match="must be a number"):
        load_params(overrides={"benefit_months": "six"})
    with pytest.raises(PipelineError, match="key=value"):
        parse_overrides(["benefit_months"])
    assert main(["run", "-p", "nonsense=1"]) == 1


def test_params_file_is_applied(tmp_path: Path) -> None:
    f = tmp_path / "p.yml"
    f.write_text("benefit_months: 3\nmin_exposure_weeks: 4\n")
    p = load_params(f, {"benefit_months": "12"})
    assert p["benefit_months"] == 12.0 and p["min_exposure_weeks"] == 4.0


def test_every_parameter_is_used_by_some_notebook() -> None:
    params = load_params()
    pipeline.check_parameters_used(params, pipeline.chapters())
    with pytest.raises(PipelineError, match="used by no notebook"):
        pipeline.check_parameters_used({**params, "orphan": 1}, pipeline.chapters())


def test_chapters_follow_the_toc() -> None:
    toc = yaml.safe_load(Path(pipeline.REPO, "_toc.yml").read_text())
    assert toc["root"] == "book/intro"
    listed = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    in_toc = [Path(f).name for f in listed if f.startswith("book/chapters/")]
    # the pipeline runs exactly the toc's chapters, in the toc's order
    assert pipeline.chapters() == in_toc
    # and every source notebook is a chapter of the book (none is left out of the toc)
    notebooks = sorted(p.stem for p in Path(pipeline.REPO, "notebooks").glob("*.ipynb"))
    assert sorted(in_toc) == notebooks
    assert len(set(in_toc)) == len(in_toc)


def test_a_toc_chapter_without_a_notebook_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notebooks").mkdir()
    _broken_notebook(tmp_path / "notebooks" / "01_a.ipynb")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: Chapters\n    chapters:\n"
        "      - file: book/chapters/02_b\n      - file: book/chapters/01_a\n"
    )
    monkeypatch.setattr(pipeline, "REPO", tmp_path)
    with pytest.raises(PipelineError, match="02_b"):
        pipeline.chapters()
    (tmp_path / "notebooks" / "02_b.ipynb").write_bytes((tmp_path / "notebooks" / "01_a.ipynb").read_bytes())
    assert pipeline.chapters() == ["02_b", "01_a"]  # the toc's order, not the file names'


def _broken_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('cohort = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise ValueError('planted failure')"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


def test_failing_notebook_names_notebook_and_cell_and_keeps_the_old_book(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_cohort_path: Path
) -> None:
    root = copy_book_sources(tmp_path / "repo")
    monkeypatch.setattr(pipeline, "REPO", root)
    _broken_notebook(root / "notebooks" / "99_broken.ipynb")
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    toc["parts"][0]["chapters"] = [{"file": "book/chapters/99_broken"}]
    (root / "_toc.yml").write_text(yaml.safe_dump(toc))
    old_site = root / "_build" / "html"
    old_site.mkdir(parents=True)
    (old_site / "index.html").write_text("previous book")
    (root / "book" / "chapters").mkdir(parents=True)
    (root / "book" / "chapters" / "99_broken.ipynb").write_text("previous notebook")
    params = load_params()
    params["cohort"] = str(small_cohort_path)
    params = {k: v for k, v in params.items() if k in pipeline.PIPELINE_PARAMETERS}
    with pytest.raises(PipelineError) as info:
        pipeline.run(params, progress=False, log=lambda s: None)
    message = str(info.value)
    assert "notebooks/99_broken.ipynb" in message
    assert "cell 3" in message and "planted failure" in message
    assert (old_site / "index.html").read_text() == "previous book"
    assert (root / "book" / "chapters" / "99_broken.ipynb").read_text() == "previous notebook"


def test_cli_validate_and_simulate(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["simulate", "--out", str(tmp_path / "c"), "--n-patients", "120", "--seed", "5"]) == 0
    assert main(["validate", str(tmp_path / "c")]) == 0
    assert "valid canonical cohort" in capsys.readouterr().out
    (tmp_path / "c" / "patients.parquet").unlink()
    assert main(["validate", str(tmp_path / "c")]) == 1
    assert "patients.parquet is missing" in capsys.readouterr().err
