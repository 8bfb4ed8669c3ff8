"""Shared fixtures: paths to ../shared and one small simulated cohort per session."""

from __future__ import annotations

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


def _simulate_to(path: Path, n: int, seed: int) -> Path:
    from helpers.simulate import save_simulated, simulate_cohort

    cohort, truth = simulate_cohort(n_patients=n, seed=seed)
    save_simulated(cohort, truth, path)
    return path


@pytest.fixture(scope="session")
def small_cohort_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated cohort (800 patients), simulated once per test session."""
    return _simulate_to(tmp_path_factory.mktemp("cohorts") / "small", SMALL_N, SMALL_SEED)


@pytest.fixture(scope="session")
def small_cohort(small_cohort_path: Path):
    from helpers.data.cohort import Cohort

    return Cohort.load(small_cohort_path)


@pytest.fixture(scope="session")
def default_cohort_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default cohort (5,000 patients, seed 0): for tests that need its power."""
    return _simulate_to(tmp_path_factory.mktemp("cohorts") / "default", DEFAULT_N, DEFAULT_SEED)


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
