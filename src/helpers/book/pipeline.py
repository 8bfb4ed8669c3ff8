"""The book pipeline: parameters → cohort → papermill → Jupyter Book.

One parameter file (``params.yml``) drives every notebook, as in CUPiD. The chapters and
their order come from ``_toc.yml``: each entry under ``book/chapters/`` is an executed copy of
the notebook of the same name in ``notebooks/``. Notebooks run into a staging folder; only
when all succeed are they moved into the book and the site rebuilt, and the new site replaces
``_build/html`` in one step, so a failed run leaves the previous book intact.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
import yaml
from papermill.exceptions import PapermillExecutionError

from helpers.errors import PipelineError
from helpers.simulate import save_simulated, simulate_cohort

REPO = Path(__file__).resolve().parents[3]
CHAPTER_DIR = "book/chapters"
#: Parameters the pipeline itself consumes (they need not be declared by a notebook).
PIPELINE_PARAMETERS = ("cohort", "seed", "n_patients")
#: Parameters the pipeline fills in for every notebook that declares them.
INJECTED = ("results_dir", "chapter")


# ----------------------------------------------------------------------------------------
# parameters
# ----------------------------------------------------------------------------------------
def _coerce_like(default: Any, text: str, key: str) -> Any:
    if isinstance(default, bool):
        low = text.strip().lower()
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
        raise PipelineError(f"parameter '{key}' must be true or false, got '{text}'")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise PipelineError(f"parameter '{key}' must be an integer, got '{text}'") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise PipelineError(f"parameter '{key}' must be a number, got '{text}'") from None
    if isinstance(default, list):
        return (
            yaml.safe_load(text)
            if text.strip().startswith("[")
            else [t.strip() for t in text.split(",") if t.strip()]
        )
    return text


def load_params(
    params_file: str | Path | None = None, overrides: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Read the default parameters, then ``params_file``, then ``-p key=value`` overrides.

    An unknown key, in the file or on the command line, is an error.
    """
    defaults = yaml.safe_load((REPO / "params.yml").read_text()) or {}
    params = dict(defaults)
    if params_file:
        path = Path(params_file)
        if not path.is_file():
            raise PipelineError(f"parameter file not found: {path}")
        user = yaml.safe_load(path.read_text()) or {}
        if not isinstance(user, dict):
            raise PipelineError(f"{path}: expected 'key: value' lines")
        unknown = sorted(set(user) - set(defaults))
        if unknown:
            raise PipelineError(
                f"{path}: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(defaults))}"
            )
        for k, v in user.items():
            params[k] = _coerce_like(defaults[k], str(v), k) if v is not None else defaults[k]
    for k, v in (overrides or {}).items():
        if k not in defaults:
            raise PipelineError(f"unknown parameter '{k}' (from -p); known: {', '.join(sorted(defaults))}")
        params[k] = _coerce_like(defaults[k], v, k)
    if params.get("n_patients", 1) < 50:
        raise PipelineError("n_patients must be at least 50")
    return params


def parse_overrides(items: list[str]) -> dict[str, str]:
    """``["a=1", "b=x"]`` → ``{"a": "1", "b": "x"}`` with a clear error for malformed items."""
    out = {}
    for item in items:
        if "=" not in item:
            raise PipelineError(f"-p expects key=value, got '{item}'")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


# ----------------------------------------------------------------------------------------
# cohort
# ----------------------------------------------------------------------------------------
def _simulation_fingerprint() -> str:
    """Hash of the simulator's code and the data files it reads (part of the cache key)."""
    h = hashlib.sha256()
    for f in sorted((REPO / "src/helpers/simulate").glob("*.py")):
        h.update(f.read_bytes())
    for f in sorted((REPO / "data/signatures").glob("*.gmt")):
        h.update(f.read_bytes())
    h.update((REPO / "data/panels/impact468_genes.txt").read_bytes())
    return h.hexdigest()[:10]


def cache_dir() -> Path:
    return REPO / ".cache"


