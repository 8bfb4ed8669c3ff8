"""Small vocabularies the importers share: cancer types, regimens, VEP consequences, gene symbols.

Each maps the free text or the older codes of a source onto the canonical vocabulary of
:mod:`helpers.data.schema`, or gives None (never a guess) where the text does not say.
"""

from __future__ import annotations

import re

import numpy as np

#: Source cancer-type names mapped onto the book's vocabulary (the simulator's); other names
#: are kept as they are.
CANCER_TYPE_SYNONYMS = {
    "non-small cell lung cancer": "NSCLC",
    "nsclc": "NSCLC",
    "lung adenocarcinoma": "NSCLC",
    "melanoma": "Melanoma",
    "skin cutaneous melanoma": "Melanoma",
    "cutaneous melanoma": "Melanoma",
    "renal": "RCC",
    "renal cell carcinoma": "RCC",
    "clear cell renal cell carcinoma": "RCC",
    "kidney": "RCC",
    "head & neck": "HNSCC",
    "head and neck cancer": "HNSCC",
    "head and neck squamous cell carcinoma": "HNSCC",
    "bladder": "Urothelial",
    "bladder cancer": "Urothelial",
    "urothelial carcinoma": "Urothelial",
    "bladder urothelial carcinoma": "Urothelial",
    "esophagogastric cancer": "Gastro-oesophageal",
    "gastric": "Gastro-oesophageal",
    "esophageal": "Gastro-oesophageal",
}

#: Panel sizes in Mb (coding territory used for TMB): MSK-IMPACT 341/410/468 (Samstein et al.
#: 2019, Methods: 0.98, 1.06 and 1.22 Mb); FoundationOne (Chalmers et al. 2017: ~1.1 Mb).
KNOWN_PANEL_SIZES_MB = {"IMPACT341": 0.98, "IMPACT410": 1.06, "IMPACT468": 1.22, "FoundationOne": 1.1}

#: VEP consequences (most severe first) mapped to MAF classes, as vcf2maf does; a consequence
#: list joined by '&' takes its most severe term. ``protein_protein_contact`` (an annotation of
#: the Riaz tables) is a missense change at a contact residue.
VEP_TO_MAF = (
    ("transcript_ablation", "Splice_Site"),
    ("splice_acceptor_variant", "Splice_Site"),
    ("splice_donor_variant", "Splice_Site"),
    ("stop_gained", "Nonsense_Mutation"),
    ("frameshift_variant", "Frame_Shift"),
    ("stop_lost", "Nonstop_Mutation"),
    ("start_lost", "Translation_Start_Site"),
    ("inframe_insertion", "In_Frame_Ins"),
    ("inframe_deletion", "In_Frame_Del"),
    ("missense_variant", "Missense_Mutation"),
    ("protein_altering_variant", "Missense_Mutation"),
    ("protein_protein_contact", "Missense_Mutation"),
    ("splice_region_variant", "Splice_Region"),
    ("incomplete_terminal_codon_variant", "Silent"),
    ("stop_retained_variant", "Silent"),
    ("synonymous_variant", "Silent"),
    ("5_prime_UTR_variant", "5'UTR"),
    ("3_prime_UTR_variant", "3'UTR"),
    ("intron_variant", "Intron"),
    ("upstream_gene_variant", "5'Flank"),
    ("downstream_gene_variant", "3'Flank"),
    ("intergenic_variant", "IGR"),
)

#: Previous HGNC symbols used by some public cohorts (Miao, Van Allen) → current symbols, as
#: the signatures in ``data/signatures`` use them (see its README).
SYMBOL_ALIASES = {
    "CTGF": "CCN2",
    "FAM101B": "RFLNB",
    "ATP5A1": "ATP5F1A",
    "ATP5B": "ATP5F1B",
    "ATP5C1": "ATP5F1C",
    "ATP5O": "ATP5PO",
    "ATP5G1": "ATP5MC1",
    "C10orf54": "VSIR",
    "IL8": "CXCL8",
    "ERO1L": "ERO1A",
}

