"""The public cohorts of chapter 7: where they are, how they overlap, how they are loaded.

Each cohort of ``../shared/data/public/`` is imported twice with :mod:`helpers.data.importers`
as open published data: with the importers' default death rule (the book's rule, DESIGN §4)
and with ``death_is_progression=True`` (the convention of FACTS.md, where every PFS event is a
progression). The small survival and class helpers here are what the facts and the other
chapters' checks read from an imported cohort.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.analysis.resistance import explain_resistance
from helpers.analysis.result import AnalysisResult
from helpers.data.cohort import Cohort
from helpers.data.importers import ImportResult, tidy_to_cohort
from helpers.stats.survival import kaplan_meier, km_median
from helpers.units import DAYS_PER_MONTH

REPO = Path(__file__).resolve().parents[4]
#: Where the public cohorts are looked for when the parameter ``public_dir`` is empty.
DEFAULT_PUBLIC_DIR = "../shared/data/public"

#: The public cohorts, in the order of the chapter, with a short label.
PUBLIC_COHORTS: dict[str, str] = {
    "riaz2017_melanoma_nivolumab": "Riaz 2017 (melanoma, nivolumab)",
    "gide2019_melanoma_pd1": "Gide 2019 (melanoma, anti-PD-1)",
    "vanallen2015_melanoma_ctla4": "Van Allen 2015 (melanoma, ipilimumab)",
    "miao2018_ccrcc_pd1": "Miao 2018 (ccRCC, anti-PD-(L)1)",
    "hugo2016_melanoma_pd1": "Hugo 2016 (melanoma, anti-PD-1)",
    "imvigor210_urothelial_atezolizumab": "IMvigor210 (urothelial, atezolizumab)",
    "chowell2021_pancancer_msk": "Chowell 2021 (MSK pan-cancer)",
    "chang2024_loris_validation_cohorts": "LORIS 2024 (7 cohorts)",
    "samstein2019_tmb_mskcc": "Samstein 2019 (MSK pan-cancer)",
    "rizvi2018_nsclc_msk": "Rizvi 2018 (MSK NSCLC)",
    "morrison1_melanoma_campbell2023": "MORRISON-1 (melanoma, harmonised)",
}

#: LORIS sub-cohorts treated at MSK: they may share patients with Chowell, Samstein and Rizvi.
MSK_SUBCOHORTS_LEFT_OUT = ("MSK1", "MSK2", "Vanguri_NSCLC")

#: Cohorts entering pooled analyses (LORIS without its MSK sub-cohorts).
POOLED_COHORTS = (
    "riaz2017_melanoma_nivolumab",
    "gide2019_melanoma_pd1",
    "vanallen2015_melanoma_ctla4",
    "miao2018_ccrcc_pd1",
    "hugo2016_melanoma_pd1",
    "imvigor210_urothelial_atezolizumab",
    "chowell2021_pancancer_msk",
    "chang2024_loris_validation_cohorts",
)

#: Overlaps between the public cohorts (from the public README and each SOURCE.md).
OVERLAPS = pd.DataFrame(
    [
        (
            "MORRISON-1, sub-cohort '038'",
            "Riaz 2017",
            "the same patients (CheckMate 038)",
            "MORRISON-1 is in no pooled analysis",
        ),
        (
            "MORRISON-1, sub-cohort 'gide'",
            "Gide 2019",
            "overlapping patients",
            "MORRISON-1 is in no pooled analysis",
        ),
        (
            "MORRISON-1, sub-cohort 'va'",
            "Van Allen 2015",
            "overlapping patients",
            "MORRISON-1 is in no pooled analysis",
        ),
        (
            "Samstein 2019, Rizvi 2018, LORIS MSK1 and Vanguri (and MSK2, also treated at MSK)",
            "Chowell 2021 and each other",
            "MSK-IMPACT patients who may be shared; the identifiers "
            "are de-identified, so the overlap cannot be resolved",
            "pooled analyses keep Chowell and leave out Samstein, Rizvi and the LORIS MSK1, MSK2 and "
            "Vanguri sub-cohorts",
        ),
        (
            "LORIS sheets Chowell_train/Chowell_test",
            "Chowell 2021",
            "the same patients",
            "not in the LORIS folder (left out at conversion)",
        ),
    ],
    columns=["cohort", "overlaps with", "relation", "how the chapter avoids double counting"],
)

#: The sentence of every section when the folder of public cohorts is not found.
NOT_FOUND = (
    "The folder of public cohorts was not found, so the validation sections are empty; "
    "set the parameter public_dir to the folder that holds FACTS.md."
)


def resolve_public_dir(public_dir: str | Path = "", base: str | Path | None = None) -> Path | None:
    """The folder of public cohorts, or None if it does not exist.

    An empty ``public_dir`` means :data:`DEFAULT_PUBLIC_DIR`; a relative path is taken from
    ``base`` (default: the repository root). A folder counts only if it holds ``README.md``.
    """
    text = str(public_dir).strip() or DEFAULT_PUBLIC_DIR
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = Path(base or REPO) / path
    path = path.resolve()
    return path if path.is_dir() and (path / "README.md").is_file() else None


@dataclass
class PublicCohort:
    """One public cohort: the default import, the FACTS-convention import, the source table."""

    folder: str
    label: str
    directory: Path
    imported: ImportResult
    facts_convention: ImportResult
    clinical: pd.DataFrame

    @property
    def cohort(self) -> Cohort:
        """The cohort imported with the book's death rule."""
        return self.imported.cohort

    def source_column(self, column: str, result: ImportResult | None = None) -> pd.Series:
        """A column of the source clinical table indexed by the cohort's patient pseudonyms."""
        res = result or self.imported
        m = res.pseudonyms[res.pseudonyms["kind"] == "patient"]
        to_pseudonym = dict(zip(m["source_id"], m["pseudonym"], strict=True))
        values = self.clinical.set_index(self.clinical["patient_id"].astype(str))[column]
        values.index = values.index.map(to_pseudonym)
        return values


