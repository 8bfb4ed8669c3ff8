"""Gene sets: GMT files and the signatures shipped in ``data/signatures/`` (DESIGN §4)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from helpers.errors import SourceFormatError, Violation, check, raise_violations

__all__ = ["DATA_DIR", "SIGNATURE_DIR", "load_signatures", "read_gmt"]

DATA_DIR = Path(__file__).resolve().parents[3] / "data"
SIGNATURE_DIR = DATA_DIR / "signatures"


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
    helpers.errors.SourceFormatError
        On lines with fewer than three fields, an empty set name or gene field, a gene
        repeated within a set, or a set name defined twice (every broken rule of the file
        is listed, with the numbers of the lines that break it), or a file with no set.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"GMT file not found: {path}")
    gene_sets: dict[str, list[str]] = {}
    rows = []
    defined_on: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for line_no, raw_line in enumerate(handle, start=1):
            line = raw_line.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.rstrip("\t").split("\t")
            name = fields[0].strip()
            genes = [gene.strip() for gene in fields[2:]]
            row = {
                "line": line_no,
                "name": name,
                "fields": len(fields),
                "empty_gene_columns": ", ".join(
                    str(col) for col, gene in enumerate(genes, start=3) if not gene
                ),
                "repeated_genes": ", ".join(sorted(g for g, n in Counter(genes).items() if n > 1 and g)),
                "first_defined_on": defined_on.get(name),
            }
            rows.append(row)
            if name and len(fields) >= 3 and name not in defined_on:
                defined_on[name] = line_no
                gene_sets[name] = genes
    lines = pd.DataFrame(
        rows, columns=["line", "name", "fields", "empty_gene_columns", "repeated_genes", "first_defined_on"]
    ).set_index("line")
    lines["first_defined_on"] = lines["first_defined_on"].astype("Int64")
    violations: list[Violation] = []
    where = str(path)
    check(
        violations,
        lines,
        lines["fields"] < 3,
        table=where,
        column="fields",
        show=["name"],
        rule="a line is 'name<TAB>description<TAB>gene...' with at least one gene",
    )
    check(
        violations,
        lines,
        lines["name"] == "",
        table=where,
        column="name",
        rule="the gene-set name (field 1) must not be empty",
    )
    check(
        violations,
        lines,
        (lines["fields"] >= 3) & (lines["empty_gene_columns"] != ""),
        table=where,
        column="empty_gene_columns",
        show=["name"],
        rule="a gene field must not be empty",
    )
    check(
        violations,
        lines,
        lines["repeated_genes"] != "",
        table=where,
        column="repeated_genes",
        show=["name"],
        rule="a gene must not repeat within a set",
    )
    check(
        violations,
        lines,
        lines["first_defined_on"].notna() & (lines["name"] != ""),
        table=where,
        column="first_defined_on",
        show=["name"],
        rule="a gene-set name must be defined once",
    )
    raise_violations(violations, where=f"{path} is not a valid GMT file", error=SourceFormatError)
    if not gene_sets:
        raise SourceFormatError(f"{path}: no gene set found")
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
    helpers.errors.SourceFormatError
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
                raise SourceFormatError(
                    f"signature {name!r} is defined in both {source[name].name} and {gmt_file.name}"
                )
            library[name] = genes
            source[name] = gmt_file
    if names is None:
        return library
    requested = list(names)
    unknown = [name for name in requested if name not in library]
    if unknown:
        raise KeyError(f"unknown signature(s) {unknown}; shipped in {SIGNATURE_DIR}: {sorted(library)}")
    return {name: list(library[name]) for name in requested}