_DRUG_TARGETS = {
    "pembrolizumab": "PD-1",
    "nivolumab": "PD-1",
    "cemiplimab": "PD-1",
    "dostarlimab": "PD-1",
    "tislelizumab": "PD-1",
    "sintilimab": "PD-1",
    "toripalimab": "PD-1",
    "camrelizumab": "PD-1",
    "spartalizumab": "PD-1",
    "atezolizumab": "PD-L1",
    "durvalumab": "PD-L1",
    "avelumab": "PD-L1",
    "ipilimumab": "CTLA-4",
    "tremelimumab": "CTLA-4",
}
_CHEMO_WORDS = (
    "chemo",
    "platin",
    "pemetrexed",
    "paclitaxel",
    "docetaxel",
    "gemcitabine",
    "etoposide",
    "fluorouracil",
    "5-fu",
    "nab-paclitaxel",
)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def harmonise_cancer_type(name: object) -> str:
    """The book's name of a cancer type (NSCLC, Melanoma, RCC, ...); unknown names unchanged.

    Parameters
    ----------
    name
        The source's cancer type (any case); None, NaN or blank give "Unknown".
    """
    if _missing(name) or str(name).strip() == "":
        return "Unknown"
    text = str(name).strip()
    return CANCER_TYPE_SYNONYMS.get(text.lower(), text)


def _targets_from_class_label(low: str) -> tuple[set[str], str] | None:
    """Targets named by a drug-class label ("PD-1", "PD-L1+CTLA-4", "Combo", ...).

    Returns (targets, text to look for chemotherapy and 'or' in), or None where the label names
    a sequence or an undecided "PD-1/PD-L1" (no canonical regimen).
    """
    norm = low.replace(" ", "").replace("pd1", "pd-1").replace("pdl1", "pd-l1")
    norm = norm.replace("pdl-1", "pd-l1").replace("ctla4", "ctla-4")
    if (
        re.search(r"\bcombo\b|combination", low)
        and "ctla" in low
        or (
            ("pd-1" in norm or "pd-l1" in norm)
            and "ctla-4" in norm
            and ("+" in norm or "combination" in norm)
        )
    ):
        return {"PD-1", "CTLA-4"}, "+"
    if "ctla-4then" in norm or "pd-1then" in norm:
        return None  # a sequence of two drugs is not one regimen
    if "pd-1/pd-l1" in norm or "pd-1orpd-l1" in norm:
        return None
    if norm.startswith("pd-l1") or norm == "anti-pd-l1":
        return {"PD-L1"}, low
    if norm.startswith("pd-1") or norm == "anti-pd-1":
        return {"PD-1"}, low
    if norm.startswith("ctla-4") or norm == "anti-ctla-4":
        return {"CTLA-4"}, low
    if re.search(r"\bcombo\b", low):
        return {"PD-1", "CTLA-4"}, "+"
    return set(), low


def regimen_from_text(*texts: object) -> str | None:
    """The canonical regimen named by drug names or drug classes in free text, or None.

    The first text that names a regimen wins. Drug names (nivolumab, atezolizumab, ...) give
    their target; two targets joined by "or" are ambiguous (None); PD-(L)1 with CTLA-4 is the
    combination; a chemotherapy word makes it ICB+chemo. Drug-class labels are understood too
    ("PD-1", "PD-L1", "CTLA-4", "PD-1/PD-L1+CTLA-4", "Combo"); "PD-1/PD-L1" does not say which
    and gives None.

    Parameters
    ----------
    *texts
        Free-text fields of one patient, most specific first (None and NaN are skipped).
    """
    for text in texts:
        if _missing(text):
            continue
        t = str(text).strip()
        if not t:
            continue
        low = t.lower()
        targets = {target for drug, target in _DRUG_TARGETS.items() if drug in low}
        if not targets:
            from_label = _targets_from_class_label(low)
            if from_label is None:
                return None
            targets, low = from_label
        if not targets:
            continue
        if any(w in low for w in _CHEMO_WORDS):
            return "ICB+chemo"
        if len(targets) == 1:
            return {"PD-1": "anti-PD-1", "PD-L1": "anti-PD-L1", "CTLA-4": "anti-CTLA-4"}[next(iter(targets))]
        if " or " in low or " then " in low or "-to-" in low:
            return None
        if "CTLA-4" in targets:
            return "PD-1+CTLA-4"
        return None  # PD-1 with PD-L1: not a canonical regimen
    return None


def vep_to_maf(consequence: object, hgvsc: object = None) -> str | None:
    """MAF Variant_Classification of a VEP consequence (most severe term of an '&' list).

    Parameters
    ----------
    consequence
        VEP consequence terms joined by '&'.
    hgvsc
        The HGVS coding change; tells a frameshift insertion (ins, dup) from a deletion.

    Returns
    -------
    str or None
        The MAF class, or None for a term outside :data:`VEP_TO_MAF`.
    """
    if _missing(consequence):
        return None
    terms = set(str(consequence).split("&"))
    for term, maf in VEP_TO_MAF:
        if term in terms:
            if maf == "Frame_Shift":
                change = str(hgvsc or "")
                return "Frame_Shift_Ins" if "ins" in change or "dup" in change else "Frame_Shift_Del"
            return maf
    return None
