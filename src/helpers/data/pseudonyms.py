"""Pseudonyms of imported cohorts (DESIGN §7).

An importer replaces every source patient and sample identifier by an opaque pseudonym
(``P`` or ``S`` followed by 10 random hex digits) and sorts the rows of each table by
pseudonym, so neither the identifiers nor the source's row order reach the cohort. The
mapping (``kind``, ``source_id``, ``pseudonym``) is written *beside* the cohort folder
(:func:`pseudonym_path`), never inside it; a re-import reads it back and keeps the pseudonyms
of the identifiers it already knows.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.errors import SourceFormatError, require_columns

#: The columns of a pseudonym mapping.
MAPPING_COLUMNS = ("kind", "source_id", "pseudonym")
#: Pseudonym prefix of each kind of identifier.
PREFIXES = {"patient": "P", "sample": "S"}
#: Columns by which the rows of a pseudonymised table are sorted (those it has, in this order).
SORT_KEYS = ("patient_id", "sample_id", "start_day", "gene", "panel_id")


def pseudonym_path(out_dir: str | Path) -> Path:
    """Where the pseudonym mapping of a cohort folder lives: beside it, never inside it.

    Parameters
    ----------
    out_dir
        The cohort folder.

    Returns
    -------
    pathlib.Path
        ``<out_dir>.pseudonyms.tsv`` in the folder's parent.
    """
    out = Path(out_dir)
    return out.parent / f"{out.name}.pseudonyms.tsv"


def read_pseudonyms(path: str | Path) -> pd.DataFrame:
    """Read a pseudonym mapping written by an importer.

    Parameters
    ----------
    path
        The mapping file (tab-separated).

    Returns
    -------
    pandas.DataFrame
        Columns ``kind`` (patient/sample), ``source_id`` and ``pseudonym``, all text.

    Raises
    ------
    helpers.errors.SourceFormatError
        If a column of the mapping is missing.
    """
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    require_columns(df, MAPPING_COLUMNS, str(path), error=SourceFormatError)
    return df


def pseudonymise(
    ids: Iterable[object],
    prefix: str,
    existing: Mapping[str, str] | None = None,
    rng: np.random.Generator | None = None,
) -> dict[str, str]:
    """Random, unique, opaque pseudonyms (``prefix`` + 10 hex digits) for ``ids``.

    Parameters
    ----------
    ids
        Source identifiers (compared as text; repeats get one pseudonym).
    prefix
        ``P`` for patients, ``S`` for samples.
    existing
        Identifiers already pseudonymised: they keep their pseudonym (a re-import is stable).
    rng
        Draw the tokens from this generator (reproducible); by default they come from the
        operating system's secure source.

    Returns
    -------
    dict
        Source identifier → pseudonym.
    """
    out: dict[str, str] = {}
    used = set((existing or {}).values())
    for i in dict.fromkeys(str(x) for x in ids):
        if existing and i in existing:
            out[i] = existing[i]
            continue
        while True:
            token = (
                secrets.token_hex(5) if rng is None else bytes(rng.integers(0, 256, 5, dtype=np.uint8)).hex()
            )
            p = f"{prefix}{token}"
            if p not in used:
                break
        used.add(p)
        out[i] = p
    return out


def pseudonymise_tables(
    tables: Mapping[str, pd.DataFrame | None],
    existing: pd.DataFrame | None = None,
    seed: int | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Replace the patient and sample identifiers of canonical tables by pseudonyms.

    Parameters
    ----------
    tables
        Canonical tables with source identifiers (``patients`` and ``samples`` define them;
        ``expression`` has one column per sample). None entries are left out.
    existing
        A previous mapping (:func:`read_pseudonyms`) whose pseudonyms are kept.
    seed
        Draw pseudonyms from a seeded generator instead of the secure random source (only for
        in-memory imports of open published data, never for a cohort that is saved).

    Returns
    -------
    (tables, mapping)
        The tables with pseudonyms, each sorted by :data:`SORT_KEYS` (the expression matrix by
        column), and the mapping with :data:`MAPPING_COLUMNS`.
    """
    known: dict[str, dict[str, str]] = {}
    if existing is not None and len(existing):
        for kind in PREFIXES:
            sub = existing[existing["kind"] == kind]
            known[kind] = dict(zip(sub["source_id"], sub["pseudonym"], strict=True))
    rng = np.random.default_rng(seed) if seed is not None else None
    pmap = pseudonymise(tables["patients"]["patient_id"], PREFIXES["patient"], known.get("patient"), rng)
    smap = pseudonymise(tables["samples"]["sample_id"], PREFIXES["sample"], known.get("sample"), rng)
    out: dict[str, pd.DataFrame] = {}
    for name, df in tables.items():
        if df is None:
            continue
        df = df.copy()
        if name == "expression":
            df.columns = [smap[str(c)] for c in df.columns]
            df = df[sorted(df.columns)]
            df.index.name = None
            out[name] = df
            continue
        if "patient_id" in df.columns:
            df["patient_id"] = df["patient_id"].astype(str).map(pmap)
        if "sample_id" in df.columns:
            df["sample_id"] = df["sample_id"].astype(str).map(smap)
        keys = [k for k in SORT_KEYS if k in df.columns]
        out[name] = df.sort_values(keys, kind="mergesort").reset_index(drop=True)
    rows = [("patient", k, v) for k, v in pmap.items()] + [("sample", k, v) for k, v in smap.items()]
    return out, pd.DataFrame(rows, columns=list(MAPPING_COLUMNS))
