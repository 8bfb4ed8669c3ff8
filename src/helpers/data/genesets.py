"""Gene sets: GMT files and the signatures shipped in ``data/signatures/`` (DESIGN §4)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from helpers.errors import SourceFormatError

DATA_DIR = Path(__file__).resolve().parents[3] / "data"
SIGNATURE_DIR = DATA_DIR / "signatures"


class GMTFormatError(SourceFormatError):
    """A GMT file is malformed (the message names the file and the line)."""


# ----------------------------------------------------------------------------- GMT files


def read_gmt(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Read a GMT file into an ordered ``{set name: [genes]}`` mapping.

    Each non-blank line is ``name<TAB>description<TAB>gene<TAB>gene...``. Lines starting
    with ``#`` are skipped, trailing tabs at the end of a line are ignored, the
    description may be empty.

    Parameters
    ----------
    path
        The GMT file.

    Returns
    -------
    dict[str, list[str]]
        Gene sets in file order; genes in the order given.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    GMTFormatError
        On a line with fewer than three fields, an empty set name or gene field, a gene
        repeated within a set, a set name defined twice, or a file with no set. The
        message names the file and the line number.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"GMT file not found: {path}")
    gene_sets: dict[str, list[str]] = {}
    defined_on: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for line_no, raw_line in enumerate(handle, start=1):
            line = raw_line.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            where = f"{path}, line {line_no}"
            fields = line.rstrip("\t").split("\t")
            if len(fields) < 3:
                raise GMTFormatError(
                    f"{where}: expected 'name<TAB>description<TAB>gene...' with at least "
                    f"one gene, found {len(fields)} tab-separated field(s)"
                )
            name = fields[0].strip()
            genes = [gene.strip() for gene in fields[2:]]
            if not name:
                raise GMTFormatError(f"{where}: the gene-set name (field 1) is empty")
            empty_columns = [str(col) for col, gene in enumerate(genes, start=3) if not gene]
            if empty_columns:
                raise GMTFormatError(
                    f"{where}: gene set {name!r} has empty gene field(s) at "
                    f"column(s) {', '.join(empty_columns)}"
                )
            if name in gene_sets:
                raise GMTFormatError(
                    f"{where}: gene set {name!r} is defined twice "
                    f"(first on line {defined_on[name]})"
                )
            repeated = sorted(gene for gene, count in Counter(genes).items() if count > 1)
            if repeated:
                raise GMTFormatError(
                    f"{where}: gene set {name!r} lists gene(s) more than once: "
                    f"{', '.join(repeated)}"
                )
            gene_sets[name] = genes
            defined_on[name] = line_no
    if not gene_sets:
        raise GMTFormatError(f"{path}: no gene set found")
    return gene_sets


def load_signatures(names: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Load the signatures shipped in ``data/signatures/*.gmt``.

    Parameters
    ----------
    names
        Signature names to return, in this order. ``None`` returns every shipped
        signature, file by file (files in alphabetical order), in file order.

    Returns
    -------
    dict[str, list[str]]
        ``{signature name: [HGNC symbols]}``.

    Raises
    ------
    FileNotFoundError
        If the signature directory or its GMT files are missing.
    GMTFormatError
        If a file is malformed or two files define the same signature name.
    KeyError
        If a requested name is not shipped (the message lists what is).
    TypeError
        If ``names`` is a single string rather than an iterable of names.
    """
    if isinstance(names, str):
        raise TypeError(f"names must be an iterable of signature names, not the string {names!r}")
    gmt_files = sorted(SIGNATURE_DIR.glob("*.gmt"))
    if not gmt_files:
        raise FileNotFoundError(f"no GMT file found in {SIGNATURE_DIR}")
    library: dict[str, list[str]] = {}
    source: dict[str, Path] = {}
    for gmt_file in gmt_files:
        for name, genes in read_gmt(gmt_file).items():
            if name in library:
                raise GMTFormatError(
                    f"signature {name!r} is defined in both {source[name].name} and {gmt_file.name}"
                )
            library[name] = genes
            source[name] = gmt_file
    if names is None:
        return library
    requested = list(names)
    unknown = [name for name in requested if name not in library]
    if unknown:
        raise KeyError(
            f"unknown signature(s) {unknown}; shipped in {SIGNATURE_DIR}: {sorted(library)}"
        )
    return {name: list(library[name]) for name in requested}
