"""The MAF vocabulary of the canonical cohort and what counts as loss of function (DESIGN §4).

Also maps the FoundationOne alteration table of IMvigor210 onto canonical ``mutations`` and
``cna`` rows (the importers use it).
"""

from __future__ import annotations

import re

import pandas as pd

from helpers.data.schema import VARIANT_CLASSES
from helpers.errors import SourceFormatError, Violation, check, raise_violations, require_columns

#: Variant_Classification values of the MAF specification (the canonical cohort's vocabulary).
MAF_VARIANT_CLASSES: frozenset[str] = frozenset(VARIANT_CLASSES)

#: Truncating MAF classes counted as LoF (DESIGN §4). This is cBioPortal's "truncating" protein
#: impact (cbioportal-frontend, ``getCanonicalMutationType.ts``: nonsense, frameshift ins/del,
#: nonstart = Translation_Start_Site, nonstop) plus canonical Splice_Site, which older cBioPortal
#: versions also put under "truncating" and newer ones show as a separate "splice" group.
#: Splice_Region is deliberately NOT included: cBioPortal's newer "splice" group maps it together
#: with Splice_Site, but a splice-region variant (1-3 exonic or 3-8 intronic bases from the
#: junction) rarely abolishes splicing, whereas Splice_Site hits the canonical +/-1,2 dinucleotide.
#: De_novo_Start_OutOfFrame (mapped to frameshift by cBioPortal) is not included either: it creates
#: an upstream out-of-frame ORF but leaves the canonical start intact.
TRUNCATING_CLASSES: frozenset[str] = frozenset(
    {
        "Nonsense_Mutation",
        "Frame_Shift_Del",
        "Frame_Shift_Ins",
        "Splice_Site",
        "Translation_Start_Site",
        "Nonstop_Mutation",
    }
)

#: MAF classes counted as nonsynonymous for tumour mutational burden (coding, protein-changing).
NONSYNONYMOUS_CLASSES: frozenset[str] = frozenset(
    {
        "Missense_Mutation",
        "Nonsense_Mutation",
        "Nonstop_Mutation",
        "Frame_Shift_Del",
        "Frame_Shift_Ins",
        "In_Frame_Del",
        "In_Frame_Ins",
        "Splice_Site",
        "Translation_Start_Site",
    }
)

#: copy_state of a deep (homozygous) deletion in the canonical ``cna`` table.
DEEP_DELETION: int = -2


#: FoundationOne short-variant classes (the part after ``known_short:`` / ``likely_short:`` in
#: the IMvigor210 ``variant_classification`` column) -> MAF class. Values with a ``|`` are
#: ambiguous at the category level and are resolved per row (see :func:`map_foundationone`).
FOUNDATIONONE_SHORT_VARIANT_CLASSES: dict[str, str] = {
    "Missense": "Missense_Mutation",
    "Nonsense": "Nonsense_Mutation",
    # FMI "splice site" calls are canonical-site or exon-edge variants reported as pathogenic:
    # Splice_Site (not Splice_Region).
    "Splice_Site": "Splice_Site",
    # Ambiguous: MAF splits frameshifts by direction; resolved from the net length of hgvsc.
    "Frameshift": "Frame_Shift_Del|Frame_Shift_Ins",
    # Ambiguous: resolved from the net length of hgvsc.
    "Inframe_Indel": "In_Frame_Del|In_Frame_Ins",
    # TERT promoter variants (c.-124C>T, c.-146C>T): upstream of the gene, MAF 5'Flank.
    "Promoter": "5'Flank",
    # Start codon lost (e.g. RB1 p.M1_A11>?): MAF Translation_Start_Site, which we count as LoF;
    # the IMvigor210 conversion (is_lof) does not.
    "Start_Lost": "Translation_Start_Site",
    # Ambiguous catch-all of FMI: resolved from protein_change. Stop-lost ("*359S") ->
    # Nonstop_Mutation (LoF here, not in is_lof); complex in-frame changes ("L747_A750>S",
    # "N771_P772>SVDNP") -> In_Frame_Del / In_Frame_Ins / Missense_Mutation by protein length.
    "Other": "Nonstop_Mutation|In_Frame_Del|In_Frame_Ins|Missense_Mutation",
}

