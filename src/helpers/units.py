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

#: Colours of the resistance classes, best responses and TME subtypes in every figure.
CLASS_COLOURS = {
    "primary": "#c0392b",
    "acquired": "#2471a3",
    "ongoing_benefit": "#27ae60",
    "not_evaluable": "#95a5a6",
}
RESPONSE_COLOURS = {
    "CR": "#1e8449",
    "PR": "#52be80",
    "SD": "#f4d03f",
    "PD": "#cb4335",
    "NE": "#aab7b8",
    None: "#d5d8dc",
}
SUBTYPE_COLOURS = {"IE/F": "#7d3c98", "IE": "#2e86c1", "F": "#d68910", "D": "#95a5a6"}
