"""Constants shared by every layer: time units, the names of classes and subtypes, palettes.

This module is the base layer with :mod:`helpers.errors`: it imports nothing from the package.
"""

from __future__ import annotations

#: Days per month (a Julian year / 12); every "months" in the book is days / DAYS_PER_MONTH.
DAYS_PER_MONTH = 30.4375

#: Resistance classes of an index ICB course (SITC; DESIGN §4), in display order.
CLASSES = ("primary", "acquired", "ongoing_benefit", "not_evaluable")

#: Sample timepoints relative to the index ICB course.
TIMEPOINTS = ("pre", "on", "post")

#: The four TME subtypes of Bagaev et al. 2021, in display order.
SUBTYPES = ("IE/F", "IE", "F", "D")
SUBTYPE_NAMES = {
    "IE/F": "immune-enriched, fibrotic",
    "IE": "immune-enriched, non-fibrotic",
    "F": "fibrotic",
    "D": "depleted",
}

# The colours of classes, responses and subtypes live in helpers.plots.style (Okabe-Ito).
