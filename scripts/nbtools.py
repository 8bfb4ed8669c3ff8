"""Write a chapter notebook from a list of cells (used when a chapter's cells are edited).

Cells are given as ("md" | "code" | "params", source). Notebooks are written without outputs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat


def write_notebook(path: str | Path, cells: list[tuple[str, str]]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, src in cells:
        src = src.strip("\n")
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(src))
        elif kind == "params":
            cell = nbformat.v4.new_code_cell(src)
            # the defaults are hidden in the book; papermill's injected cell shows the values used
            cell.metadata["tags"] = ["parameters", "remove-cell"]
            nb.cells.append(cell)
        else:
            nb.cells.append(nbformat.v4.new_code_cell(src))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    nbformat.write(nb, str(path))
