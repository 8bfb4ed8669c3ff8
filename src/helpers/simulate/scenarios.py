"""Named simulation scenarios: the default cohort and the ways real data break its model.

A recovery test on data generated in exactly the analysis's own model form can only show that an
estimator is unbiased when correctly specified (DESIGN §5, revision of December 2026). Each scenario
here departs from the default cohort in one way that real-world data do, and plants a known truth
for the departure, so that a test can check that the book's method holds (or says that it does
not) when the assumption fails. :data:`SCENARIOS` names them; :func:`get_scenario` turns a name
into the :class:`Scenario` whose fields the generators read.

``default``
    The cohort of DESIGN §5 with plausible, cited planted sizes (see
    :mod:`helpers.simulate.params`). Survival after progression is Weibull proportional hazards
    linear in the Cox covariates; RT is given by baseline ECOG and cancer type; TME programmes do
    not depend on cancer type or biopsy site; baseline LoF of every gene is independent of the
    response.

``selection``
    Baseline LoF that *selects* patients into a class, never gained, both in NSCLC: STK11 LoF
    predicts primary resistance (Skoulidis et al., Cancer Discov 2018;8:822-835: objective
    response 7.4 % in STK11-mutant vs 28.6 % in KRAS-only tumours) and ARID1A LoF predicts
    benefit (Okamura et al., J Immunother Cancer 2020). Real data do this because these
    alterations shape how the tumour responds to ICB at all; they are present before treatment
    and carried through. A post-progression sample carries the LoF iff the patient's tumour did
    before treatment. A comparison of acquired-resistance post-progression samples with
    pre-treatment samples of *all* patients reads ARID1A as "acquired" (and STK11 as depleted);
    the comparison with pre-treatment samples of the same class must not.

``rt_confounded``
    RT after progression has no effect (planted HR 1), but it is given according to a factor that
    arises *at progression* (a decline of performance status at progression, recorded nowhere)
    that also shortens survival after progression. Real data do this: whether a patient is fit
    for salvage RT is decided by how they are at progression, not at the start of ICB, so the
    adjustment for baseline ECOG leaves confounding by indication, and RT looks protective.

``rt_confounded_ps``
    The same cohort, but the factor is recorded: a ``performance_status`` table with an ECOG
    assessment at baseline (day 0) and at progression, so that a model
    with time-updated performance status can remove the confounding.

``heterogeneous``
    The acquired-vs-primary hazard ratio of survival after progression is 1 in NSCLC (the largest
    type, so an interaction test has power) and as in ``default`` elsewhere. Real data do this
    because the biology of resistance and post-progression care differ by cancer type; a pooled
    stratified Cox model then reports an average that holds in no type.

``tme_by_type_and_site``
    TME baselines differ by cancer type and by biopsy site (``samples.site``: primary, lymph
    node, liver, lung, other), the class mix differs by cancer type, and the acquired-vs-primary
    post-progression shift of the reported signatures is planted as exactly 0 within cancer type
    and site. Real data do this: melanoma and NSCLC are more inflamed than RCC stroma or TNBC,
    lymph-node biopsies carry lymphocytes and liver metastases are immune-excluded, and the
    cancer types with more acquired resistance are the inflamed ones. A pooled (unstratified)
    comparison then reports a class difference that is only the type and site mix.

``non_ph``
    The acquired-resistance advantage in survival after progression fades: hazard ratio 0.45 for
    the first 4 months after progression, then 1. Real data do this when the benefit of a
    responding-then-progressing tumour is an early, slowly progressing phase that ends; the Cox
    hazard ratio is then an average that depends on follow-up, and the restricted mean survival
    time difference (recorded in ``truth["pps_rmst"]``) is the summary that needs no proportional
    hazards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from helpers.errors import ParameterError

#: Scenario name → one-line description (the order is the book's).
SCENARIOS: dict[str, str] = {
    "default": "the default cohort: plausible, cited planted sizes; every analysis model holds",
    "selection": (
        "baseline LoF that selects, never gained (NSCLC): STK11 predicts primary resistance, "
        "ARID1A predicts benefit"
    ),
    "rt_confounded": (
        "RT after progression without effect (HR 1), given by an unrecorded decline at progression "
        "that shortens survival"
    ),
    "rt_confounded_ps": (
        "as rt_confounded, with the decline recorded as ECOG in a performance_status table "
        "(baseline and at progression)"
    ),
    "heterogeneous": "acquired-vs-primary HR of survival after progression 1 in NSCLC, as default elsewhere",
    "tme_by_type_and_site": (
        "TME baselines differ by cancer type and biopsy site (samples.site), class mix by type; "
        "no acquired-vs-primary shift within type and site"
    ),
    "non_ph": (
        "the acquired advantage after progression fades: HR 0.45 for the first 4 months, then 1 "
        "(non-proportional hazards)"
    ),
}


@dataclass(frozen=True)
class Scenario:
    """What a scenario changes in the simulation (every field at its default in ``default``).

    Attributes
    ----------
    name
        The scenario's name (a key of :data:`SCENARIOS`).
    pps_hr_by_type
        Acquired-vs-primary hazard ratio of survival after progression per cancer type, where it
        differs from :data:`helpers.simulate.params.PPS_HR_ACQUIRED`.
    pps_fade
        ``(hr_early, months)``: the acquired-vs-primary hazard ratio is ``hr_early`` for the first
        ``months`` after progression and 1 afterwards (``None``: proportional hazards).
    rt_hr
        Planted hazard ratio of RT after progression (``None``: the default of ``params``).
    progression_decline
        RT is given according to a decline of performance status at progression that also
        shortens survival (the confounder of ``rt_confounded``).
    record_performance_status
        Write the ``performance_status`` table (baseline and at-progression ECOG).
    selection
        Plant the baseline-selection genes of :data:`helpers.simulate.params.SELECTION_LOF`.
    tme_by_type_and_site
        Record ``samples.site`` and plant TME baselines by cancer type and site, with a zero
        acquired-vs-primary post-progression shift within type and site.
    """

    name: str
    pps_hr_by_type: dict[str, float] = field(default_factory=dict)
    pps_fade: tuple[float, float] | None = None
    rt_hr: float | None = None
    progression_decline: bool = False
    record_performance_status: bool = False
    selection: bool = False
    tme_by_type_and_site: bool = False


_SPECS: dict[str, Scenario] = {
    "default": Scenario("default"),
    "selection": Scenario("selection", selection=True),
    "rt_confounded": Scenario("rt_confounded", rt_hr=1.0, progression_decline=True),
    "rt_confounded_ps": Scenario(
        "rt_confounded_ps", rt_hr=1.0, progression_decline=True, record_performance_status=True
    ),
    "heterogeneous": Scenario("heterogeneous", pps_hr_by_type={"NSCLC": 1.0}),
    "tme_by_type_and_site": Scenario("tme_by_type_and_site", tme_by_type_and_site=True),
    "non_ph": Scenario("non_ph", pps_fade=(0.45, 4.0)),
}


def get_scenario(name: str) -> Scenario:
    """The :class:`Scenario` of a name.

    Parameters
    ----------
    name
        A key of :data:`SCENARIOS`.

    Returns
    -------
    Scenario
        What the scenario changes.

    Raises
    ------
    helpers.errors.ParameterError
        If the name is not a scenario (the message lists the names).
    """
    if not isinstance(name, str) or name not in _SPECS:
        raise ParameterError(f"unknown scenario {name!r}; choose one of: {', '.join(SCENARIOS)}")
    return _SPECS[name]
