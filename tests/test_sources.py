"""Importers of real cohorts: the tidy public tables and cBioPortal study folders.

The cBioPortal folders are written at test time from the real public tables (nothing is
copied into the repository): Rizvi 2018 (MSK NSCLC: its clinical table keeps the cBioPortal
attribute values, e.g. PFS_STATUS '1:Progressed') and IMvigor210 (OS_STATUS '1:DECEASED',
best response, FoundationOne calls as MAF + discrete CNA + gene panel, TPM matrix).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.resistance import classify_resistance
from helpers.analysis.validation import PUBLIC_COHORTS, os_months, pfs_months
from helpers.book.cli import main
from helpers.data.cohort import Cohort
from helpers.data.importers import cbioportal_to_cohort, import_cbioportal, import_tidy, tidy_to_cohort
from helpers.data.importers.cbioportal import read_cbioportal_table
from helpers.data.importers.tidy import read_tidy_table
from helpers.data.importers.vocabulary import harmonise_cancer_type, regimen_from_text, vep_to_maf
from helpers.data.maf import map_foundationone
from helpers.data.pseudonyms import pseudonym_path, read_pseudonyms
from helpers.errors import WITHHELD, SourceFormatError
from helpers.stats.survival import kaplan_meier, km_median
from helpers.units import DAYS_PER_MONTH

RIAZ = "riaz2017_melanoma_nivolumab"
IMVIGOR = "imvigor210_urothelial_atezolizumab"
RIZVI = "rizvi2018_nsclc_msk"
LORIS = "chang2024_loris_validation_cohorts"


@pytest.fixture(scope="module")
def imported(public_dir):
    """Every public cohort imported once (default rule, restricted)."""
    return {f: tidy_to_cohort(public_dir / f) for f in PUBLIC_COHORTS}


# ---------------------------------------------------------------------------------------
# tidy public tables
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("folder", sorted(PUBLIC_COHORTS))
def test_every_public_cohort_imports_with_pseudonyms(public_dir, imported, folder):
    res = imported[folder]
    c = res.cohort
    clinical = pd.read_csv(public_dir / folder / "clinical.tsv", sep="\t", usecols=["patient_id"])
    assert len(c.patients) == len(clinical)
    assert c.access == "restricted" and c.simulated is False
    assert c.index_courses().shape[0] == len(clinical)
    # every identifier is a pseudonym, and no source identifier is a value of any table
    pmap = res.pseudonyms
    pseudo_patients = set(pmap.loc[pmap["kind"] == "patient", "pseudonym"])
    pseudo_samples = set(pmap.loc[pmap["kind"] == "sample", "pseudonym"])
    assert set(c.patients["patient_id"]) <= pseudo_patients
    assert set(c.samples["sample_id"]) <= pseudo_samples
    planted = _planted_identifiers(public_dir, folder)
    assert set(pmap["source_id"]) - {s for s in pmap["source_id"] if s.endswith("::tumour-dna")} <= planted
    for name, df in c.tables.items():
        values = {str(v) for v in df.columns}
        if name == "expression":
            values |= {str(v) for v in df.index}  # genes (the row labels of other tables are 0, 1, ...)
        for col in df.columns:
            if not pd.api.types.is_numeric_dtype(df[col]):
                values |= set(df[col].astype(str))
        assert not values & planted, (name, len(values & planted))
    assert pmap["pseudonym"].is_unique and not pmap.duplicated(["kind", "source_id"]).any()


def test_open_flag_and_metadata(public_dir):
    res = tidy_to_cohort(public_dir / RIZVI, open_data=True)
    assert res.cohort.access == "open"
    meta = res.cohort.meta
    assert meta["citation"].startswith("Rizvi H, Sanchez-Vega F, La K, et al.")
    assert meta["citation"].endswith("PMID 29337640.")  # the wrapped lines are joined
    assert any("overall survival" in x for x in meta["lacks"])
    assert any("best overall response" in x for x in meta["lacks"])


def test_months_become_days_without_rounding(public_dir, imported):
    res = imported[RIAZ]
    clinical = pd.read_csv(public_dir / RIAZ / "clinical.tsv", sep="\t", dtype={"patient_id": str})
    pmap = res.pseudonyms.set_index("source_id")["pseudonym"]
    p = res.cohort.patients.set_index("patient_id")
    row = clinical.set_index("patient_id").loc["Pt1"]
    assert p.loc[pmap["Pt1"], "last_followup_day"] == row["os_months"] * DAYS_PER_MONTH
    assert p.loc[pmap["Pt1"], "last_followup_day"] == pytest.approx(160.0, abs=1e-3)  # src_OS days
    courses = res.cohort.index_courses().set_index("patient_id")
    assert courses.loc[pmap["Pt1"], "progression_day"] == row["pfs_months"] * DAYS_PER_MONTH


def test_death_at_pfs_time_is_not_a_progression(public_dir, imported):
    default = imported[RIAZ].cohort
    facts = tidy_to_cohort(public_dir / RIAZ, death_is_progression=True, include_expression=False).cohort
    # 58 PFS events; 4 fall on the day of death (FACTS: the source's PFS counts deaths)
    assert facts.index_courses()["progression_day"].notna().sum() == 58
    assert default.index_courses()["progression_day"].notna().sum() == 54
    assert any(n.startswith("4 PFS events fall on the day of death") for n in default.meta["notes"])
    assert default.meta["pfs_death_rule"].startswith("a PFS event at the time of death is not")
    # FACTS.md class counts under the FACTS convention; one SD patient who died without a
    # separate progression moves from primary to not evaluable under the book's rule
    a = classify_resistance(facts.index_courses()).value_counts().to_dict()
    b = classify_resistance(default.index_courses()).value_counts().to_dict()
    assert a == {"primary": 42, "acquired": 13, "ongoing_benefit": 12, "not_evaluable": 6}
    assert b == {"primary": 41, "acquired": 13, "ongoing_benefit": 12, "not_evaluable": 7}
    # the PFS itself (progression or death) is the same under both rules
    for c in (default, facts):
        pfs = pfs_months(c)
        assert int(pfs["event"].sum()) == 58
        assert round(km_median(kaplan_meier(pfs["months"], pfs["event"])), 2) == 3.68


def test_pfs_longer_than_os_is_repaired_by_logged_rules(public_dir, imported):
    res = imported[LORIS]
    repairs = {r["id"]: r["rows"] for r in res.cohort.meta["repairs"]}
    assert repairs == {
        "os_time_without_event": 1,
        "death_without_time": 1,
        "pfs_after_death": 3,
        "followup_before_pfs": 4,
    }
    clinical = pd.read_csv(public_dir / LORIS / "clinical.tsv", sep="\t", dtype={"patient_id": str})
    pmap = res.pseudonyms.set_index("source_id")["pseudonym"]
    pats = res.cohort.patients.set_index("patient_id")
    courses = res.cohort.index_courses().set_index("patient_id")
    src = clinical.set_index("patient_id")
    # alive, OS censored at 3.5 months but progression-free at 10.47: follow-up extended
    pid = src.index[(src["pfs_months"].round(4) == 10.4667) & (src["os_months"] == 3.5)][0]
    assert pats.loc[pmap[pid], "last_followup_day"] == src.loc[pid, "pfs_months"] * DAYS_PER_MONTH
    assert not pats.loc[pmap[pid], "death"]
    # died at 9.97 months with PFS censored at 21.77: PFS time set to the day of death
    pid = src.index[(src["pfs_months"].round(4) == 21.7705) & (src["os_event"] == 1)][0]
    death_day = src.loc[pid, "os_months"] * DAYS_PER_MONTH
    assert courses.loc[pmap[pid], "last_assessment_day"] == death_day
    # no course ends after its patient's last follow-up (the validator would refuse it)
    end = pats["last_followup_day"].reindex(courses.index)
    assert not (courses["progression_day"] > end + 1e-9).any()
    assert not (courses["last_assessment_day"] > end + 1e-9).any()


def test_quirks_of_the_tidy_tables(imported):
    miao = imported["miao2018_ccrcc_pd1"].cohort
    assert {r["id"]: r["rows"] for r in miao.meta["repairs"]}["tmb_zero_is_missing"] == 17
    assert miao.samples["tmb"].notna().sum() == 16
    # previous HGNC symbols renamed so the signatures find them
    assert {"CCN2", "CXCL8", "VSIR"} <= set(miao.expression.index)
    assert not {"CTGF", "IL8", "C10orf54"} & set(miao.expression.index)
    # regimens refined from the drug names of Miao's src_drug
    assert miao.index_courses()["regimen"].value_counts().to_dict() == {
        "anti-PD-1": 27,
        "PD-1+CTLA-4": 4,
        "anti-PD-L1": 2,
    }
    riaz = imported[RIAZ].cohort
    assert "tmb" not in riaz.samples.columns  # a mutation count, not per Mb
    assert len(riaz.mutations) == 28589
    assert riaz.mutations["variant_classification"].value_counts()["Nonsense_Mutation"] == 1598
    # on-treatment exomes without public calls are not DNA samples
    dna = riaz.samples[riaz.samples["assay"].isin(["DNA", "DNA+RNA"])]
    assert len(dna) == 68 and set(dna["timepoint"]) == {"pre"}
    imv = imported[IMVIGOR].cohort
    assert len(imv.mutations) + len(imv.cna) == 1835
    assert (imv.cna["copy_state"] == -2).sum() == 104
    assert imv.patients["ecog"].value_counts().to_dict() == {1.0: 111, 0.0: 72, 2.0: 12}
    assert imv.meta["panel_sizes_mb"] == {"FoundationOne": 1.1}
    assert set(imv.samples.loc[imv.samples["assay"] == "DNA", "panel_id"]) == {"FoundationOne"}
    morrison = imported["morrison1_melanoma_campbell2023"].cohort
    assert morrison.patients["last_followup_day"].isna().all()  # no event status: no OS
    assert morrison.index_courses()["progression_day"].isna().all()


def test_expression_is_log2_tpm_plus_one(public_dir, imported):
    raw = pd.read_csv(public_dir / RIAZ / "expression.tsv.gz", sep="\t", nrows=200)
    raw = raw.set_index("gene")
    res = imported[RIAZ]
    pmap = res.pseudonyms.set_index("source_id")["pseudonym"]
    col = raw.columns[0]
    got = res.cohort.expression.loc[raw.index, pmap[col]]
    expected = np.log2(np.clip(2.0 ** raw[col] - 0.001, 0, None) + 1)
    assert np.allclose(got.to_numpy(), expected.to_numpy(), atol=1e-12)
    assert got.min() >= 0
    floor = raw[col] <= -9.96  # log2(0 + 0.001): TPM 0
    assert floor.any() and (got[floor] < 1e-6).all()


#: Columns of the tidy tables that hold patient or sample identifiers (the harmonised ones and
#: the source's own, e.g. src_patientId, src_Sample_ID, src_sample_sampleId, src_sample_col).
_ID_COLUMN = re.compile(
    r"^(patient_id|sample_id|src_(sample_)?(patient_?id|sample_?id|sample_col|sample))$", re.I
)


def _planted_identifiers(public_dir: Path, folder: str) -> set[str]:
    """Every identifier of the source: all values of its id columns in every table."""
    ids: set[str] = set()
    for name in ("clinical.tsv", "samples.tsv", "mutations.tsv"):
        f = public_dir / folder / name
        if f.is_file():
            df = pd.read_csv(f, sep="\t", dtype=str)
            for col in df.columns:
                if _ID_COLUMN.match(col):
                    ids |= set(df[col].dropna())
    return ids


def _strings(obj: object) -> list[str]:
    """Every key and value of a JSON document, as text."""
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in [str(k), *_strings(v)]]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return [str(obj)]


def _texts_of_folder(folder: Path) -> list[str]:
    """Every value of a cohort folder read back: all cells, column names and index labels of
    every Parquet table, and every key and value of every JSON file, as text."""
    texts: list[str] = []
    for f in sorted(folder.iterdir()):
        if f.suffix == ".parquet":
            df = pd.read_parquet(f)
            texts += [str(c) for c in df.columns] + [str(i) for i in df.index]
            for col in df.columns:
                texts += df[col].astype(str).tolist()
        elif f.suffix == ".json":
            texts += _strings(json.loads(f.read_text()))
        else:
            raise AssertionError(f"unexpected file in the cohort folder: {f.name}")
    return texts


def _identifiers_found(folder: Path, ids: set[str]) -> set[str]:
    """The identifiers that occur in any value of the folder (as a value or inside a text)."""
    texts = _texts_of_folder(folder)
    exact = set(texts)
    blob = "\n".join(texts)
    return {i for i in ids if i in exact or i in blob}


def test_import_writes_mapping_beside_the_folder_and_keeps_it(public_dir, tmp_path):
    out = tmp_path / "cohorts" / "gide"
    first = import_tidy(public_dir / "gide2019_melanoma_pd1", out)
    mapping = pseudonym_path(out)
    assert mapping == tmp_path / "cohorts" / "gide.pseudonyms.tsv" and mapping.is_file()
    assert not any("pseudonym" in p.name for p in out.iterdir())
    loaded = Cohort.load(out)
    assert loaded.access == "restricted"
    second = import_tidy(public_dir / "gide2019_melanoma_pd1", out)
    assert read_pseudonyms(mapping).equals(first.pseudonyms)
    assert second.pseudonyms.equals(first.pseudonyms)


@pytest.mark.parametrize("folder", ["gide2019_melanoma_pd1", "riaz2017_melanoma_nivolumab"])
def test_no_source_identifier_reaches_the_cohort_folder(public_dir, tmp_path, folder):
    out = tmp_path / "cohort"
    res = import_tidy(public_dir / folder, out)
    planted = _planted_identifiers(public_dir, folder)
    mapping = res.pseudonyms
    assert set(mapping["source_id"]) <= planted  # every mapped identifier is one of them
    if folder == "gide2019_melanoma_pd1":
        assert len(planted) == 41  # one RNA sample per patient, named like the patient
    assert _identifiers_found(out, planted) == set()
    # the search sees every planted identifier once it is in the folder: as cells of a
    # Parquet table and as text in cohort.json
    leaky = tmp_path / "leaky"
    leaky.mkdir()
    ids = sorted(planted)
    pd.DataFrame({"id": ids}).to_parquet(leaky / "samples.parquet")
    assert _identifiers_found(leaky, planted) == planted
    (leaky / "samples.parquet").unlink()
    (leaky / "cohort.json").write_text(json.dumps({"notes": [f"sample {i} was dropped" for i in ids]}))
    assert _identifiers_found(leaky, planted) == planted


def _write_clinical_tsv(folder: Path, rows: list[dict], blank_line_after: int | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    base = {
        "cancer_type": "Melanoma",
        "best_overall_response": "PD",
        "pfs_months": 1.0,
        "pfs_event": 1,
        "os_months": 3.0,
        "os_event": 1,
    }
    text = pd.DataFrame([{**base, **r} for r in rows]).to_csv(sep="\t", index=False, lineterminator="\n")
    if blank_line_after is not None:  # pandas skips a blank line: the line numbers must not
        lines = text.splitlines()
        text = "\n".join(lines[:blank_line_after] + [""] + lines[blank_line_after:]) + "\n"
    (folder / "clinical.tsv").write_text(text)
    return folder


#: Source identifiers of the bad-input tables: they must never appear in an error message.
SECRET = ["SECRET-PT-0001", "SECRET-PT-0002", "SECRET-PT-0003"]


def _import_error(folder: Path) -> SourceFormatError:
    with pytest.raises(SourceFormatError) as info:
        tidy_to_cohort(folder)
    message = str(info.value)
    assert not any(s in message for s in SECRET), message
    assert str(folder / "clinical.tsv") in message.splitlines()[0]
    return info.value


def test_bad_tidy_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="clinical.tsv"):
        tidy_to_cohort(tmp_path)
    err = _import_error(
        _write_clinical_tsv(
            tmp_path / "bor",
            [{"patient_id": SECRET[0]}, {"patient_id": SECRET[1], "best_overall_response": "XX"}],
        )
    )
    (v,) = err.violations
    assert (v.table, v.column, v.n_rows) == ("clinical.tsv", "best_overall_response", 1)
    assert v.rule.startswith("unknown codes ['XX']; known: CR, PR, SD, PD, NE, MR")
    assert v.examples.to_dict("index") == {3: {"patient_id": WITHHELD, "best_overall_response": "XX"}}
    assert "line" in str(err) and "<withheld>" in str(err)
    err = _import_error(
        _write_clinical_tsv(
            tmp_path / "event", [{"patient_id": SECRET[0]}, {"patient_id": SECRET[1], "pfs_event": 2}]
        )
    )
    (v,) = err.violations
    assert (v.column, v.rule, v.n_rows) == ("pfs_event", "event flags must be 0 or 1", 1)
    assert v.examples.to_dict("index") == {3: {"patient_id": WITHHELD, "pfs_event": 2}}


def test_negative_survival_names_its_line(tmp_path):
    # a blank line after the header moves the second patient to line 4
    folder = _write_clinical_tsv(
        tmp_path / "neg",
        [
            {"patient_id": SECRET[0]},
            {"patient_id": SECRET[1], "pfs_months": -2.5, "os_months": "soon"},
            {"patient_id": SECRET[2], "pfs_months": -1.0},
        ],
        blank_line_after=2,
    )
    err = _import_error(folder)
    by_rule = {(v.column, v.rule): v for v in err.violations}
    assert set(by_rule) == {
        ("pfs_months", "survival times cannot be negative"),
        ("os_months", "survival times must be numbers (months)"),
    }
    neg = by_rule["pfs_months", "survival times cannot be negative"]
    assert neg.n_rows == 2
    assert neg.examples.index.tolist() == [4, 5] and neg.examples.index.name == "line"
    assert neg.examples["pfs_months"].tolist() == [-2.5, -1.0]
    assert set(neg.examples["patient_id"]) == {WITHHELD}
    text = by_rule["os_months", "survival times must be numbers (months)"]
    assert text.examples.to_dict("index") == {4: {"patient_id": WITHHELD, "os_months": "soon"}}
    assert "[2 rows break it]" in str(err) and "[1 row breaks it]" in str(err)


def test_duplicated_patients_are_named_by_line_not_by_id(tmp_path):
    err = _import_error(
        _write_clinical_tsv(
            tmp_path / "dup",
            [{"patient_id": SECRET[0]}, {"patient_id": SECRET[1]}, {"patient_id": SECRET[0]}],
        )
    )
    (v,) = err.violations
    assert (v.column, v.rule, v.n_rows) == ("patient_id", "patient identifiers must be unique", 2)
    assert v.examples.to_dict("index") == {2: {"patient_id": WITHHELD}, 4: {"patient_id": WITHHELD}}


def test_tidy_mutation_errors_name_the_line(public_dir, tmp_path):
    folder = _write_clinical_tsv(tmp_path / "mut", [{"patient_id": SECRET[0]}])
    pd.DataFrame(
        {"sample_id": [SECRET[1]], "patient_id": [SECRET[0]], "timepoint": ["pre"], "assay": ["WES"]}
    ).to_csv(folder / "samples.tsv", sep="\t", index=False)
    muts = pd.DataFrame(
        {
            "sample_id": [SECRET[1]] * 2,
            "patient_id": [SECRET[0]] * 2,
            "gene": ["B2M", "JAK1"],
            "variant_classification": ["stop_gained", "made_up_term"],
        }
    )
    muts.to_csv(folder / "mutations.tsv", sep="\t", index=False)
    with pytest.raises(SourceFormatError) as info:
        tidy_to_cohort(folder)
    (v,) = info.value.violations
    assert (v.table, v.column, v.rule) == (
        "mutations.tsv",
        "variant_classification",
        "the variant class maps to no MAF class",
    )
    assert v.examples.to_dict("index") == {
        3: {"sample_id": WITHHELD, "gene": "JAK1", "variant_classification": "made_up_term"}
    }
    assert not any(s in str(info.value) for s in SECRET)
    # a variant of a sample that is not a DNA sample of samples.tsv
    muts.assign(variant_classification="stop_gained", sample_id=["elsewhere", SECRET[1]]).to_csv(
        folder / "mutations.tsv", sep="\t", index=False
    )
    pd.DataFrame(
        {
            "sample_id": [SECRET[1], "elsewhere"],
            "patient_id": [SECRET[0]] * 2,
            "timepoint": ["pre"] * 2,
            "assay": ["WES", "RNA-seq"],
        }
    ).to_csv(folder / "samples.tsv", sep="\t", index=False)
    with pytest.raises(SourceFormatError) as info:
        tidy_to_cohort(folder)
    (v,) = info.value.violations
    assert v.rule == "the variant's sample is not a DNA sample of samples.tsv"
    assert v.examples.to_dict("index") == {2: {"gene": "B2M", "sample_id": WITHHELD}}


@pytest.mark.parametrize("folder", sorted(PUBLIC_COHORTS))
def test_tidy_rows_are_labelled_by_their_line(public_dir, folder):
    path = public_dir / folder / "clinical.tsv"
    df = read_tidy_table(path, dtype={"patient_id": str})
    assert df.index.name == "line" and df.index[0] == 2
    lines = path.read_text().split("\n")
    first, last = df.index[0], df.index[-1]
    assert lines[first - 1].split("\t")[0] == df["patient_id"].iloc[0]
    assert lines[last - 1].split("\t")[0] == df["patient_id"].iloc[-1]


@pytest.mark.parametrize(
    "texts, expected",
    [
        (("Nivolumab",), "anti-PD-1"),
        (("Pembrolizumab or nivolumab",), "anti-PD-1"),
        (("Atezolizumab",), "anti-PD-L1"),
        (("nivolumab + ipilimumab",), "PD-1+CTLA-4"),
        (("Nivolumab:Ipilimumab",), "PD-1+CTLA-4"),
        (("pembrolizumab + carboplatin + pemetrexed",), "ICB+chemo"),
        (("PD-1/PD-L1",), None),
        (("PD-1/PD-L1+CTLA-4",), "PD-1+CTLA-4"),
        (("Combo",), "PD-1+CTLA-4"),
        (("CTLA4",), "anti-CTLA-4"),
        (("PD-L1",), "anti-PD-L1"),
        (("CTLA-4 then PD-1",), None),
        (("Monotherapy", "PD-1"), "anti-PD-1"),
        ((None, float("nan")), None),
    ],
)
def test_regimen_from_text(texts, expected):
    assert regimen_from_text(*texts) == expected


def test_small_vocabularies():
    assert harmonise_cancer_type("Clear cell renal cell carcinoma") == "RCC"
    assert harmonise_cancer_type("Head & Neck") == "HNSCC"
    assert harmonise_cancer_type("Sarcoma") == "Sarcoma"
    assert harmonise_cancer_type(None) == "Unknown"
    assert vep_to_maf("splice_acceptor_variant&intron_variant") == "Splice_Site"
    assert vep_to_maf("stop_gained&splice_region_variant") == "Nonsense_Mutation"
    assert vep_to_maf("missense_variant&splice_region_variant") == "Missense_Mutation"
    assert vep_to_maf("frameshift_variant", "c.100dupA") == "Frame_Shift_Ins"
    assert vep_to_maf("frameshift_variant", "c.100delA") == "Frame_Shift_Del"
    assert vep_to_maf("made_up_term") is None


# ---------------------------------------------------------------------------------------
# cBioPortal study folders, written from the real public tables
# ---------------------------------------------------------------------------------------
def _write_clinical(path: Path, df: pd.DataFrame, n_meta: int = 4) -> None:
    """A cBioPortal clinical file: ``n_meta`` lines starting with '#', then the table."""
    cols = list(df.columns)
    meta = [
        "#" + "\t".join(cols),
        "#" + "\t".join(c.lower() for c in cols),
        "#" + "\t".join("STRING" if df[c].dtype == object else "NUMBER" for c in cols),
        "#" + "\t".join("1" for _ in cols),
        "#" + "\t".join("PATIENT" for _ in cols),
    ][:n_meta]
    body = df.to_csv(sep="\t", index=False, na_rep="NA", lineterminator="\n")
    path.write_text("\n".join(meta) + "\n" + body)


def write_rizvi_study(public_dir: Path, dest: Path) -> Path:
    """A cBioPortal folder (clinical only, with a gene panel matrix) from Rizvi 2018."""
    c = pd.read_csv(public_dir / RIZVI / "clinical.tsv", sep="\t", dtype=str)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "meta_study.txt").write_text(
        "type_of_cancer: nsclc\ncancer_study_identifier: nsclc_pd1_msk_2018\n"
        "name: Non-Small Cell Lung Cancer (MSK, J Clin Oncol 2018)\n"
        "citation: Rizvi et al. J Clin Oncol 2018\n"
    )
    patient = pd.DataFrame(
        {
            "PATIENT_ID": c["src_patientId"],
            "AGE": c["src_AGE"],
            "SEX": c["src_SEX"],
            "PFS_MONTHS": c["src_PFS_MONTHS"],
            "PFS_STATUS": c["src_PFS_STATUS"],
            "TREATMENT_TYPE": c["src_TREATMENT_TYPE"],
            "DURABLE_CLINICAL_BENEFIT": c["src_durable_clinical_benefit"],
        }
    )
    sample = pd.DataFrame(
        {
            "PATIENT_ID": c["src_patientId"],
            "SAMPLE_ID": c["src_sample_sampleId"],
            "CANCER_TYPE": "Non-Small Cell Lung Cancer",
            "CANCER_TYPE_DETAILED": c["src_sample_CANCER_TYPE_DETAILED"],
            "TMB_NONSYNONYMOUS": c["tmb"],
        }
    )
    _write_clinical(dest / "data_clinical_patient.txt", patient, 4)
    _write_clinical(dest / "data_clinical_sample.txt", sample, 5)
    return dest


def write_imvigor_study(public_dir: Path, dest: Path) -> Path:
    """A cBioPortal folder from IMvigor210: OS, best response, MAF, CNA, panel, TPM."""
    d = public_dir / IMVIGOR
    c = pd.read_csv(d / "clinical.tsv", sep="\t", dtype={"patient_id": str})
    s = pd.read_csv(d / "samples.tsv", sep="\t", dtype=str)
    m = pd.read_csv(d / "mutations.tsv", sep="\t", dtype={"sample_id": str, "patient_id": str})
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "meta_study.txt").write_text(
        "type_of_cancer: blca\ncancer_study_identifier: blca_imvigor210_test\nname: IMvigor210 (test build)\n"
    )
    words = {
        "CR": "Complete Response",
        "PR": "Partial Response",
        "SD": "Stable Disease",
        "PD": "Progressive Disease",
        "NE": "Not Evaluable",
    }
    os_status = c["os_event"].map({1.0: "1:DECEASED", 0.0: "0:LIVING"})
    patient = pd.DataFrame(
        {
            "PATIENT_ID": c["patient_id"],
            "SEX": c["sex"].str.capitalize(),
            "OS_MONTHS": c["os_months"],
            "OS_STATUS": os_status,
            "BEST_OVERALL_RESPONSE": c["best_overall_response"].map(words),
            "TREATMENT": "Atezolizumab",
        }
    )
    fm = s[s["assay"].str.contains("DNA")]
    tmb = c.set_index("patient_id")["tmb"]
    sample = pd.DataFrame(
        {
            "SAMPLE_ID": s["sample_id"],
            "PATIENT_ID": s["patient_id"],
            "CANCER_TYPE": "Bladder Cancer",
            "TMB_NONSYNONYMOUS": np.where(s["assay"].str.contains("DNA"), s["patient_id"].map(tmb), np.nan),
        }
    )
    _write_clinical(dest / "data_clinical_patient.txt", patient)
    _write_clinical(dest / "data_clinical_sample.txt", sample)
    short, cna = map_foundationone(m)
    maf = pd.DataFrame(
        {
            "Hugo_Symbol": short["gene"],
            "Entrez_Gene_Id": 0,
            "Tumor_Sample_Barcode": short["sample_id"],
            "Variant_Classification": short["variant_classification"],
            "HGVSp_Short": "p." + short["protein_change"].astype(str),
        }
    )
    (dest / "data_mutations.txt").write_text(
        "#version 2.4\n" + maf.to_csv(sep="\t", index=False, lineterminator="\n")
    )
    genes = sorted(set(m["gene"]))
    mat = pd.DataFrame(0, index=genes, columns=list(fm["sample_id"]))
    for r in cna.itertuples():
        mat.loc[r.gene, r.sample_id] = r.copy_state
    mat.index.name = "Hugo_Symbol"
    mat.reset_index().to_csv(dest / "data_cna.txt", sep="\t", index=False)
    (dest / "data_gene_panel_foundationone.txt").write_text(
        "stable_id: FoundationOne\ndescription: genes reported in IMvigor210\ngene_list: "
        + "\t".join(genes)
        + "\n"
    )
    pd.DataFrame({"SAMPLE_ID": fm["sample_id"], "mutations": "FoundationOne", "cna": "FoundationOne"}).to_csv(
        dest / "data_gene_panel_matrix.txt", sep="\t", index=False
    )
    expr = pd.read_csv(d / "expression.tsv.gz", sep="\t").set_index("gene")
    tpm = np.clip(2.0**expr - 0.001, 0, None)
    tpm.index.name = "Hugo_Symbol"
    tpm.reset_index().to_csv(dest / "data_mrna_seq_tpm.txt", sep="\t", index=False)
    return dest


def test_cbioportal_rizvi(public_dir, tmp_path):
    study = write_rizvi_study(public_dir, tmp_path / "nsclc_pd1_msk_2018")
    raw = read_cbioportal_table(study / "data_clinical_sample.txt")  # 5 '#' lines skipped
    assert list(raw.columns[:2]) == ["PATIENT_ID", "SAMPLE_ID"] and len(raw) == 240
    res = import_cbioportal(study, tmp_path / "rizvi")
    c = res.cohort
    assert c.name == "nsclc_pd1_msk_2018" and c.access == "restricted"
    assert len(c.patients) == 240
    assert set(c.patients["cancer_type"]) == {"NSCLC"}
    pfs = pfs_months(c)
    assert int(pfs["event"].sum()) == 198  # FACTS.md
    assert round(km_median(kaplan_meier(pfs["months"], pfs["event"])), 2) == 3.43  # FACTS.md
    assert c.index_courses()["best_response"].isna().all()  # DCB is not a RECIST response
    lacks = " ".join(c.meta["lacks"])
    for what in ("overall survival", "best overall response", "mutation calls", "copy-number", "expression"):
        assert what in lacks
    assert any("DURABLE_CLINICAL_BENEFIT is not a RECIST best response" in n for n in c.meta["notes"])
    assert c.samples["tmb"].notna().sum() == 240
    assert len(os_months(c)) == 0  # no OS: no follow-up is invented
    source = set(raw["SAMPLE_ID"]) | set(raw["PATIENT_ID"])
    assert not source & (set(c.samples["sample_id"]) | set(c.patients["patient_id"]))
    assert pseudonym_path(tmp_path / "rizvi").is_file()


def test_cbioportal_imvigor210(public_dir, tmp_path):
    study = write_imvigor_study(public_dir, tmp_path / "blca_imvigor210_test")
    res = cbioportal_to_cohort(study, open_data=True)
    c = res.cohort
    assert c.access == "open" and len(c.patients) == 367
    br = c.index_courses()["best_response"].value_counts().to_dict()
    assert br == {"PD": 174, "SD": 67, "NE": 55, "PR": 44, "CR": 27}  # FACTS (NE + missing)
    os_ = os_months(c)
    assert len(os_) == 348 and int(os_["event"].sum()) == 232  # FACTS.md
    assert round(km_median(kaplan_meier(os_["months"], os_["event"])), 2) == 8.77
    assert len(c.mutations) == 1324 and len(c.cna) == 511
    assert (c.cna["copy_state"] == -2).sum() == 104
    jak1 = c.mutations[
        (c.mutations["gene"] == "JAK1") & c.mutations["variant_classification"].str.startswith("Frame_Shift")
    ]
    assert jak1["sample_id"].map(c.samples.set_index("sample_id")["patient_id"]).nunique() == 2
    assert (c.samples["assay"] == "DNA").sum() == 293 and (c.samples["assay"] == "RNA").sum() == 195
    assert c.meta["panel_sizes_mb"] == {"FoundationOne": 1.1}
    assert c.panels["gene"].nunique() == 226
    assert set(c.index_courses()["regimen"]) == {"anti-PD-L1"}
    # the expression matrix equals the tidy import's
    tidy = tidy_to_cohort(public_dir / IMVIGOR)
    a = res.pseudonyms.set_index("source_id")["pseudonym"]
    b = tidy.pseudonyms.set_index("source_id")["pseudonym"]
    sid = "P10101"
    x = c.expression[a[sid]]
    y = tidy.cohort.expression[b[sid]].reindex(x.index)
    assert np.allclose(x.to_numpy(), y.to_numpy(), atol=1e-6)
    assert "expression (no TME analysis)" not in c.meta["lacks"]


def test_cbioportal_bad_input(public_dir, tmp_path):
    with pytest.raises(FileNotFoundError):
        cbioportal_to_cohort(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceFormatError, match="no meta_study.txt"):
        cbioportal_to_cohort(tmp_path / "empty")


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_cbioportal_status_error_names_the_line(public_dir, tmp_path):
    study = write_rizvi_study(public_dir, tmp_path / "s1")
    f = study / "data_clinical_patient.txt"
    text = f.read_text()
    f.write_text(text.replace("1:Progressed", "1:Maybe", 1).replace("0:Not Progressed", "Unclear", 1))
    line = _line_of(f, "Unclear")
    patient = f.read_text().splitlines()[line - 1].split("\t")[0]
    with pytest.raises(SourceFormatError) as info:
        cbioportal_to_cohort(study)
    (v,) = info.value.violations  # '1:Maybe' is read as its code, 1
    assert (v.table, v.column, v.n_rows) == ("data_clinical_patient.txt", "PFS_STATUS", 1)
    assert v.rule == "cannot read the status (expected e.g. '1:PROGRESSED' or '0:NOT PROGRESSED')"
    assert v.examples.to_dict("index") == {line: {"PATIENT_ID": WITHHELD, "PFS_STATUS": "Unclear"}}
    assert line == 5 + text[: text.index("0:Not Progressed")].count("\n") - 4  # 4 '#' lines
    assert patient not in str(info.value)


def test_cbioportal_months_are_checked_in_the_file_that_holds_them(public_dir, tmp_path):
    study = write_rizvi_study(public_dir, tmp_path / "s")
    pat = read_cbioportal_table(study / "data_clinical_patient.txt")
    f = study / "data_clinical_sample.txt"
    smp = read_cbioportal_table(f)
    # PFS months moved to the sample file, one of them negative
    months = smp["PATIENT_ID"].map(pat.set_index("PATIENT_ID")["PFS_MONTHS"])
    months.iloc[7] = "-3.2"
    text = f.read_text().splitlines()
    body = [line + "\t" + m for line, m in zip(text[5:], ["PFS_MONTHS", *months], strict=True)]
    f.write_text("\n".join([line + "\tX" for line in text[:5]] + body) + "\n")
    p = study / "data_clinical_patient.txt"
    p.write_text(p.read_text().replace("\tPFS_MONTHS", "\tPFS_MONTHS_OLD"))
    with pytest.raises(SourceFormatError) as info:
        cbioportal_to_cohort(study)
    (v,) = info.value.violations
    assert (v.table, v.column, v.rule) == (
        "data_clinical_sample.txt",
        "PFS_MONTHS",
        "survival times cannot be negative",
    )
    assert v.examples.to_dict("index") == {smp.index[7]: {"patient_id": WITHHELD, "PFS_MONTHS": "-3.2"}}
    assert smp.index[7] == 5 + 1 + 8  # 5 '#' lines, the header, then the 8th sample


def test_cbioportal_molecular_errors_withhold_sample_ids(public_dir, tmp_path):
    study = write_rizvi_study(public_dir, tmp_path / "s2")
    (study / "data_mutations.txt").write_text(
        "#version 2.4\nHugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\n\nB2M\tNOT-A-SAMPLE\t"
        "Nonsense_Mutation\n"
    )
    with pytest.raises(SourceFormatError) as info:
        cbioportal_to_cohort(study)
    (v,) = info.value.violations
    assert (v.table, v.column, v.n_rows) == ("data_mutations.txt", "Tumor_Sample_Barcode", 1)
    assert v.rule == "names a sample absent from data_clinical_sample.txt"
    assert v.examples.to_dict("index") == {4: {"Hugo_Symbol": "B2M", "Tumor_Sample_Barcode": WITHHELD}}
    assert "NOT-A-SAMPLE" not in str(info.value)
    (study / "data_mutations.txt").unlink()
    smp = read_cbioportal_table(study / "data_clinical_sample.txt")
    a, b = smp["SAMPLE_ID"].iloc[0], smp["SAMPLE_ID"].iloc[1]
    cna = study / "data_cna.txt"
    cna.write_text(
        f"Hugo_Symbol\tEntrez_Gene_Id\t{a}\t{b}\nB2M\t567\t0\t-2\nJAK1\t3716\tdeep\t3\n"
        "CDKN2A\t1029\t-1.5\t7\n"
    )
    with pytest.raises(SourceFormatError) as info:
        cbioportal_to_cohort(study)
    (v,) = info.value.violations
    assert (v.table, v.column, v.n_rows) == ("data_cna.txt", "(sample columns)", 2)
    assert v.examples.to_dict("index") == {
        3: {"Hugo_Symbol": "JAK1", "column number": 3, "value": "deep"},
        4: {"Hugo_Symbol": "CDKN2A", "column number": 4, "value": "7"},
    }
    assert a not in str(info.value) and b not in str(info.value)
    cna.write_text(f"Hugo_Symbol\t{a}\tNOT-A-SAMPLE\nB2M\t0\t-2\n")
    with pytest.raises(SourceFormatError) as info:
        cbioportal_to_cohort(study)
    (v,) = info.value.violations
    assert v.rule == "the column names a sample absent from data_clinical_sample.txt"
    assert v.examples.to_dict("index") == {1: {"column number": 3}}
    assert "NOT-A-SAMPLE" not in str(info.value) and a not in str(info.value)


def test_malformed_case_list_is_not_quoted(public_dir, tmp_path):
    study = write_rizvi_study(public_dir, tmp_path / "s3")
    smp = read_cbioportal_table(study / "data_clinical_sample.txt")
    ids = list(smp["SAMPLE_ID"].iloc[:3])
    (study / "data_mutations.txt").write_text(
        f"Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\nB2M\t{ids[0]}\tNonsense_Mutation\n"
    )
    (study / "case_lists").mkdir()
    (study / "case_lists" / "cases_sequenced.txt").write_text(
        f"cancer_study_identifier: x\ncase_list_ids: {ids[0]}\n{ids[1]} {ids[2]}\n"
    )
    with pytest.raises(SourceFormatError) as info:
        cbioportal_to_cohort(study)
    (v,) = info.value.violations
    assert (v.table, v.column, v.rule) == ("cases_sequenced.txt", "text", "expected 'key: value'")
    assert v.examples.to_dict("index") == {3: {"text": WITHHELD}}
    assert not any(i in str(info.value) for i in ids)
    (study / "meta_study.txt").write_text("type_of_cancer: nsclc\nthis line has no colon\n")
    with pytest.raises(SourceFormatError, match="this line has no colon"):  # meta files are quoted
        cbioportal_to_cohort(study)


def test_command_line(public_dir, tmp_path, capsys):
    study = write_rizvi_study(public_dir, tmp_path / "study")
    assert main(["import-cbioportal", str(study), str(tmp_path / "rizvi"), "--open"]) == 0
    out = capsys.readouterr().out
    assert "access: open" in out and "rizvi.pseudonyms.tsv" in out
    assert Cohort.load(tmp_path / "rizvi").access == "open"
    assert (
        main(["import-tidy", str(public_dir / RIAZ), str(tmp_path / "riaz"), "--death-is-progression"]) == 0
    )
    riaz = Cohort.load(tmp_path / "riaz")
    assert riaz.access == "restricted"
    assert riaz.index_courses()["progression_day"].notna().sum() == 58
    assert main(["import-tidy", str(tmp_path / "nothing"), str(tmp_path / "x")]) == 1
    assert "icb-book import-tidy: error:" in capsys.readouterr().err
