"""The book pipeline: parameters → cohort → papermill → Jupyter Book.

One parameter file (``params.yml``) drives every notebook, as in CUPiD. The chapters and
their order come from ``_toc.yml``: each entry under ``book/chapters/`` is an executed copy of
the notebook of the same name in ``notebooks/``. Notebooks run into a staging folder; only
when all succeed are they moved into the book and the site rebuilt, and the new site replaces
``_build/html`` in one step, so a failed run leaves the previous book intact.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
import yaml
from papermill.exceptions import PapermillExecutionError
from traitlets.config import Config

from helpers.book.parameters import parameter_problems
from helpers.errors import ParameterError, PipelineError
from helpers.simulate import save_simulated, simulate_cohort

REPO = Path(__file__).resolve().parents[3]
CHAPTER_DIR = "book/chapters"
#: Parameters the pipeline itself consumes (they need not be declared by a notebook).
PIPELINE_PARAMETERS = ("cohort", "seed", "n_patients", "scenario")
#: Parameters the pipeline fills in for every notebook that declares them.
INJECTED = ("results_dir", "chapter")


# ----------------------------------------------------------------------------------------
# parameters
# ----------------------------------------------------------------------------------------
def _coerce_like(default: Any, text: str) -> tuple[Any, str | None]:
    """``text`` (from -p or a YAML file) as the type of ``default``, or the reason it is not."""
    if isinstance(default, bool):
        low = text.strip().lower()
        if low in ("true", "yes", "1"):
            return True, None
        if low in ("false", "no", "0"):
            return False, None
        return text, "must be true or false"
    if isinstance(default, int):
        try:
            return int(text), None
        except ValueError:
            return text, "must be an integer"
    if isinstance(default, float):
        try:
            return float(text), None
        except ValueError:
            return text, "must be a number"
    if isinstance(default, list):
        if text.strip().startswith("["):
            return yaml.safe_load(text), None
        return [t.strip() for t in text.split(",") if t.strip()], None
    return text, None


def load_params(
    params_file: str | Path | None = None, overrides: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Read the default parameters, then ``params_file``, then ``-p key=value`` overrides.

    Every value is checked against :data:`helpers.book.parameters.SCHEMA`; an unknown key, a
    value of the wrong type or outside its range is an error that names every bad parameter
    (:class:`~helpers.errors.ParameterError`), raised before anything runs.
    """
    defaults = yaml.safe_load((REPO / "params.yml").read_text()) or {}
    params = dict(defaults)
    problems: list[str] = []
    unreadable: set[str] = set()
    sources: list[tuple[str, Mapping[str, Any]]] = []
    if params_file:
        path = Path(params_file)
        if not path.is_file():
            raise ParameterError(f"parameter file not found: {path}")
        user = yaml.safe_load(path.read_text()) or {}
        if not isinstance(user, dict):
            raise ParameterError(f"{path}: expected 'key: value' lines")
        sources.append((str(path), user))
    sources.append(("-p", dict(overrides or {})))
    for origin, values in sources:
        for key, value in values.items():
            if key not in defaults:
                problems.append(
                    f"  - {key} (from {origin}): unknown parameter; known: {', '.join(sorted(defaults))}"
                )
                continue
            if value is None:
                continue
            coerced, problem = _coerce_like(defaults[key], str(value))
            if problem:
                problems.append(f"  - {key} = {value!r} (from {origin}): {problem}")
                unreadable.add(key)
            params[key] = coerced
    problems += parameter_problems({k: v for k, v in params.items() if k not in unreadable})
    if problems:
        n = len(problems)
        raise ParameterError(
            f"{n} bad parameter{'s' if n != 1 else ''}; nothing was run:\n" + "\n".join(problems)
        )
    return params


