"""The pipeline: parameters, unknown keys, failures that leave the previous book intact."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml

from bookroot import copy_book_sources
from helpers.book import parameters, pipeline
from helpers.book.cli import main
from helpers.book.pipeline import PipelineError, load_params, parse_overrides
from helpers.errors import ParameterError


def test_defaults_and_overrides() -> None:
    p = load_params()
    assert p["benefit_months"] == 6.0 and p["n_patients"] == 5000 and p["cohort"] == ""
    p = load_params(overrides={"benefit_months": "12", "seed": "3"})
    assert p["benefit_months"] == 12.0 and p["seed"] == 3


def test_unknown_parameter_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="benefit_month \\(from -p\\): unknown parameter"):
        load_params(overrides={"benefit_month": "12"})
    f = tmp_path / "p.yml"
    f.write_text("benefit_months: 3\nfdr_typo: 0.2\n")
    with pytest.raises(ParameterError, match="fdr_typo"):
        load_params(f)
    with pytest.raises(ParameterError, match="must be a number"):
        load_params(overrides={"benefit_months": "six"})
    with pytest.raises(ParameterError, match="key=value"):
        parse_overrides(["benefit_months"])
    assert main(["run", "-p", "nonsense=1"]) == 1


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"fdr": "2"}, ["fdr = 2.0: must be a number > 0 and < 1"]),
        ({"benefit_months": "-3"}, ["benefit_months = -3.0: must be a number > 0"]),
        ({"n_patients": "10"}, ["n_patients = 10: must be an integer ≥ 50"]),
        ({"tme_reference": "nearest"}, ["tme_reference = 'nearest': must be one of 'auto', 'shipped'"]),
        ({"tme_lof_genes": "b2m"}, ["tme_lof_genes = ['b2m']: must be a non-empty list of gene symbols"]),
        # every bad parameter is named at once, each with its value and rule
        (
            {"fdr": "0", "min_carriers": "0", "alpha_beta": "nan", "seed": "x"},
            ["fdr = 0.0", "min_carriers = 0", "alpha_beta = nan", "seed = 'x' (from -p): must be an integer"],
        ),
    ],
)
def test_bad_values_fail_before_anything_runs(overrides: dict, named: list[str]) -> None:
    with pytest.raises(ParameterError) as info:
        load_params(overrides=overrides)
    message = str(info.value)
    for text in named:
        assert text in message, message
    assert f"{len(named)} bad parameter" in message
    assert "nothing was run" in message


def test_params_file_and_schema_list_the_same_parameters() -> None:
    defaults = yaml.safe_load(Path(pipeline.REPO, "params.yml").read_text())
    assert list(defaults) == [p.name for p in parameters.SCHEMA]
    # the defaults themselves satisfy the schema, and each parameter's comment is its meaning
    assert parameters.parameter_problems(defaults) == []
    text = Path(pipeline.REPO, "params.yml").read_text()
    for p in parameters.SCHEMA:
        line = next(line for line in text.splitlines() if line.startswith(f"{p.name}:"))
        assert line.split("#", 1)[1].strip() == p.meaning, p.name


def test_a_bad_run_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    build = Path(pipeline.REPO, "_build")
    before = sorted(build.rglob("*")) if build.exists() else []
    assert main(["run", "-p", "fdr=2", "-p", "benefit_months=-3"]) == 1
    after = sorted(build.rglob("*")) if build.exists() else []
    assert after == before


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


def _dead_pid() -> int:
    """The id of a process that has ended (it ran `true` and was reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_second_run_refuses_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    with pipeline.run_lock(tmp_path, log=lambda s: None) as lock:
        holder = json.loads(lock.read_text())
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
        with pytest.raises(PipelineError, match=f"another icb-book run \\(process {os.getpid()}"):
            with pipeline.run_lock(tmp_path, log=lambda s: None):
                pass
        assert lock.is_file()  # the refused run did not remove the holder's lock
    assert not lock.exists()


def test_a_stale_lock_is_taken_over(tmp_path: Path) -> None:
    lock = tmp_path / pipeline.LOCK_NAME
    stale = {"pid": _dead_pid(), "host": socket.gethostname(), "started": "2026-01-01T00:00:00+00:00"}
    lock.write_text(json.dumps(stale))
    said: list[str] = []
    with pipeline.run_lock(tmp_path, log=said.append):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert said and "stale" in said[0] and str(stale["pid"]) in said[0]
    assert not lock.exists()


def test_an_interrupted_run_keeps_the_site_and_leaves_no_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_cohort_path: Path
) -> None:
    root = copy_book_sources(tmp_path / "repo")
    monkeypatch.setattr(pipeline, "REPO", root)
    old_site = root / "_build" / "html"
    old_site.mkdir(parents=True)
    (old_site / "index.html").write_text("previous book")

    def interrupted(*args, **kwargs):
        (root / "_build" / ".staging" / "chapters").mkdir(parents=True, exist_ok=True)
        raise KeyboardInterrupt  # what Ctrl-C raises in the middle of a notebook

    monkeypatch.setattr(pipeline, "execute_notebooks", interrupted)
    params = {"cohort": str(small_cohort_path), "seed": 0, "n_patients": 5000}
    with pytest.raises(KeyboardInterrupt):
        pipeline.run(params, progress=False, log=lambda s: None)
    assert (old_site / "index.html").read_text() == "previous book"
    assert not (root / "_build" / pipeline.LOCK_NAME).exists()
    assert not (root / "_build" / ".staging").exists()


def test_kernels_run_quietly_over_local_sockets(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(6 * 7)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(tmp_path / "a.ipynb"))
    sockets = tmp_path / "s"
    sockets.mkdir()
    config = pipeline._local_kernel_config(sockets)
    assert config.KernelManager.transport == "ipc"
    papermill.execute_notebook(
        str(tmp_path / "a.ipynb"),
        str(tmp_path / "b.ipynb"),
        kernel_name="python3",
        progress_bar=False,
        config=config,
    )
    assert nbformat.read(str(tmp_path / "b.ipynb"), as_version=4).cells[0].outputs[0]["text"] == "42\n"
    assert "without encryption" not in capfd.readouterr().err


@pytest.mark.parametrize("stem", ["01_cohort_overview", "02_resistance_classes", "06_radiotherapy_salvage"])
def test_a_notebook_run_alone_stops_in_its_first_cell_on_a_bad_parameter(stem, tmp_path):
    """papermill without the pipeline: the chapter's first code cell checks the parameters and
    stops with the pipeline's message, before the cohort is opened or anything is written."""
    out, results = tmp_path / "out.ipynb", tmp_path / "results"
    with pytest.raises(papermill.PapermillExecutionError) as failed:
        papermill.execute_notebook(
            str(pipeline.REPO / "notebooks" / f"{stem}.ipynb"),
            str(out),
            parameters={
                "cohort": str(tmp_path / "no_such_cohort"),
                "results_dir": str(results),
                "benefit_months": -3.0,
                "min_cell_count": 0,
            },
            kernel_name="python3",
            progress_bar=False,
            cwd=str(pipeline.REPO),
        )
    assert failed.value.ename == "ParameterError"
    message = failed.value.evalue
    assert message.startswith("2 bad parameters")
    assert "benefit_months = -3.0" in message and "min_cell_count = 0" in message
    executed = nbformat.read(str(out), as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    failing = [
        i for i, c in enumerate(code) if any(o.get("output_type") == "error" for o in c.get("outputs", []))
    ]
    assert failing == [2]  # injected parameters, parameters, then the first cell of the chapter
    assert not results.exists()
