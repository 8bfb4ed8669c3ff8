"""The simulated real-world cohort with planted, known truths (DESIGN §5).

Modules: :mod:`~helpers.simulate.params` (planted parameters), :mod:`~helpers.simulate.classes`
(the simulator's own resistance-class rule), :mod:`~helpers.simulate.clinical`,
:mod:`~helpers.simulate.radiotherapy`, :mod:`~helpers.simulate.samples`,
:mod:`~helpers.simulate.genomics`, :mod:`~helpers.simulate.expression` (the parts of a cohort),
:mod:`~helpers.simulate.truth` (``truth.json`` and the power of each effect),
:mod:`~helpers.simulate.scenarios` (the named scenarios, :data:`SCENARIOS`) and
:mod:`~helpers.simulate.cohort` (:func:`simulate_cohort`, :func:`save_simulated`, :func:`load_truth`).
"""

from helpers.simulate.cohort import load_truth, save_simulated, simulate_cohort
from helpers.simulate.expression import load_signature_sets
from helpers.simulate.params import CANCER_TYPES, GENERATOR_VERSION, PLANTED_LOF
from helpers.simulate.scenarios import SCENARIOS

__all__ = [
    "CANCER_TYPES",
    "GENERATOR_VERSION",
    "PLANTED_LOF",
    "SCENARIOS",
    "load_signature_sets",
    "load_truth",
    "save_simulated",
    "simulate_cohort",
]