#: FoundationOne copy-number classes (``deletion:``, ``amplification:``, ``gain:`` channels) ->
#: canonical copy_state.
FOUNDATIONONE_COPY_STATES: dict[str, int] = {
    "Homozygous_Deletion": DEEP_DELETION,  # FMI "loss(0, ...)": zero copies
    "Amplification": 2,  # focal amplification
    # Ambiguous: FMI "gain" is a non-focal copy increase (copy number can be high, e.g. 8);
    # mapped to low-level gain +1 because it is not a focal amplification.
    "Gain": 1,
}

_FOUNDATIONONE_CHANNELS = {
    "known_short": "short",
    "likely_short": "short",
    "deletion": "copy",
    "amplification": "copy",
    "gain": "copy",
}


#: How error messages name the table :func:`map_foundationone` reads.
_SOURCE_TABLE = "mutations.tsv"

_HGVSC_COORDS = re.compile(r"^c\.(-?\d+)(?:[+-]\d+)?(?:_(-?\d+)(?:[+-]\d+)?)?(.*)$")


def _net_length_change(hgvsc: str) -> int | None:
    """Net change in coding length of an indel written the FoundationOne way, or None."""
    match = _HGVSC_COORDS.match(str(hgvsc))
    if not match:
        return None
    start, end, change = match.groups()
    span = int(end) - int(start) + 1 if end is not None else 1
    if ">" in change:  # "GAG>AA", ">CGGTCTT" (deleted bases not spelt), "del>TT"
        ref, alt = change.split(">", 1)
        ref = ref.removeprefix("del")
        ref_len = len(ref) if ref else span
        return len(alt) - ref_len
    if change.startswith("delins"):
        return len(change[6:]) - span
    if change.startswith("del"):
        rest = change[3:]
        return -(int(rest) if rest.isdigit() else (len(rest) if rest else span))
    if change.startswith(("ins", "dup")):
        rest = change[3:]
        return int(rest) if rest.isdigit() else (len(rest) if rest else span)
    return None


_PROTEIN_COMPLEX = re.compile(r"^([A-Z])(\d+)_([A-Z])(\d+)>([A-Z]+)$")


def _resolve_other(protein_change: str) -> str | None:
    """MAF class of an FMI "Other" short variant from its protein change, or None."""
    text = str(protein_change)
    if re.match(r"^\*\d+[A-Z]", text):  # stop codon replaced by an amino acid: stop lost
        return "Nonstop_Mutation"
    match = _PROTEIN_COMPLEX.match(text)
    if match:
        replaced = int(match.group(4)) - int(match.group(2)) + 1
        inserted = len(match.group(5))
        if inserted < replaced:
            return "In_Frame_Del"
        if inserted > replaced:
            return "In_Frame_Ins"
        return "Missense_Mutation"
    return None