def load_public_cohorts(
    public_dir: str | Path, folders: Iterable[str] | None = None, *, include_expression: bool = True
) -> dict[str, PublicCohort]:
    """Import the public cohorts (open published data) twice: default rule and FACTS convention.

    Parameters
    ----------
    public_dir
        The folder of tidy public cohorts.
    folders
        Which cohorts (default: every folder of :data:`PUBLIC_COHORTS` present).
    include_expression
        False skips the expression matrices (faster when no TME analysis is needed).

    Raises
    ------
    KeyError
        A folder that is not one of :data:`PUBLIC_COHORTS`.
    """
    root = Path(public_dir)
    wanted = list(folders) if folders is not None else list(PUBLIC_COHORTS)
    unknown = [f for f in wanted if f not in PUBLIC_COHORTS]
    if unknown:
        raise KeyError(f"unknown public cohort(s) {unknown}; known: {', '.join(PUBLIC_COHORTS)}")
    out = {}
    for folder in wanted:
        d = root / folder
        if not (d / "clinical.tsv").is_file():
            continue
        # seeded pseudonyms: these imports of open data stay in memory, and a fixed row order
        # keeps the chapter's outputs identical from run to run
        default = tidy_to_cohort(d, open_data=True, include_expression=include_expression, pseudonym_seed=0)
        facts = tidy_to_cohort(
            d,
            open_data=True,
            death_is_progression=True,
            include_expression=False,
            existing_pseudonyms=default.pseudonyms,
        )
        clinical = pd.read_csv(d / "clinical.tsv", sep="\t", low_memory=False, dtype={"patient_id": str})
        out[folder] = PublicCohort(folder, PUBLIC_COHORTS[folder], d, default, facts, clinical)
    return out


