"""The strata of the chapter's stratified comparisons: cancer type and biopsy site.

TMEs differ by cancer type and by where the biopsy was taken (a lymph node is full of
lymphocytes, a liver metastasis is not), and the mix of resistance classes differs by cancer
type, so a class comparison pooled over them compares the types and sites as much as the
classes. The comparisons of :mod:`helpers.analysis.tme.compare` are therefore made within
strata: every combination of the stratifying columns a cohort records. A column a cohort does
not record at all (no ``site`` column, or every value missing) is left out of the strata;
a sample whose value is missing where others are recorded is put in a stratum of its own
("site not recorded"), so it is compared only with samples that also lack it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

__all__ = ["NOT_RECORDED", "STRATA", "describe_strata", "recorded_strata", "stratum_labels"]

#: The default stratifying columns of the sample table.
STRATA = ("cancer_type", "site")
#: The level given to a missing value of a recorded stratifying column.
NOT_RECORDED = "not recorded"
#: How the strata are named in a sentence.
STRATUM_NAMES = {"cancer_type": "cancer type", "site": "biopsy site", "site_pair": "biopsy sites"}


def recorded_strata(table: pd.DataFrame, strata: Iterable[str] = STRATA) -> list[str]:
    """The stratifying columns ``table`` records (present, with at least one value)."""
    return [s for s in strata if s in table.columns and table[s].notna().any()]


def stratum_labels(table: pd.DataFrame, strata: Sequence[str]) -> pd.Series:
    """One label per row: its values of ``strata`` joined (missing ones as "not recorded").

    An empty ``strata`` gives every row the same label (the pooled comparison).
    """
    if not strata:
        return pd.Series("all", index=table.index, dtype=object)
    parts = [table[s].astype(object).where(table[s].notna(), NOT_RECORDED).astype(str) for s in strata]
    labels = parts[0]
    for part in parts[1:]:
        labels = labels + " · " + part
    return labels.astype(object)


def describe_strata(strata: Sequence[str]) -> str:
    """The strata in words: "cancer type and biopsy site", or "none" for a pooled comparison."""
    names = [STRATUM_NAMES.get(s, s.replace("_", " ")) for s in strata]
    if not names:
        return "none"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
