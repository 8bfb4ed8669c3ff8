"""The simulated real-world cohort with planted, known truths (DESIGN §5)."""

from helpers.simulate.cohort import (
    CANCER_TYPES,
    GENERATOR_VERSION,
    PLANTED_LOF,
    load_signature_sets,
    load_truth,
    save_simulated,
    simulate_cohort,
)

__all__ = [
    "CANCER_TYPES",
    "GENERATOR_VERSION",
    "PLANTED_LOF",
    "load_signature_sets",
    "load_truth",
    "save_simulated",
    "simulate_cohort",
]