def parse_overrides(items: list[str]) -> dict[str, str]:
    """``["a=1", "b=x"]`` → ``{"a": "1", "b": "x"}`` with a clear error for malformed items."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ParameterError(f"-p expects key=value, got '{item}'")
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
    scenario = params.get("scenario", "default")
    key = f"simulated-{scenario}-n{params['n_patients']}-seed{params['seed']}-{_simulation_fingerprint()}"
    path = cache_dir() / "cohorts" / key
    if (path / "cohort.json").is_file():
        log(f"using cached simulated cohort {path.relative_to(REPO)}")
        return path
    log(f"simulating the {scenario} cohort ({params['n_patients']} patients, seed {params['seed']})")
    t0 = time.perf_counter()
    cohort, truth = simulate_cohort(n_patients=params["n_patients"], seed=params["seed"], scenario=scenario)
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


def _local_kernel_config(socket_dir: Path) -> Config:
    """Kernels that talk over Unix sockets (IPC), not TCP.

    ipykernel warns, once per kernel, that TCP traffic is unencrypted; local IPC sockets are
    reachable only on this machine, so the warning does not arise and no real warning is hidden.
    """
    return Config({"KernelManager": {"transport": "ipc", "ip": str(socket_dir / "kernel")}})


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
    sockets = Path(tempfile.mkdtemp(prefix="icb-kernel-"))  # short path: Unix sockets have a length limit
    try:
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
                    config=_local_kernel_config(sockets),
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
            _fold_code_cells(out)
            timings[stem] = time.perf_counter() - t0
            log(f"    {timings[stem]:.1f} s")
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    return timings


def _fold_code_cells(executed: Path) -> None:
    """Fold the source of every code cell in the book (a reader can unfold it with its toggle).

    The page is read as prose with results: the code is one click away, not in the way. The
    injected-parameters cell (machine-specific paths: the cohort folder, the staging folder) is
    folded like the others. A cell tagged ``remove-cell`` or ``remove-input`` keeps its tag.
    """
    nb = nbformat.read(str(executed), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.setdefault("tags", [])
        if not {"remove-cell", "remove-input", "hide-input"} & set(tags):
            tags.append("hide-input")
    nbformat.write(nb, str(executed))


#: The executed notebooks as papermill wrote them (with this machine's paths), under
#: ``_build/``: what nbval re-executes. The book shows copies without the paths.
EXECUTED_DIR = "executed"

_PATH_ASSIGNMENT = re.compile(r'^(?P<name>\w+) = (?P<quote>["\'])(?P<value>/[^"\']*)(?P=quote)(?P<rest>.*)$')


def _write_without_paths(executed: Path, dest: Path) -> None:
    """Write ``executed`` to ``dest`` with every folder in its injected parameters shown by name.

    The injected-parameters cell and papermill's record in the notebook's metadata hold the
    cohort folder and the staging folder of this machine; a page of the book (or the notebook it
    ships under ``_sources/``) must show neither (DESIGN §8). Each absolute path becomes its last
    part (the cohort's folder name, the chapter's results folder), with a comment that says so.
    """
    nb = nbformat.read(str(executed), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code" or "injected-parameters" not in cell.metadata.get("tags", []):
            continue
        lines = []
        for line in cell.source.splitlines():
            m = _PATH_ASSIGNMENT.match(line)
            if m:
                line = f'{m["name"]} = "{Path(m["value"]).name}"  # a folder, shown by its name'
            lines.append(line)
        cell.source = "\n".join(lines)
    record = nb.metadata.get("papermill")
    if record is not None:  # papermill's own record of the run holds the same paths
        record["input_path"] = f"notebooks/{executed.name}"
        record["output_path"] = f"{CHAPTER_DIR}/{executed.name}"
        record["parameters"] = {
            k: Path(v).name if isinstance(v, str) and v.startswith("/") else v
            for k, v in record.get("parameters", {}).items()
        }
    nbformat.write(nb, str(dest))


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


#: The lock file of a run, inside ``_build/`` (one run at a time per checkout).
LOCK_NAME = ".lock"


def _lock_holder(lock: Path) -> dict[str, Any] | None:
    try:
        holder = json.loads(lock.read_text())
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def _is_running(holder: Mapping[str, Any]) -> bool:
    """Whether the process that wrote a lock still runs (a lock from another host counts as running)."""
    if holder.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(holder.get("pid", -1)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


@contextmanager
def run_lock(build_root: Path, log: Callable[[str], None] = print) -> Iterator[Path]:
    """Hold ``_build/.lock`` (process id, host, start time) while a run uses the checkout.

    A second run refuses with a message naming the first; a lock left by a process that no
    longer runs is taken over. The lock is removed when the block ends, also on Ctrl-C.
    """
    build_root.mkdir(parents=True, exist_ok=True)
    lock = build_root / LOCK_NAME
    mine = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _lock_holder(lock)
            if holder is None or not _is_running(holder):
                what = f"process {holder.get('pid')}" if holder else "an unreadable lock"
                log(f"taking over a stale run lock ({what} no longer runs)")
                lock.unlink(missing_ok=True)
                continue
            raise PipelineError(
                f"another icb-book run (process {holder.get('pid')} on {holder.get('host')}, started "
                f"{holder.get('started')}) is using this checkout; wait for it to finish. If that "
                f"process is gone, remove {lock}."
            ) from None
        with os.fdopen(fd, "w") as handle:
            json.dump(mine, handle)
        break
    else:
        raise PipelineError(f"could not take the run lock {lock}")
    try:
        yield lock
    finally:
        if _lock_holder(lock) == mine:
            lock.unlink(missing_ok=True)


def _publish(
    params: Mapping[str, Any],
    cohort_path: Path,
    todo: list[str],
    staging: Path,
    build_root: Path,
    build: bool,
    timings: dict[str, float],
    log: Callable[[str], None],
) -> Path:
    """Move the executed chapters and their results into the book, then build the site."""
    # all notebooks succeeded: move them into the book, then build
    chapter_dir = REPO / CHAPTER_DIR
    chapter_dir.mkdir(parents=True, exist_ok=True)
    results_final = build_root / "results"
    executed_dir = build_root / EXECUTED_DIR
    executed_dir.mkdir(parents=True, exist_ok=True)
    for stem in todo:
        shutil.copy2(staging / "chapters" / f"{stem}.ipynb", executed_dir / f"{stem}.ipynb")
        _write_without_paths(staging / "chapters" / f"{stem}.ipynb", chapter_dir / f"{stem}.ipynb")
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
    return html


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
    build_root = REPO / "_build"
    staging = build_root / ".staging"
    with run_lock(build_root, log):
        try:
            cohort_path = ensure_cohort(params, log)
            if staging.exists():
                shutil.rmtree(staging)
            staging.mkdir(parents=True)
            timings = execute_notebooks(params, cohort_path, todo, staging, log, progress)
            html = _publish(params, cohort_path, todo, staging, build_root, build, timings, log)
        finally:
            # also on Ctrl-C: the previous site stays, the staging folder and the lock go
            shutil.rmtree(staging, ignore_errors=True)
    return RunResult(html_index=html / "index.html", timings=timings)