@dataclass(kw_only=True)
class PublicCohorts(AnalysisResult):
    """The public cohorts found for chapter 7 (``missing`` says so when the folder is absent).

    Attributes
    ----------
    directory
        The folder of public cohorts, or None if it was not found.
    cohorts
        The loaded cohorts by folder name (empty when the folder was not found).
    """

    directory: Path | None
    cohorts: dict[str, PublicCohort] = field(default_factory=dict)

    def get(self, folder: str) -> PublicCohort | None:
        """One loaded cohort by folder name, or None."""
        return self.cohorts.get(folder)


def open_public_cohorts(public_dir: str | Path = "", base: str | Path | None = None) -> PublicCohorts:
    """Find the folder of public cohorts (:func:`resolve_public_dir`) and load every cohort in it."""
    directory = resolve_public_dir(public_dir, base)
    if directory is None:
        return PublicCohorts(missing=NOT_FOUND, directory=None)
    return PublicCohorts(directory=directory, cohorts=load_public_cohorts(directory))


def pfs_months(cohort: Cohort, deaths_count: bool = True) -> pd.DataFrame:
    """Progression-free survival of the index course: ``months`` and ``event`` (0/1).

    Event at the progression day; otherwise censored at the last progression-free assessment;
    with ``deaths_count``, a course with neither whose patient died has the event on the day
    of death (PFS = progression or death). Courses with no information are left out.

    On a cohort imported with ``death_is_progression=True`` every PFS event of the source is a
    progression day, so ``deaths_count=False`` gives exactly the source's PFS (a death of a
    patient whose source has no PFS at all is then not counted).
    """
    idx = cohort.index_courses().set_index("patient_id")
    pats = cohort.patients.set_index("patient_id")
    prog = pd.to_numeric(idx["progression_day"], errors="coerce")
    last = pd.to_numeric(idx["last_assessment_day"], errors="coerce")
    end = pd.to_numeric(pats["last_followup_day"], errors="coerce").reindex(idx.index)
    death = pats["death"].astype(bool).reindex(idx.index).fillna(False)
    time = prog.where(prog.notna(), last)
    event = prog.notna().astype(float)
    died = time.isna() & death & end.notna() & deaths_count
    time = time.where(~died, end)
    event = event.where(~died, 1.0)
    ok = time.notna()
    return pd.DataFrame({"months": time[ok] / DAYS_PER_MONTH, "event": event[ok].astype(int)})


def os_months(cohort: Cohort) -> pd.DataFrame:
    """Overall survival from day 0: ``months`` and ``event`` (patients without follow-up are
    left out)."""
    p = cohort.patients
    end = pd.to_numeric(p["last_followup_day"], errors="coerce")
    ok = end.notna()
    return pd.DataFrame(
        {"months": (end[ok] / DAYS_PER_MONTH).to_numpy(), "event": p.loc[ok, "death"].astype(int).to_numpy()},
        index=p.loc[ok, "patient_id"].to_numpy(),
    )


def km_median_months(table: pd.DataFrame) -> float:
    """Kaplan–Meier median (first time S(t) <= 0.5) of a ``months``/``event`` table."""
    if len(table) == 0:
        return float("nan")
    return km_median(kaplan_meier(table["months"], table["event"]))


def classes(cohort: Cohort, benefit_months: float = 6, min_exposure_weeks: float = 6) -> pd.DataFrame:
    """SITC class and reason of every index course (indexed by patient pseudonym)."""
    idx = cohort.index_courses()
    out = explain_resistance(idx, benefit_months, min_exposure_weeks)
    out.index = idx["patient_id"].to_numpy()
    return out


def public_repairs(cohorts: Mapping[str, PublicCohort]) -> pd.DataFrame:
    """Every repair made when importing the public cohorts (cohort, repair, rows)."""
    rows = []
    for pc in cohorts.values():
        for r in pc.cohort.meta.get("repairs") or []:
            rows.append({"cohort": pc.label, "repair": r["rule"], "rows": int(r["rows"])})
    return pd.DataFrame(rows, columns=["cohort", "repair", "rows"])
