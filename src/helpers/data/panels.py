"""Gene panels: gene lists shipped in ``data/panels/`` and read from sources."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from helpers.errors import SourceFormatError

#: Where the shipped gene lists are.
PANEL_DIR = Path(__file__).resolve().parents[3] / "data" / "panels"


def read_gene_list(path: str | PathLike[str]) -> list[str]:
    """Read a gene list file: one symbol per line, ``#`` lines are comments.

    Parameters
    ----------
    path
        File such as ``data/panels/impact468_genes.txt``.

    Returns
    -------
    list of str
        The symbols in file order.

    Raises
    ------
    SourceFormatError
        If a symbol is repeated or the file has no symbols.
    """
    genes: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            symbol = line.strip()
            if symbol and not symbol.startswith("#"):
                genes.append(symbol)
    if not genes:
        raise SourceFormatError(f"{path}: no gene symbols found")
    duplicated = sorted({g for g in genes if genes.count(g) > 1})
    if duplicated:
        raise SourceFormatError(f"{path}: repeated gene symbol(s) {duplicated}")
    return genes
