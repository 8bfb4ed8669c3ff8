"""The layout of ``src/helpers`` (DESIGN §2, ARCHITECTURE.md): imports run one way only.

Layers, from the bottom: ``errors``/``units``, ``stats``, ``data``, ``simulate``, ``analysis``,
``plots``, ``book``. A module may import its own layer or a lower one, never a higher one; no
``helpers`` module is imported inside a function, and a third-party import is deferred into a
function only for the optional or slow packages named in :data:`DEFERRABLE`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "helpers"

LAYERS = ("base", "stats", "data", "simulate", "analysis", "plots", "book")
RANK = {name: i for i, name in enumerate(LAYERS)}
BASE_MODULES = {"errors", "units"}

#: Third-party packages that may be imported inside a function, and why.
DEFERRABLE = {
    "dask": "optional scheduler of the TME scoring and the robustness study, slow to load",
    "distributed": "optional cluster of the Dask path, slow to load",
}

MAX_LINES = 900


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> str:
    """The layer of a ``helpers`` module name (``helpers`` itself counts as the base)."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in BASE_MODULES:
        return "base"
    if parts[1] not in RANK:
        raise AssertionError(f"{module}: not in a layer of DESIGN §2 ({', '.join(LAYERS[1:])})")
    return parts[1]


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        target = _resolve(node, module, is_package)
        if target == "helpers":  # from helpers import x: x is a subpackage or module
            return [f"helpers.{alias.name}" for alias in node.names]
        return [target]
    return []


def import_problems(source: str, module: str, is_package: bool = False) -> list[str]:
    """Every import of ``source`` (the text of ``module``) that breaks the layering rules."""
    tree = ast.parse(source)
    problems = []
    own = layer_of(module)
    inside_function: set[int] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for inner in ast.walk(fn):
                if inner is not fn:
                    inside_function.add(id(inner))
    for node in ast.walk(tree):
        for target in _imported(node, module, is_package):
            where = f"{module} line {node.lineno}: import of {target}"
            deferred = id(node) in inside_function
            if target == "helpers" or target.startswith("helpers."):
                if deferred:
                    problems.append(f"{where} inside a function")
                other = layer_of(target)
                if RANK[other] > RANK[own]:
                    problems.append(f"{where}: layer '{own}' may not import the higher layer '{other}'")
            elif deferred and target.split(".")[0] not in DEFERRABLE:
                problems.append(f"{where} inside a function (only {sorted(DEFERRABLE)} may be deferred)")
    return problems


def package_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_sits_in_a_layer():
    for path in package_modules():
        layer_of(module_name(path))


def test_imports_run_one_way_only():
    problems = []
    for path in package_modules():
        problems += import_problems(
            path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py"
        )
    assert not problems, "imports against the direction of DESIGN §2:\n" + "\n".join(problems)


def test_no_module_is_longer_than_the_limit():
    long = {
        module_name(p): n
        for p in package_modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        (
            "from helpers.book.tables import publish_table\n",
            "helpers.plots.lof",
            "may not import the higher layer 'book'",
        ),
        (
            "from helpers.analysis import resistance\n",
            "helpers.simulate.cohort",
            "may not import the higher layer 'analysis'",
        ),
        (
            "from ..analysis.lof import x\n",
            "helpers.data.sources",
            "may not import the higher layer 'analysis'",
        ),
        ("from helpers import pipeline\n", "helpers.stats.survival", "not in a layer"),
        ("def f():\n    from helpers.stats import survival\n", "helpers.analysis.pps", "inside a function"),
        ("def f():\n    import scipy.stats\n", "helpers.stats.meta", "inside a function"),
        ("from helpers.units import DAYS_PER_MONTH\n", "helpers.errors", None),
        ("def f():\n    import dask\n", "helpers.book.cli", None),
        ("from helpers.stats import survival\n", "helpers.analysis.pps", None),
        ("from . import style\n", "helpers.plots.tme", None),
    ],
)
def test_the_checker_catches_what_it_should(source, module, expected):
    if expected == "not in a layer":
        with pytest.raises(AssertionError, match="not in a layer"):
            import_problems(source, module)
        return
    problems = import_problems(source, module)
    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1 and expected in problems[0]
