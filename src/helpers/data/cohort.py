"""The canonical cohort: one Parquet file per table, ``cohort.json`` metadata, validation on load.

A cohort folder holds ``patients.parquet``, ``icb_courses.parquet``, ``samples.parquet`` and,
where the source has them, ``mutations.parquet``, ``cna.parquet``, ``panels.parquet``,
``expression.parquet`` (genes as rows, one column per RNA sample) and
``radiotherapy.parquet``. Time is in days (floats) relative to the start of the index ICB
course; earlier events are negative. The tables and their columns are defined in
:mod:`helpers.data.schema`; :mod:`helpers.data.validate` checks them when a cohort is saved
(made by the simulator or an importer). The save stamps ``cohort.json`` with a content hash of
the table files and metadata; a load re-validates only when the files no longer match the stamp
(or the rules changed since), so a chapter does not re-check a cohort that nothing has touched.
Tables are read when first used, so a chapter that never touches the expression matrix never
reads it. Only the known table files and ``cohort.json`` are read, as Parquet and JSON: nothing
that could execute code (DESIGN §7).
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import tempfile
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.data.schema import REQUIRED_TABLES, TABLES
from helpers.data.validate import VALIDATOR_VERSION, validate
from helpers.errors import CohortValidationError, Violation

#: The key of ``cohort.json`` that records the validation stamp (content hash + rules version).
STAMP_KEY = "validated"


def content_hash(folder: Path, meta: Mapping[str, Any]) -> str:
    """SHA-256 of a cohort folder's table files (in :data:`TABLES` order) and its metadata.

    The metadata enter without the stamp itself, as canonical JSON; any other file in the
    folder (``truth.json``, notes) is not part of the cohort and does not enter.
    """
    digest = hashlib.sha256()
    for name in TABLES:
        f = folder / f"{name}.parquet"
        if not f.is_file():
            continue
        digest.update(name.encode() + b"\0")
        with f.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    plain = {k: v for k, v in meta.items() if k != STAMP_KEY}
    digest.update(json.dumps(_jsonable(plain), sort_keys=True).encode())
    return digest.hexdigest()


def _read_table(folder: Path, name: str) -> pd.DataFrame:
    df = pd.read_parquet(folder / f"{name}.parquet")
    if name == "expression":
        if "gene" not in df.columns:
            raise CohortValidationError(
                [Violation("expression", "gene", "the first column must be 'gene'", 1)], where=str(folder)
            )
        df = df.set_index("gene")
        df.columns = df.columns.astype(str)
    return df


class _TablesOnDisk(MutableMapping):
    """The tables of a cohort folder, each read from its Parquet file when first used."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._names = [n for n in TABLES if (folder / f"{n}.parquet").is_file()]
        self._loaded: dict[str, pd.DataFrame | None] = {}

    def __getitem__(self, name: str) -> pd.DataFrame | None:
        if name not in self._loaded:
            if name not in self._names:
                raise KeyError(name)
            self._loaded[name] = _read_table(self._folder, name)
        return self._loaded[name]

    def __setitem__(self, name: str, table: pd.DataFrame | None) -> None:
        if name not in self._names:
            self._names.append(name)
        self._loaded[name] = table

    def __delitem__(self, name: str) -> None:
        self._names.remove(name)
        self._loaded.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)