def map_foundationone(mutations_tsv: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map the FoundationOne alterations of IMvigor210 onto canonical ``mutations`` and ``cna``.

    Parameters
    ----------
    mutations_tsv
        The table ``imvigor210_urothelial_atezolizumab/mutations.tsv`` (columns sample_id, gene,
        variant_classification as ``channel:Class``, protein_change, hgvsc, vaf, ...).

    Returns
    -------
    (mutations, cna)
        ``mutations``: sample_id, gene, variant_classification (MAF), protein_change, vaf for
        short variants; ``cna``: sample_id, gene, copy_state for copy-number alterations. Both
        keep the row index of the input, so each canonical row can be traced to its source row.
        Categories are mapped by :data:`FOUNDATIONONE_SHORT_VARIANT_CLASSES` and
        :data:`FOUNDATIONONE_COPY_STATES`; ambiguous categories are resolved per row (frameshift
        and in-frame direction from the net length of ``hgvsc``; "Other" from
        ``protein_change``). Gene symbols are passed through unchanged (FoundationOne uses some
        previous symbols, e.g. MLL2 for KMT2D).

    Raises
    ------
    SourceFormatError
        Missing columns, a channel or class not in the mapping, a channel/class mismatch, or a
        row whose ambiguous class cannot be resolved.
    """
    require_columns(
        mutations_tsv,
        ["sample_id", "gene", "variant_classification", "protein_change", "hgvsc", "vaf"],
        _SOURCE_TABLE,
        SourceFormatError,
    )
    # examples show row labels and values, never a sample identifier of the source
    source = {"table": _SOURCE_TABLE, "show": ["gene"], "withhold": ["sample_id"]}
    parts = mutations_tsv["variant_classification"].astype(str).str.split(":", n=1, expand=True)
    violations: list[Violation] = []
    unsplit = parts[1].isna() if parts.shape[1] == 2 else pd.Series(True, index=parts.index)
    check(
        violations,
        mutations_tsv,
        unsplit,
        column="variant_classification",
        rule="must read 'channel:Class'",
        **source,
    )
    raise_violations(violations, "map_foundationone: cannot read the FoundationOne calls", SourceFormatError)
    channel, category = parts[0], parts[1]
    kind = channel.map(_FOUNDATIONONE_CHANNELS)
    unknown = kind.isna() | ~(
        ((kind == "short") & category.isin(FOUNDATIONONE_SHORT_VARIANT_CLASSES))
        | ((kind == "copy") & category.isin(FOUNDATIONONE_COPY_STATES))
    )
    unmapped = sorted(mutations_tsv.loc[unknown, "variant_classification"].astype(str).unique())
    check(
        violations,
        mutations_tsv,
        unknown,
        column="variant_classification",
        rule=f"channel/class not mapped ({unmapped}); extend FOUNDATIONONE_SHORT_VARIANT_CLASSES "
        "/ FOUNDATIONONE_COPY_STATES",
        **source,
    )
    raise_violations(violations, "map_foundationone: cannot map the FoundationOne calls", SourceFormatError)

    short = mutations_tsv[kind == "short"]
    maf = category[kind == "short"].map(FOUNDATIONONE_SHORT_VARIANT_CLASSES)
    resolved = maf.copy()
    for index in maf.index[maf.str.contains("|", regex=False)]:
        fmi_class = category[index]
        if fmi_class == "Other":
            value = _resolve_other(short.at[index, "protein_change"])
        else:
            net = _net_length_change(short.at[index, "hgvsc"])
            value = None
            if net is not None and net != 0:
                prefix = "Frame_Shift_" if fmi_class == "Frameshift" else "In_Frame_"
                value = prefix + ("Del" if net < 0 else "Ins")
        resolved[index] = value  # None: not resolvable, reported below
    check(
        violations,
        short,
        resolved.isna(),
        table=_SOURCE_TABLE,
        column="variant_classification",
        rule="an ambiguous FoundationOne class cannot be resolved from protein_change and hgvsc",
        show=["gene", "protein_change", "hgvsc"],
        withhold=["sample_id"],
    )
    raise_violations(violations, "map_foundationone: cannot map the FoundationOne calls", SourceFormatError)
    mutations = pd.DataFrame(
        {
            "sample_id": short["sample_id"],
            "gene": short["gene"],
            "variant_classification": resolved,
            "protein_change": short["protein_change"],
            "vaf": pd.to_numeric(short["vaf"], errors="coerce"),
        },
        index=short.index,
    )
    copies = mutations_tsv[kind == "copy"]
    cna = pd.DataFrame(
        {
            "sample_id": copies["sample_id"],
            "gene": copies["gene"],
            "copy_state": category[kind == "copy"].map(FOUNDATIONONE_COPY_STATES).astype(int),
        },
        index=copies.index,
    )
    return mutations, cna
