"""Shared fixtures: paths to ../shared and each simulated cohort made once per test run.

`make test` runs the tests in two processes (pytest-xdist, ``--dist loadgroup``). Each test
file runs in one process, so its module fixtures are built once; the files that share the built
book form one group. A simulated cohort is written once per run into the folder the processes
share, under a lock, and read by both.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from pathlib import Path

import pytest

from bookroot import copy_book_sources

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PUBLIC = SHARED / "data" / "public"
REFERENCE = SHARED / "reference"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared not found beside the repository (looked in {SHARED})")
    return SHARED


@pytest.fixture(scope="session")
def public_dir(shared_dir: Path) -> Path:
    return shared_dir / "data" / "public"


@pytest.fixture(scope="session")
def reference_dir(shared_dir: Path) -> Path:
    return shared_dir / "reference"


SMALL_N, SMALL_SEED = 800, 1
DEFAULT_N, DEFAULT_SEED = 5000, 0


#: Test files that use the built book run in one process, so the book is built once.
BOOK_GROUP_FILES = ("test_book.py", "test_browser.py", "test_glue.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Group the tests by file (the book's files together) for ``--dist loadgroup``."""
    for item in items:
        name = item.path.name
        item.add_marker(pytest.mark.xdist_group("book" if name in BOOK_GROUP_FILES else name))


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder every process of this test run shares."""
    base = tmp_path_factory.getbasetemp()
    # under pytest-xdist each worker's basetemp is a subfolder of the run's folder
    return base.parent if base.name.startswith("popen-gw") else base


def made_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], object]) -> Path:
    """``run_folder/name``, made by ``make(path)`` in the first process that asks, under a lock."""
    path = run_folder(tmp_path_factory) / "shared" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (path.parent / f"{name}.done").exists():
            make(path)
            (path.parent / f"{name}.done").touch()
    return path


def _simulate_to(path: Path, n: int, seed: int) -> Path:
    from helpers.simulate import save_simulated, simulate_cohort

    cohort, truth = simulate_cohort(n_patients=n, seed=seed)
    save_simulated(cohort, truth, path)
    return path


def simulated_once(tmp_path_factory: pytest.TempPathFactory, name: str, n: int, seed: int) -> Path:
    """A simulated cohort of ``n`` patients, simulated once per test run."""
    return made_once(tmp_path_factory, name, lambda path: _simulate_to(path, n, seed))


@pytest.fixture(scope="session")
def small_cohort_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated cohort (800 patients), simulated once per test run."""
    return simulated_once(tmp_path_factory, "small", SMALL_N, SMALL_SEED)


@pytest.fixture(scope="session")
def small_cohort(small_cohort_path: Path):
    from helpers.data.cohort import Cohort

    return Cohort.load(small_cohort_path)


@pytest.fixture(scope="session")
def default_cohort_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default cohort (5,000 patients, seed 0): for tests that need its power."""
    return simulated_once(tmp_path_factory, "default", DEFAULT_N, DEFAULT_SEED)


@pytest.fixture(scope="session")
def default_cohort(default_cohort_path: Path):
    from helpers.data.cohort import Cohort

    return Cohort.load(default_cohort_path)


@pytest.fixture(scope="session")
def default_truth(default_cohort_path: Path) -> dict:
    from helpers.simulate import load_truth

    return load_truth(default_cohort_path)


@pytest.fixture(scope="session")
def small_truth(small_cohort_path: Path) -> dict:
    from helpers.simulate import load_truth

    return load_truth(small_cohort_path)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory: pytest.TempPathFactory, small_cohort_path: Path):
    """The whole book, run on the small cohort in a throw-away copy of the sources."""
    root = copy_book_sources(tmp_path_factory.mktemp("book") / "repo")
    from helpers.book import pipeline
    from helpers.book.pipeline import load_params

    mp = pytest.MonkeyPatch()
    mp.setattr(pipeline, "REPO", root)
    try:
        params = load_params()
        params["cohort"] = str(small_cohort_path)
        if "public_dir" in params and PUBLIC.is_dir():
            params["public_dir"] = str(PUBLIC)  # the validation chapter reads the real cohorts
        result = pipeline.run(params, progress=False, log=lambda s: None)
    finally:
        mp.undo()
    return root, result