def ensure_cohort(params: Mapping[str, Any], log: Callable[[str], None] = print) -> Path:
    """The cohort folder of a run: the given one, or the cached default simulated cohort."""
    given = str(params.get("cohort") or "").strip()
    if given:
        path = Path(given).expanduser().resolve()
        if not path.is_dir():
            raise PipelineError(f"cohort folder not found: {path}")
        return path
    key = f"simulated-n{params['n_patients']}-seed{params['seed']}-{_simulation_fingerprint()}"
    path = cache_dir() / "cohorts" / key
    if (path / "cohort.json").is_file():
        log(f"using cached simulated cohort {path.relative_to(REPO)}")
        return path
    log(f"simulating the default cohort ({params['n_patients']} patients, seed {params['seed']})")
    t0 = time.perf_counter()
    cohort, truth = simulate_cohort(n_patients=params["n_patients"], seed=params["seed"])
    save_simulated(cohort, truth, path)
    log(f"  done in {time.perf_counter() - t0:.1f} s → {path.relative_to(REPO)}")
    return path


# ----------------------------------------------------------------------------------------
# notebooks
# ----------------------------------------------------------------------------------------
def chapters() -> list[str]:
    """Chapter notebook stems in book order, read from ``_toc.yml``."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    stems: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            f = node.get("file")
            if isinstance(f, str) and f.startswith(CHAPTER_DIR + "/"):
                stems.append(Path(f).name.removesuffix(".ipynb"))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(toc)
    missing = [s for s in stems if not (REPO / "notebooks" / f"{s}.ipynb").is_file()]
    if missing:
        raise PipelineError(f"_toc.yml lists chapters without a notebook in notebooks/: {', '.join(missing)}")
    return stems


def declared_parameters(stem: str) -> dict[str, Any]:
    """Parameters a notebook declares in its cell tagged ``parameters``."""
    info = pm.inspect_notebook(str(REPO / "notebooks" / f"{stem}.ipynb"))
    return {k: v for k, v in info.items()}


def check_parameters_used(params: Mapping[str, Any], stems: list[str]) -> None:
    """Every parameter of params.yml must be used by the pipeline or some notebook."""
    declared: set[str] = set(PIPELINE_PARAMETERS)
    for s in stems:
        declared |= set(declared_parameters(s))
    unused = sorted(set(params) - declared)
    if unused:
        raise PipelineError(
            f"parameter(s) {', '.join(unused)} in params.yml are used by no "
            "notebook: remove them or declare them in a notebook"
        )


@dataclass
class RunResult:
    html_index: Path
    timings: dict[str, float]


def execute_notebooks(
    params: Mapping[str, Any],
    cohort_path: Path,
    stems: list[str],
    staging: Path,
    log: Callable[[str], None] = print,
    progress: bool = True,
) -> dict[str, float]:
    """Run each chapter notebook with papermill into ``staging``; stop at the first failure."""
    timings: dict[str, float] = {}
    (staging / "chapters").mkdir(parents=True, exist_ok=True)
    for i, stem in enumerate(stems, 1):
        declared = declared_parameters(stem)
        values = {k: v for k, v in params.items() if k in declared}
        values["cohort"] = str(cohort_path)
        if "results_dir" in declared:
            values["results_dir"] = str(staging / "results" / stem)
        if "chapter" in declared:
            values["chapter"] = stem
        values = {k: v for k, v in values.items() if k in declared}
        out = staging / "chapters" / f"{stem}.ipynb"
        log(f"[{i}/{len(stems)}] {stem}")
        t0 = time.perf_counter()
        try:
            pm.execute_notebook(
                str(REPO / "notebooks" / f"{stem}.ipynb"),
                str(out),
                parameters=values,
                progress_bar=progress,
                cwd=str(REPO),
                kernel_name="python3",
                log_output=False,
            )
        except PapermillExecutionError as exc:
            first = (exc.source or "").strip().splitlines()
            number = _source_cell_number(out, exc.cell_index)
            raise PipelineError(
                f"notebook notebooks/{stem}.ipynb failed in cell {number} (counting from 1 in "
                f"the source notebook) starting '{first[0] if first else ''}':\n"
                f"  {exc.ename}: {exc.evalue}\n"
                f"The executed copy with the full traceback is {out}. "
                "The previously built book is unchanged."
            ) from None
        _fold_injected_parameters(out)
        timings[stem] = time.perf_counter() - t0
        log(f"    {timings[stem]:.1f} s")
    return timings


def _fold_injected_parameters(executed: Path) -> None:
    """Fold papermill's injected-parameters cell in the book (a reader can unfold it).

    It holds machine-specific paths (the cohort folder, the staging folder), which are
    noise on the page; the values of the run stay one click away.
    """
    nb = nbformat.read(str(executed), as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "hide-input" not in tags:
            tags.append("hide-input")
    nbformat.write(nb, str(executed))


def _source_cell_number(executed: Path, cell_index: int) -> int:
    """1-based number of a cell in the source notebook (papermill adds an injected cell)."""
    try:
        cells = nbformat.read(str(executed), as_version=4).cells[: cell_index + 1]
    except Exception:  # the executed copy could not be read: fall back on papermill's index
        return cell_index + 1
    return sum("injected-parameters" not in c.metadata.get("tags", []) for c in cells)


def build_book(staging: Path, log: Callable[[str], None] = print) -> Path:
    """Build the site with Jupyter Book 1.x (warnings are errors) into ``staging``."""
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [
        str(jb) if jb.exists() else "jupyter-book",
        "build",
        str(REPO),
        "--path-output",
        str(staging),
        "-W",
        "-n",
        "--keep-going",
        "--quiet",
    ]
    log("building the book with Jupyter Book")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-40:])
        raise PipelineError(
            f"Jupyter Book failed (warnings are errors):\n{tail}\nThe previously built book is unchanged."
        )
    return staging / "_build" / "html"


def run(
    params: Mapping[str, Any],
    only: list[str] | None = None,
    build: bool = True,
    log: Callable[[str], None] = print,
    progress: bool = True,
) -> RunResult:
    """Run the whole book (or only some chapters) and build the site into ``_build/html``."""
    stems = chapters()
    check_parameters_used(params, stems)
    if only:
        unknown = [s for s in only if s not in stems]
        if unknown:
            raise PipelineError(f"unknown chapter(s) {', '.join(unknown)}; chapters: {', '.join(stems)}")
    todo = [s for s in stems if not only or s in only or not (REPO / CHAPTER_DIR / f"{s}.ipynb").is_file()]
    cohort_path = ensure_cohort(params, log)
    build_root = REPO / "_build"
    staging = build_root / ".staging"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    timings = execute_notebooks(params, cohort_path, todo, staging, log, progress)

    # all notebooks succeeded: move them into the book, then build
    chapter_dir = REPO / CHAPTER_DIR
    chapter_dir.mkdir(parents=True, exist_ok=True)
    results_final = build_root / "results"
    for stem in todo:
        shutil.copy2(staging / "chapters" / f"{stem}.ipynb", chapter_dir / f"{stem}.ipynb")
        src = staging / "results" / stem
        dst = results_final / stem
        if dst.exists():
            shutil.rmtree(dst)
        if src.exists():
            shutil.copytree(src, dst)
    (build_root / "params_used.yml").write_text(
        yaml.safe_dump({**dict(params), "cohort": str(cohort_path)}, sort_keys=True)
    )
    html = build_root / "html"
    if build:
        t0 = time.perf_counter()
        new_html = build_book(staging / "site", log)
        timings["(book build)"] = time.perf_counter() - t0
        if results_final.exists():
            shutil.copytree(results_final, new_html / "results", dirs_exist_ok=True)
        old = build_root / ".html.old"
        if old.exists():
            shutil.rmtree(old)
        if html.exists():
            html.rename(old)
        new_html.rename(html)
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)
    return RunResult(html_index=html / "index.html", timings=timings)