@dataclass
class Cohort:
    """A canonical cohort: tables (DataFrames) plus metadata (``cohort.json``).

    Build one from tables and validate it, or :meth:`load` one from a folder (validated).
    ``expression`` is genes × samples (index = gene symbol, columns = sample_id).
    """

    tables: MutableMapping[str, pd.DataFrame | None]
    meta: dict[str, Any] = field(default_factory=dict)

    # -- table accessors ---------------------------------------------------------------
    def table(self, name: str) -> pd.DataFrame | None:
        """The table ``name``, or None where the cohort does not have it."""
        if name not in TABLES:
            raise KeyError(f"unknown table '{name}'; tables are {', '.join(TABLES)}")
        return self.tables.get(name)

    def has(self, name: str) -> bool:
        """True when the cohort has a non-empty table ``name``."""
        t = self.tables.get(name)
        return t is not None and t.size > 0

    @property
    def patients(self) -> pd.DataFrame:
        return self.tables["patients"]

    @property
    def icb_courses(self) -> pd.DataFrame:
        return self.tables["icb_courses"]

    @property
    def samples(self) -> pd.DataFrame:
        return self.tables["samples"]

    @property
    def mutations(self) -> pd.DataFrame | None:
        return self.tables.get("mutations")

    @property
    def cna(self) -> pd.DataFrame | None:
        return self.tables.get("cna")

    @property
    def panels(self) -> pd.DataFrame | None:
        return self.tables.get("panels")

    @property
    def expression(self) -> pd.DataFrame | None:
        return self.tables.get("expression")

    @property
    def radiotherapy(self) -> pd.DataFrame | None:
        return self.tables.get("radiotherapy")

    @property
    def performance_status(self) -> pd.DataFrame | None:
        return self.tables.get("performance_status")

    @property
    def name(self) -> str:
        return str(self.meta.get("name", "unnamed cohort"))

    @property
    def simulated(self) -> bool:
        return bool(self.meta.get("simulated", False))

    @property
    def access(self) -> str:
        return str(self.meta.get("access", "restricted"))

    def index_courses(self) -> pd.DataFrame:
        """The index ICB course of each patient (the course starting on day 0)."""
        c = self.icb_courses
        return c[c["start_day"] == 0].reset_index(drop=True)

    # -- I/O ---------------------------------------------------------------------------
    def save(
        self,
        path: str | Path,
        *,
        extra_json: Mapping[str, Any] | None = None,
        extra_tables: Mapping[str, pd.DataFrame] | None = None,
    ) -> Path:
        """Validate the cohort and write it to folder ``path`` atomically.

        Parameters
        ----------
        path
            The cohort folder; an existing one is replaced only once the new one is complete,
            so a failed write leaves it intact.
        extra_json
            File names mapped to JSON-serialisable objects written beside the tables (e.g.
            ``truth.json``).
        extra_tables
            File stems mapped to DataFrames written as Parquet beside the tables.

        Returns
        -------
        pathlib.Path
            The folder written.

        Raises
        ------
        helpers.errors.CohortValidationError
            If the cohort breaks a rule of the data model (nothing is written).
        """
        path = Path(path)
        validate(self)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        try:
            for name, df in self.tables.items():
                if df is None:
                    continue
                if name == "expression":
                    out = df.copy()
                    out.index.name = "gene"
                    out = out.reset_index()
                else:
                    out = df.reset_index(drop=True)
                out.to_parquet(tmp / f"{name}.parquet", index=False)
            for stem, df in (extra_tables or {}).items():
                df.reset_index(drop=True).to_parquet(tmp / f"{stem}.parquet", index=False)
            meta = {k: v for k, v in self.meta.items() if k != STAMP_KEY}
            meta[STAMP_KEY] = {"sha256": content_hash(tmp, meta), "rules": VALIDATOR_VERSION}
            (tmp / "cohort.json").write_text(json.dumps(_jsonable(meta), indent=2) + "\n")
            for fname, obj in (extra_json or {}).items():
                (tmp / fname).write_text(json.dumps(_jsonable(obj), indent=2) + "\n")
            if path.exists():
                backup = path.with_name(f".{path.name}.old")
                if backup.exists():
                    shutil.rmtree(backup)
                path.rename(backup)
                tmp.rename(path)
                shutil.rmtree(backup)
            else:
                tmp.rename(path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | Path, *, validate_tables: bool = True) -> Cohort:
        """Open a cohort folder; validate it unless its stamp shows it valid and untouched.

        Only ``cohort.json`` and the Parquet files of :data:`~helpers.data.schema.TABLES` are
        read, each when first used; any other file in the folder is ignored. The stamp that
        :meth:`save` writes holds the content hash of the files (:func:`content_hash`) and the
        version of the rules; when both match, the cohort is the one that was validated and is
        not checked again; otherwise (edited, copied in by hand, older rules) it is validated.

        Parameters
        ----------
        path
            The cohort folder.
        validate_tables
            False skips the validation (for a cohort known to be valid).

        Raises
        ------
        FileNotFoundError
            If the folder does not exist.
        helpers.errors.CohortValidationError
            If ``cohort.json`` or a required table is missing, or a rule is broken.
        """
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"cohort folder not found: {path}")
        meta_file = path / "cohort.json"
        if not meta_file.is_file():
            raise CohortValidationError(
                [Violation("cohort.json", "-", "the cohort folder must contain cohort.json", 1)],
                where=str(path),
            )
        try:
            meta = json.loads(meta_file.read_text())
        except json.JSONDecodeError as exc:
            raise CohortValidationError(
                [Violation("cohort.json", "-", f"is not valid JSON ({exc})", 1)], where=str(path)
            ) from None
        missing = [t for t in REQUIRED_TABLES if not (path / f"{t}.parquet").is_file()]
        if missing:
            raise CohortValidationError(
                [Violation(t, "-", f"required table file {t}.parquet is missing", 1) for t in missing],
                where=str(path),
            )
        cohort = cls(tables=_TablesOnDisk(path), meta=meta)
        if validate_tables and not is_stamped_valid(path, meta):
            validate(cohort, where=str(path))
        return cohort

    def read_json(self, path: str | Path, fname: str) -> Any:
        """Read a JSON file stored beside a saved cohort (e.g. ``truth.json``)."""
        return json.loads((Path(path) / fname).read_text())


def is_stamped_valid(folder: Path, meta: Mapping[str, Any]) -> bool:
    """Whether ``cohort.json``'s stamp matches the folder's files and the current rules."""
    stamp = meta.get(STAMP_KEY)
    if not isinstance(stamp, Mapping) or stamp.get("rules") != VALIDATOR_VERSION:
        return False
    return stamp.get("sha256") == content_hash(folder, meta)


def _jsonable(obj: Any) -> Any:
    """Convert numpy scalars and NaN for JSON."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return None if math.isnan(f) else f
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


# ----------------------------------------------------------------------------------------
# derived fields
# ----------------------------------------------------------------------------------------
def sample_timepoints(cohort: Cohort) -> pd.Series:
    """Derive pre/on/post for every sample (indexed by sample_id).

    pre: collected on or before day 0 (the index course start); post: on or after the index
    course's progression; on: in between. A sample without a collection day keeps the
    source's ``timepoint`` label.
    """
    sam = cohort.samples
    prog = cohort.index_courses().set_index("patient_id")["progression_day"]
    day = pd.to_numeric(sam["collection_day"], errors="coerce")
    p = pd.to_numeric(sam["patient_id"].map(prog), errors="coerce")
    tp = np.where(day <= 0, "pre", np.where(p.notna() & (day >= p), "post", "on"))
    result = pd.Series(tp, index=sam["sample_id"].to_numpy(), name="timepoint", dtype=object)
    if "timepoint" in sam.columns:
        label = sam["timepoint"].to_numpy()
        result[day.isna().to_numpy()] = label[day.isna().to_numpy()]
    result[day.isna().to_numpy() & pd.isna(result.to_numpy())] = None
    return result
