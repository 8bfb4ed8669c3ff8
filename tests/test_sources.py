"""Importers of real cohorts: the tidy public tables and cBioPortal study folders.

The cBioPortal folders are written at test time from the real public tables (nothing is
copied into the repository): Rizvi 2018 (MSK NSCLC: its clinical table keeps the cBioPortal
attribute values, e.g. PFS_STATUS '1:Progressed') and IMvigor210 (OS_STATUS '1:DECEASED',
best response, FoundationOne calls as MAF + discrete CNA + gene panel, TPM matrix).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.data.cohort import Cohort
from helpers.analysis.lof import map_foundationone
from helpers.analysis.resistance import classify_resistance
from helpers.units import DAYS_PER_MONTH
from helpers.data.sources import (SourceFormatError, cbioportal_to_cohort, harmonise_cancer_type,
                             import_cbioportal, import_tidy, pseudonym_path, read_pseudonyms,
                             read_cbioportal_table, regimen_from_text, tidy_to_cohort,
                             vep_to_maf)
from helpers.stats.survival import kaplan_meier, km_median
from helpers.analysis.validation import PUBLIC_COHORTS, os_months, pfs_months

RIAZ = "riaz2017_melanoma_nivolumab"
IMVIGOR = "imvigor210_urothelial_atezolizumab"
RIZVI = "rizvi2018_nsclc_msk"
LORIS = "chang2024_loris_validation_cohorts"


@pytest.fixture(scope="module")
def imported(public_dir):
    """Every public cohort imported once (default rule, restricted)."""
    return {f: tidy_to_cohort(public_dir / f) for f in PUBLIC_COHORTS}


def _source_ids(public_dir: Path, folder: str) -> set[str]:
    ids = set(pd.read_csv(public_dir / folder / "clinical.tsv", sep="\t",
                          usecols=["patient_id"], dtype=str)["patient_id"])
    s = public_dir / folder / "samples.tsv"
    if s.is_file():
        ids |= set(pd.read_csv(s, sep="\t", usecols=["sample_id"], dtype=str)["sample_id"])
    return ids


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
    # no source identifier survives in any table; every identifier is a pseudonym
    source = _source_ids(public_dir, folder)
    pmap = res.pseudonyms
    pseudo_patients = set(pmap.loc[pmap["kind"] == "patient", "pseudonym"])
    pseudo_samples = set(pmap.loc[pmap["kind"] == "sample", "pseudonym"])
    assert set(c.patients["patient_id"]) <= pseudo_patients
    assert set(c.samples["sample_id"]) <= pseudo_samples
    for name, df in c.tables.items():
        values: set[str] = set()
        if name == "expression":
            values = set(map(str, df.columns))
        else:
            for col in ("patient_id", "sample_id"):
                if col in df.columns:
                    values |= set(df[col].astype(str))
        assert not values & source, (name, sorted(values & source)[:3])
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
    facts = tidy_to_cohort(public_dir / RIAZ, death_is_progression=True,
                           include_expression=False).cohort
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
    assert repairs == {"os_time_without_event": 1, "death_without_time": 1,
                       "pfs_after_death": 3, "followup_before_pfs": 4}
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
        "anti-PD-1": 27, "PD-1+CTLA-4": 4, "anti-PD-L1": 2}
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


def test_import_writes_mapping_beside_the_folder_and_keeps_it(public_dir, tmp_path):
    out = tmp_path / "cohorts" / "gide"
    first = import_tidy(public_dir / "gide2019_melanoma_pd1", out)
    mapping = pseudonym_path(out)
    assert mapping == tmp_path / "cohorts" / "gide.pseudonyms.tsv" and mapping.is_file()
    assert not any("pseudonym" in p.name for p in out.iterdir())
    loaded = Cohort.load(out)
    assert loaded.access == "restricted"
    # nothing in the cohort folder names a source identifier
    source = _source_ids(public_dir, "gide2019_melanoma_pd1")
    blob = b"".join(p.read_bytes() for p in out.iterdir())
    assert not any(s.encode() in blob for s in source)
    second = import_tidy(public_dir / "gide2019_melanoma_pd1", out)
    assert read_pseudonyms(mapping).equals(first.pseudonyms)
    assert second.pseudonyms.equals(first.pseudonyms)


def test_bad_tidy_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="clinical.tsv"):
        tidy_to_cohort(tmp_path)
    pd.DataFrame({"patient_id": ["a", "b"], "cancer_type": "Melanoma",
                  "best_overall_response": ["PD", "XX"], "pfs_months": [1.0, 2.0],
                  "pfs_event": [1, 0], "os_months": [3.0, 4.0], "os_event": [1, 0]}
                 ).to_csv(tmp_path / "clinical.tsv", sep="\t", index=False)
    with pytest.raises(SourceFormatError, match="unknown codes \\['XX'\\]"):
        tidy_to_cohort(tmp_path)
    pd.DataFrame({"patient_id": ["a", "b"], "cancer_type": "Melanoma",
                  "best_overall_response": ["PD", "SD"], "pfs_months": [1.0, 2.0],
                  "pfs_event": [1, 2], "os_months": [3.0, 4.0], "os_event": [1, 0]}
                 ).to_csv(tmp_path / "clinical.tsv", sep="\t", index=False)
    with pytest.raises(SourceFormatError, match="PFS event: event flags must be 0 or 1"):
        tidy_to_cohort(tmp_path)


@pytest.mark.parametrize("texts, expected", [
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
])
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
    meta = ["#" + "\t".join(cols), "#" + "\t".join(c.lower() for c in cols),
            "#" + "\t".join("STRING" if df[c].dtype == object else "NUMBER" for c in cols),
            "#" + "\t".join("1" for _ in cols), "#" + "\t".join("PATIENT" for _ in cols)][:n_meta]
    body = df.to_csv(sep="\t", index=False, na_rep="NA", lineterminator="\n")
    path.write_text("\n".join(meta) + "\n" + body)


def write_rizvi_study(public_dir: Path, dest: Path) -> Path:
    """A cBioPortal folder (clinical only, with a gene panel matrix) from Rizvi 2018."""
    c = pd.read_csv(public_dir / RIZVI / "clinical.tsv", sep="\t", dtype=str)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "meta_study.txt").write_text(
        "type_of_cancer: nsclc\ncancer_study_identifier: nsclc_pd1_msk_2018\n"
        "name: Non-Small Cell Lung Cancer (MSK, J Clin Oncol 2018)\n"
        "citation: Rizvi et al. J Clin Oncol 2018\n")
    patient = pd.DataFrame({"PATIENT_ID": c["src_patientId"], "AGE": c["src_AGE"],
                            "SEX": c["src_SEX"], "PFS_MONTHS": c["src_PFS_MONTHS"],
                            "PFS_STATUS": c["src_PFS_STATUS"],
                            "TREATMENT_TYPE": c["src_TREATMENT_TYPE"],
                            "DURABLE_CLINICAL_BENEFIT": c["src_durable_clinical_benefit"]})
    sample = pd.DataFrame({"PATIENT_ID": c["src_patientId"],
                           "SAMPLE_ID": c["src_sample_sampleId"],
                           "CANCER_TYPE": "Non-Small Cell Lung Cancer",
                           "CANCER_TYPE_DETAILED": c["src_sample_CANCER_TYPE_DETAILED"],
                           "TMB_NONSYNONYMOUS": c["tmb"]})
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
        "type_of_cancer: blca\ncancer_study_identifier: blca_imvigor210_test\n"
        "name: IMvigor210 (test build)\n")
    words = {"CR": "Complete Response", "PR": "Partial Response", "SD": "Stable Disease",
             "PD": "Progressive Disease", "NE": "Not Evaluable"}
    os_status = c["os_event"].map({1.0: "1:DECEASED", 0.0: "0:LIVING"})
    patient = pd.DataFrame({"PATIENT_ID": c["patient_id"],
                            "SEX": c["sex"].str.capitalize(),
                            "OS_MONTHS": c["os_months"], "OS_STATUS": os_status,
                            "BEST_OVERALL_RESPONSE": c["best_overall_response"].map(words),
                            "TREATMENT": "Atezolizumab"})
    fm = s[s["assay"].str.contains("DNA")]
    rna = s[s["assay"].str.contains("RNA")]
    tmb = c.set_index("patient_id")["tmb"]
    sample = pd.DataFrame({"SAMPLE_ID": s["sample_id"], "PATIENT_ID": s["patient_id"],
                           "CANCER_TYPE": "Bladder Cancer",
                           "TMB_NONSYNONYMOUS": np.where(s["assay"].str.contains("DNA"),
                                                         s["patient_id"].map(tmb), np.nan)})
    _write_clinical(dest / "data_clinical_patient.txt", patient)
    _write_clinical(dest / "data_clinical_sample.txt", sample)
    short, cna = map_foundationone(m)
    maf = pd.DataFrame({"Hugo_Symbol": short["gene"], "Entrez_Gene_Id": 0,
                        "Tumor_Sample_Barcode": short["sample_id"],
                        "Variant_Classification": short["variant_classification"],
                        "HGVSp_Short": "p." + short["protein_change"].astype(str)})
    (dest / "data_mutations.txt").write_text(
        "#version 2.4\n" + maf.to_csv(sep="\t", index=False, lineterminator="\n"))
    genes = sorted(set(m["gene"]))
    mat = pd.DataFrame(0, index=genes, columns=list(fm["sample_id"]))
    for r in cna.itertuples():
        mat.loc[r.gene, r.sample_id] = r.copy_state
    mat.index.name = "Hugo_Symbol"
    mat.reset_index().to_csv(dest / "data_cna.txt", sep="\t", index=False)
    (dest / "data_gene_panel_foundationone.txt").write_text(
        "stable_id: FoundationOne\ndescription: genes reported in IMvigor210\ngene_list: "
        + "\t".join(genes) + "\n")
    pd.DataFrame({"SAMPLE_ID": fm["sample_id"], "mutations": "FoundationOne",
                  "cna": "FoundationOne"}).to_csv(dest / "data_gene_panel_matrix.txt", sep="\t",
                                                  index=False)
    expr = pd.read_csv(d / "expression.tsv.gz", sep="\t").set_index("gene")
    tpm = np.clip(2.0 ** expr - 0.001, 0, None)
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
    for what in ("overall survival", "best overall response", "mutation calls",
                 "copy-number", "expression"):
        assert what in lacks
    assert any("DURABLE_CLINICAL_BENEFIT is not a RECIST best response" in n
               for n in c.meta["notes"])
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
    jak1 = c.mutations[(c.mutations["gene"] == "JAK1")
                       & c.mutations["variant_classification"].str.startswith("Frame_Shift")]
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
    study = write_rizvi_study(public_dir, tmp_path / "s1")
    text = (study / "data_clinical_patient.txt").read_text()
    (study / "data_clinical_patient.txt").write_text(text.replace("1:Progressed", "1:Maybe", 1)
                                                     .replace("0:Not Progressed", "Unclear", 1))
    with pytest.raises(SourceFormatError, match="data_clinical_patient.txt: PFS_STATUS: cannot "
                                                "read the status 'Unclear'"):
        cbioportal_to_cohort(study)
    study = write_rizvi_study(public_dir, tmp_path / "s2")
    (study / "data_mutations.txt").write_text(
        "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\nB2M\tNOT-A-SAMPLE\t"
        "Nonsense_Mutation\n")
    with pytest.raises(SourceFormatError, match="1 rows name samples absent"):
        cbioportal_to_cohort(study)


def test_command_line(public_dir, tmp_path, capsys):
    from helpers.book.cli import main

    study = write_rizvi_study(public_dir, tmp_path / "study")
    assert main(["import-cbioportal", str(study), str(tmp_path / "rizvi"), "--open"]) == 0
    out = capsys.readouterr().out
    assert "access: open" in out and "rizvi.pseudonyms.tsv" in out
    assert Cohort.load(tmp_path / "rizvi").access == "open"
    assert main(["import-tidy", str(public_dir / RIAZ), str(tmp_path / "riaz"),
                 "--death-is-progression"]) == 0
    riaz = Cohort.load(tmp_path / "riaz")
    assert riaz.access == "restricted"
    assert riaz.index_courses()["progression_day"].notna().sum() == 58
    assert main(["import-tidy", str(tmp_path / "nothing"), str(tmp_path / "x")]) == 1
    assert "icb-book import-tidy: error:" in capsys.readouterr().err
