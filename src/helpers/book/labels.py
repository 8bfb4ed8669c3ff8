"""Words for the names in result tables: column headers, row labels and label values.

The analyses name their columns for code (``hr``, ``median_ci_low``, ``IFNG_AYERS2017``); a
reader of the book sees words with their units ("HR", "Median (months)", "IFN-γ (Ayers 2017)").
:func:`label` gives the words for a header or row label, :func:`value_labels` the words for the
values of a label column (a column of resistance classes, signatures, comparisons), and
:func:`column_kind` what kind of number a column name announces (a count, a ratio, a p-value),
which decides how :func:`helpers.book.tables.publish_table` prints it.

Where the words come from:

* a fixed vocabulary (:data:`VOCABULARY`) for the column names the book's tables use, with the
  resistance classes as the chapters name them ("Primary resistance", "Ongoing benefit");
* signature names from the metadata of ``data/signatures/*.gmt`` (the description field: a
  single cited source gives "(First author year)", a parenthetical at its end gives the name,
  e.g. ``IFNG_AYERS2017`` → "IFN-γ (Ayers 2017)"); :data:`SIGNATURE_NAMES` names only the sets
  whose description carries no name;
* compositions of these ("primary (FACTS)", "n_acquired", "IFNG_AYERS2017_p");
* for anything else a readable transform (:func:`readable`: underscores to spaces, known
  abbreviations in capitals, first letter upper). No name raises; cancer types, genes and other
  names already written for readers pass unchanged.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping

from helpers.analysis.lof.names import COMPARISON_LABELS
from helpers.data.genesets import SIGNATURE_DIR
from helpers.units import CLASSES, TIMEPOINTS

__all__ = [
    "COUNT",
    "MONTHS",
    "NUMBER",
    "PERCENT",
    "PROPORTION",
    "P_VALUE",
    "Q_VALUE",
    "RATIO",
    "VOCABULARY",
    "column_kind",
    "label",
    "readable",
    "signature_names",
    "value_labels",
]

# ----------------------------------------------------------------------------- number kinds

#: Kinds of number a column holds; :mod:`helpers.book.tables` prints each kind its own way.
COUNT = "count"  # whole numbers with thousands separators
RATIO = "ratio"  # hazard, odds and risk ratios, E-values: 2 decimals
PERCENT = "percent"  # already in percent: 1 decimal
PROPORTION = "proportion"  # a share between 0 and 1, printed as a percentage with 1 decimal
MONTHS = "months"  # durations in months: 1 decimal
P_VALUE = "p"  # p-values as a journal prints them
Q_VALUE = "q"  # Benjamini-Hochberg q-values, printed like p-values
NUMBER = "number"  # any other number: 3 significant digits

# ----------------------------------------------------------------------------- vocabulary

#: The resistance classes as the chapters name them (``units.CLASSES``).
CLASS_LABELS: dict[str, str] = {
    "primary": "Primary resistance",
    "acquired": "Acquired resistance",
    "ongoing_benefit": "Ongoing benefit",
    "not_evaluable": "Not evaluable",
}
#: Sample timepoints (``units.TIMEPOINTS``).
TIMEPOINT_LABELS: dict[str, str] = {"pre": "Pre-treatment", "on": "On treatment", "post": "Post-progression"}

#: Column names of the book's tables and their words (units in parentheses).
VOCABULARY: dict[str, str] = {
    **CLASS_LABELS,
    **TIMEPOINT_LABELS,
    "total": "Total",
    # estimates and their statistics
    "hr": "HR",
    "hazard_ratio": "HR",
    "hr_fixed": "HR, fixed effect",
    "hr_random": "HR, random effects",
    "shrunken_hr": "HR, shrunken",
    "or": "OR",
    "odds_ratio": "Odds ratio",
    "firth_or": "Odds ratio (Firth)",
    "fisher_or": "Odds ratio (Fisher)",
    "or_per_10gy": "OR per 10 Gy",
    "rr": "Risk ratio",
    "rr_limit": "Risk ratio, interval limit",
    "evalue": "E-value",
    "evalue_limit": "E-value, interval limit",
    "effect": "OR or HR per SD",
    "log_effect": "Log OR or log HR per SD",
    "log_estimate": "Log estimate",
    "estimate": "Estimate",
    "shift": "Shift",
    "difference": "Difference",
    "coef": "Coefficient",
    "intercept": "Intercept",
    "slope_per_gy": "Slope per Gy (log odds)",
    "se": "SE",
    "sd": "SD",
    "z": "z",
    "statistic": "Statistic",
    "chi2": "χ²",
    "df": "df",
    "p": "p",
    "p_value": "p",
    "pvalue": "p",
    "q": "q",
    "q_value": "q",
    "fdr_q": "q",
    "q_bh": "q (BH)",
    "fisher_p": "p (Fisher)",
    "firth_p": "p (Firth)",
    "fisher_q": "q (Fisher)",
    "firth_q": "q (Firth)",
    "max_p": "p (larger of Fisher and Firth)",
    "max_q": "q (larger of Fisher and Firth)",
    "p_q": "p (Cochran's Q)",
    "p_one_sided": "p (one-sided)",
    "homogeneity_p": "p (homogeneity)",
    "chi2_p": "p (χ²)",
    "jt_p": "p (Jonckheere–Terpstra)",
    "jt_statistic": "Jonckheere–Terpstra statistic",
    "jt_z": "Jonckheere–Terpstra z",
    "spearman_rho": "Spearman ρ",
    "spearman_p": "p (Spearman)",
    "mannwhitney_u": "Mann–Whitney U",
    "auc": "AUC",
    "tau2": "τ²",
    "i2": "I² (%)",
    "i2_percent": "I² (%)",
    "i2_pct": "I² (%)",
    "hk_factor": "Hartung–Knapp factor",
    "weight": "Weight",
    "weight_own": "Weight of the own estimate",
    "k": "k",
    "median": "Median",
    "median_months": "Median (months)",
    "median_change": "Median change",
    "q1": "Q1",
    "q3": "Q3",
    "rmst": "RMST (months)",
    "survival_6m": "Survival at 6 months (%)",
    "survival_12m": "Survival at 12 months (%)",
    "orr": "ORR",
    "ORR %": "ORR (%)",
    "orr_pct_reported": "ORR as reported (%)",
    "pooled_logit": "Pooled ORR, logit model",
    "pooled_ft": "Pooled ORR, Freeman–Tukey",
    "threshold": "Threshold",
    # counts
    "n": "n",
    "patients": "Patients",
    "n_patients": "Patients",
    "deaths": "Deaths",
    "events": "Events",
    "n_events": "Events",
    "n_exposed": "Exposed",
    "n_exposed_events": "Events among the exposed",
    "courses": "Courses",
    "responses": "Responses",
    "pairs": "Pairs",
    "n_pairs": "Pairs",
    "n_carriers": "Carriers",
    "n_non_carriers": "Non-carriers",
    "carriers_case": "Carriers, case group",
    "carriers_ref": "Carriers, reference group",
    "n_case": "n, case group",
    "n_ref": "n, reference group",
    "n_strata": "Strata",
    "n_dropped": "Dropped",
    "n_missing": "Missing",
    "n_responders": "Responders",
    "n_non_responders": "Non-responders",
    "firth_n": "n (Firth)",
    "cancer_types": "Cancer types",
    "genes": "Genes",
    "present": "Genes present",
    "share_present": "Genes present (%)",
    "immune_enriched_share": "Immune-enriched (%)",
    "immune_enriched": "Immune-enriched (%)",
    "gained_immune": "Became immune-enriched (%)",
    "lost_immune": "Lost immune enrichment (%)",
    "same_subtype": "Same subtype (%)",
    # label and flag columns
    "cancer_type": "Cancer type",
    "resistance_class": "Resistance class",
    "signature": "Signature",
    "gene": "Gene",
    "comparison": "Comparison",
    "covariate": "Covariate",
    "covariates_dropped": "Covariates dropped",
    "adjusted_for": "Adjusted for",
    "timepoint": "Timepoint",
    "setting": "Setting",
    "response_scope": "Response scope",
    "rt_modality": "RT modality",
    "arm_role": "Arm",
    "drug_class": "Drug class",
    "melanoma_pd1": "Melanoma anti-PD-1",
    "immune_phenotype": "Immune phenotype",
    "in_heterogeneity": "In the heterogeneity analysis",
    "few_deaths": "Few deaths",
    "firth_covariates": "Covariates (Firth)",
    "firth_dropped": "Covariates dropped (Firth)",
    "firth_converged": "Firth fit converged",
    "covers_1": "Interval covers 1",
    "origin": "Time origin",
    "immune_axis": "Immune axis",
    "fibrotic_axis": "Fibrotic axis",
    "early_window": "Early window",
    "time_updated_ps": "Time-updated performance status",
    "prior_rt": "RT before ICB",
}

#: Signature names where the GMT description gives none (a composite source or no citation).
SIGNATURE_NAMES: dict[str, str] = {
    "ANTIGEN_PRESENTATION_MHCI": "MHC class I antigen presentation",
    "TCELL_DYSFUNCTION": "T-cell dysfunction",
    "CAF_MATRIX": "CAF and matrix",
    "PROLIFERATION": "Proliferation",
    "EMT_INVASIVENESS": "EMT and invasiveness",
    "WNT_SIGNALLING": "WNT signalling",
    "GLYCOLYSIS": "Glycolysis",
    "OXPHOS": "OXPHOS",
    "CYTOLYTIC_ACTIVITY": "Cytolytic activity",
    "T_reg_traffic": "Treg traffic",
}

#: Settings and response scopes of the radiotherapy literature (chapter 6).
RT_LABELS: dict[str, str] = {
    "salvage_after_icb_failure": "Salvage after ICB failure",
    "rt_with_icb_naive": "RT with ICB, ICB-naive patients",
    "overall": "Overall response",
    "out_of_field": "Out-of-field (abscopal) response",
    "in_field": "In-field response",
    "unreported": "Scope not reported",
}

#: Words written in capitals (or as given) when a name is turned into words.
ABBREVIATIONS: dict[str, str] = {
    w.lower(): w
    for w in (
        "BED CAF CI CR DC DNA ECOG EMT EQD2 FDR GEP HR ICB IFN IQR LoF MHC MHCI MHCII MDSC MSI "
        "NK NE NSCLC OR ORR OS OXPHOS PD PFS PPS PR PS RCC RMST RNA RR RT SBRT SD SE SITC TGF TMB "
        "TME TNBC WNT Gy"
    ).split()
}

#: Columns whose values are never translated: lists of model terms, notes and reasons.
FREE_TEXT_COLUMNS = frozenset(
    {"adjusted_for", "covariates_dropped", "firth_covariates", "firth_dropped", "note", "reason", "studies"}
)
#: RT modalities and the arms of the literature rows (chapter 6).
RT_MODALITY_LABELS: dict[str, str] = {
    "SBRT": "SBRT",
    "conventional": "Conventional",
    "hypofractionated": "Hypofractionated",
    "low_dose": "Low dose",
    "mixed": "Mixed",
    "none": "None",
    "all": "All",
    "all modalities": "All modalities",
}
RT_ARM_LABELS: dict[str, str] = {"rt": "RT", "icb_alone": "ICB alone"}

# Value vocabularies of label columns, each applied only to a column whose values all belong
# to it (so "primary" in a column of analyses is not read as a resistance class).
_LOWER_WORDS = {"vs", "p", "q", "n", "k", "df", "z", "log2", "log10"}
_EXTRA_ALL = {"all": "All", "total": "Total"}
_AXES = ("immune_axis", "fibrotic_axis")  # scored like signatures (chapter 5)


def _capitalised(text: str) -> str:
    """First letter upper when the first word is written in lower case ("ccRCC", "vs" stay)."""
    first = text.split(" ", 1)[0]
    if first[:1].isalpha() and first == first.lower() and first not in _LOWER_WORDS:
        return text[:1].upper() + text[1:]
    return text


def _value_groups() -> list[dict[str, str]]:
    return [
        {**{c: CLASS_LABELS[c] for c in CLASSES}, **_EXTRA_ALL},
        {t: TIMEPOINT_LABELS[t] for t in TIMEPOINTS},
        {k: _capitalised(v) for k, v in COMPARISON_LABELS.items()},
        {**signature_names(), **{a: VOCABULARY[a] for a in _AXES}},
        RT_LABELS,
        RT_MODALITY_LABELS,
        RT_ARM_LABELS,
    ]


# ----------------------------------------------------------------------------- signatures

_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ"}
_CITATION = re.compile(r"^(?P<author>[A-Z][A-Za-z'\-]+)(?: et al\.)? (?P<year>(?:19|20)\d\d)\b")
_ABBREVIATION = re.compile(r"[A-Z][A-Z0-9\-]{1,7}")


def _signature_name(set_id: str, description: str) -> str:
    """Words for a signature from its GMT description (see the module docstring)."""
    cited = _CITATION.match(description)
    single = cited is not None and not re.search(r"[+;]", description)
    citation = f"{cited['author']} {cited['year']}" if single and cited else ""
    own = re.search(r"\(([^()]*)\)\s*$", description) if single else None
    name, abbreviation = SIGNATURE_NAMES.get(set_id, ""), ""
    if own and "/" not in own[1] and ".gmt" not in own[1]:
        text = re.sub(r"^\d+-gene\s+", "", own[1].strip())
        text = re.sub(r"\b(alpha|beta|gamma)\b", lambda m: _GREEK[m[1]], text)
        head, _, tail = text.rpartition(", ")
        if _ABBREVIATION.fullmatch(text):
            abbreviation = text
        elif head and _ABBREVIATION.fullmatch(tail):
            name, abbreviation = name or _capitalised(head), tail
        else:
            name = name or _capitalised(text)
    name = name or readable(set_id)
    inner = "; ".join(part for part in (abbreviation, citation) if part)
    return f"{name} ({inner})" if inner else name


@functools.cache
def signature_names() -> dict[str, str]:
    """``{signature id: words}`` for every set in ``data/signatures/*.gmt`` (empty if none)."""
    names: dict[str, str] = {}
    try:
        files = sorted(SIGNATURE_DIR.glob("*.gmt"))
        for path in files:
            for line in path.read_text(encoding="utf-8").splitlines():
                fields = line.split("\t")
                if len(fields) >= 2 and fields[0].strip() and not line.startswith("#"):
                    names.setdefault(fields[0].strip(), _signature_name(fields[0].strip(), fields[1].strip()))
    except OSError:
        return {}
    return names


# ----------------------------------------------------------------------------- labels

_SNAKE = re.compile(r"^[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+$")
_CHAPTER = re.compile(r"^(\d\d)_([a-z0-9_]+)$")
#: Name stems that combine with a group: ``n_acquired`` → "n, acquired".
_STEMS = ("n", "median", "deaths", "carriers", "samples", "rmst", "immune_enriched")
_GROUP_WORDS = {"non_responders": "non-responders", "non_carriers": "non-carriers"}


def readable(name: object) -> str:
    """A name in words without the vocabulary: underscores to spaces, first letter upper.

    Words of :data:`ABBREVIATIONS` are written as there (``time_updated_ps`` → "Time updated
    PS"); an identifier in capitals (``WNT_SIGNALLING``) is written in lower case first.
    """
    text = "" if name is None else str(name)
    if not _SNAKE.match(text):
        return _capitalised(text)
    words = text.split("_")
    shouting = text == text.upper() and any(c.isalpha() for c in text)
    out = []
    for word in words:
        key = word.lower()
        if key in ABBREVIATIONS:
            out.append(ABBREVIATIONS[key])
        elif shouting or word == word.lower():
            out.append(key)
        else:
            out.append(word)
    return _capitalised(" ".join(out))


def _split_unit(text: str) -> tuple[str, str]:
    """``"RMST (months)"`` → ``("RMST", " (months)")``: a trailing unit in parentheses."""
    m = re.match(r"^(.*?)( \((?:months|%|Gy)\))$", text)
    return (m[1], m[2]) if m else (text, "")


@functools.cache
def _label(text: str) -> str:
    if text in VOCABULARY:
        return VOCABULARY[text]
    signatures = signature_names()
    if text in signatures:
        return signatures[text]
    if text in COMPARISON_LABELS:
        return _capitalised(COMPARISON_LABELS[text])
    chapter = _CHAPTER.match(text)
    if chapter:
        return f"{int(chapter[1])}. {readable(chapter[2])}"
    prefixes = {**signatures, **{a: VOCABULARY[a] for a in _AXES}}
    for sig in sorted(prefixes, key=len, reverse=True):  # "IFNG_AYERS2017_p"
        if text.startswith(sig + "_"):
            rest = _label(text[len(sig) + 1 :])
            if rest[1:2].islower():  # "Median change" → "median change"; "HR", "p" stay
                rest = rest[:1].lower() + rest[1:]
            return f"{prefixes[sig]}: {rest}"
    m = re.match(r"^(.+?) (\(.*\))$", text)  # "primary (FACTS)", "q (both)"
    if m and m[1] in VOCABULARY:
        return f"{VOCABULARY[m[1]]} {m[2]}"
    m = re.match(r"^(.+?): (.*)$", text)  # "acquired: deaths"
    if m and m[1] in VOCABULARY:
        return f"{VOCABULARY[m[1]]}: {m[2]}"
    for stem in _STEMS:  # "n_acquired", "median_non_responders", "rmst_primary"
        if text.startswith(stem + "_"):
            group = text[len(stem) + 1 :]
            word = _GROUP_WORDS.get(group, readable(group).lower() if _SNAKE.match(group) else group)
            head, unit = _split_unit(VOCABULARY.get(stem, readable(stem)))
            return f"{head}, {word}{unit}"
    return readable(text)


def label(name: object, overrides: Mapping[str, str] | None = None) -> str:
    """Words for a column header or row label (never raises; unknown names are made readable)."""
    if overrides and isinstance(name, str) and name in overrides:
        return overrides[name]
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return ""
    return _label(str(name))


def value_labels(values: Iterable[object], column: object = None) -> dict[str, str]:
    """Words for the values of a label column, or ``{}`` when they are not vocabulary names.

    A column is translated only when every one of its (non-empty) values belongs to one value
    vocabulary: resistance classes (with "all"/"total"), timepoints, LoF comparisons, signatures,
    the radiotherapy literature's settings, scopes, modalities and arms. Other text, and the
    columns that list model terms or say why (:data:`FREE_TEXT_COLUMNS`), are left as written.
    """
    if column is not None and str(column) in FREE_TEXT_COLUMNS:
        return {}
    distinct = {v for v in values if isinstance(v, str)}
    if not distinct:
        return {}
    for group in _value_groups():
        if distinct <= group.keys():
            return {v: group[v] for v in distinct}
    return {}


# ----------------------------------------------------------------------------- kinds

_P_NAME = re.compile(r"(^|[_ :])p$|^p_|^p \(|^p[- ]?value$")
_Q_NAME = re.compile(r"(^|[_ :])q$|^q_(value|bh)$|^fdr_q$|(^|: )q \((both|bh)\)$")
_RATIO_NAME = re.compile(r"(^|_)(hr|or|rr|odds_ratio|hazard_ratio)(_|$)|^evalue|^effect$")


def column_kind(name: object) -> str | None:
    """The kind of number a column name announces, or ``None`` when the name says nothing.

    p-values: ``p``, ``p_value``, ``*_p``, ``p_*``, "Fisher p", "OS: p"; q-values: ``q``,
    ``q_value``, ``fdr_q``, ``q_bh``, ``*_q``, "q (both)", "OS: q (BH)" (a bare ``q`` beside
    ``df`` is Cochran's Q, which :mod:`helpers.book.tables` tells from the table); percentages:
    names with "%", "percent", ``pct`` or ``i2``; proportions: ``share``, ``survival_<n>m``,
    ``orr``, power; months: names with "month" and RMST; ratios: ``hr``, ``or``, ``rr``
    (also as a part, ``firth_or``), odds ratios, E-values, "Fisher OR"; counts: patients,
    deaths, events, courses, carriers, samples, pairs, ``n`` and ``n_*``.
    """
    if name is None:
        return None
    text = str(name)
    s = text.lower()
    if s in {"q1", "q3"}:
        return None
    if _P_NAME.search(s):
        return P_VALUE
    if _Q_NAME.search(s):
        return Q_VALUE
    if "%" in s or "percent" in s or re.search(r"(^|_)pct(_|$)", s) or s in {"i2", "i²"}:
        return PERCENT
    if (
        "share" in s
        or "power" in s
        or re.fullmatch(r"survival_\d+m", s)
        or s in {"orr", "gained_immune", "lost_immune", "same_subtype", "pooled_logit", "pooled_ft"}
        or s.startswith("immune_enriched_")
    ):
        return PROPORTION
    if "month" in s or s.startswith("rmst"):
        return MONTHS
    if _RATIO_NAME.search(s) or re.search(r"\b(OR|HR)\b", text):
        return RATIO
    if (
        s
        in {"n", "k", "df", "total", "pairs", "genes", "present", "rows", "changed", "evaluable", "responses"}
        or s.startswith("n_")
        or s.endswith("_n")
        or re.match(r"^(patients|deaths|events|courses|carriers|samples|pairs|responders|cohorts)(\b|_)", s)
        or re.search(r": (patients|deaths|cohorts|evaluable|responders)", s)
    ):
        return COUNT
    return None
