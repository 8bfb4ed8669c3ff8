"""environment.yml (conda) is kept consistent with pyproject.toml; the lock pins the stack."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
import yaml

REPO = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI names
CONDA_NAME = {"dask[distributed]": ["dask", "distributed"]}


def _name(req: str) -> str:
    return re.split(r"[<>=!~ ;]", req, maxsplit=1)[0].strip().lower()


def _spec(req: str) -> str:
    return req[len(_name(req)) :].replace(" ", "")


def test_environment_lists_every_dependency_with_the_same_bounds() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["test"]
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = {}
    for item in env["dependencies"]:
        if isinstance(item, str):
            conda[_name(item)] = _spec(item)
    for req in deps:
        name = _name(req)
        for conda_name in CONDA_NAME.get(name, [name]):
            assert conda_name in conda, f"{conda_name} (from pyproject.toml) missing in environment.yml"
            assert conda[conda_name] == _spec(req).replace("[distributed]", ""), conda_name
    python = project["requires-python"]
    assert conda["python"] == python


def test_lock_pins_every_dependency_and_the_stack() -> None:
    lock = (REPO / "requirements.lock").read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s]+)", lock, flags=re.M))
    pins = {k.lower(): v for k, v in pins.items()}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for req in project["dependencies"] + project["optional-dependencies"]["test"]:
        name = _name(req).split("[")[0]
        assert name in pins, f"{name} is not pinned in requirements.lock"
    assert pins["jupyter-book"].startswith("1.")  # 2.x needs network at build time
    assert int(pins["pandas"].split(".")[0]) < 3  # lifelines requires pandas < 3
