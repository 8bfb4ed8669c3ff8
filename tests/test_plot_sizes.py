"""Every figure of the book fits the page: the rule of :mod:`helpers.plots.style`.

Each figure is drawn as its chapter draws it (the notebooks' calls, on the small simulated
cohort and the public cohorts) under the book's style, and checked with
:func:`helpers.plots.style.layout_problems`: the PNG at most as wide as the article column, no
text under the minimum size, no panel of a multi-panel figure narrower than the minimum. The
check itself is shown to fail on figures that break each part of the rule, and the palettes are
checked to stay distinct under simulated colour-vision deficiencies.
"""

from __future__ import annotations

import dataclasses
import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from helpers.analysis import derive, lof, overview, pps, resistance, tme, validation  # noqa: E402
from helpers.analysis import radiotherapy as rt  # noqa: E402
from helpers.plots import lof as lof_plots  # noqa: E402
from helpers.plots import overview as overview_plots  # noqa: E402
from helpers.plots import pps as pps_plots  # noqa: E402
from helpers.plots import radiotherapy as rt_plots  # noqa: E402
from helpers.plots import resistance as resistance_plots  # noqa: E402
from helpers.plots import style  # noqa: E402
from helpers.plots import tme as tme_plots  # noqa: E402
from helpers.plots import validation as validation_plots  # noqa: E402
from helpers.units import CLASSES, SUBTYPES  # noqa: E402

BENEFIT_MONTHS, MIN_EXPOSURE_WEEKS = 6.0, 6.0


# ------------------------------------------------------------------------------------------
# the results every chapter draws (built once for the module)
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def book_style():
    """The book's style, as every notebook sets it; the previous settings come back afterwards."""
    with matplotlib.rc_context():
        style.setup()
        yield


def _many_types(result: lof.AcquiredLofResult, copies: int) -> lof.AcquiredLofResult:
    """The LoF result with its tested cancer types repeated under new names (a grid of many panels)."""
    results = result.results
    renamed = [results.assign(cancer_type=results["cancer_type"] + f" {i}") for i in range(copies)]
    return dataclasses.replace(result, results=pd.concat([results, *renamed], ignore_index=True))


@pytest.fixture(scope="module")
def chapters(small_cohort, small_cohort_path) -> dict:
    c, path = small_cohort, small_cohort_path
    patients = derive.patient_table(c, BENEFIT_MONTHS, MIN_EXPOSURE_WEEKS)
    survival = pps.survival_after_progression(c, BENEFIT_MONTHS, MIN_EXPOSURE_WEEKS, 10, cohort_path=path)
    # the small cohort has too few deaths per type for the heterogeneity section at 10 deaths
    heterogeneity = dataclasses.replace(
        survival,
        shrinkage=pps.shrinkage_table(pps.per_cancer_type_pps(survival.analysis_set, 1), 3),
        heterogeneity=pps.heterogeneity_table(pps.per_cancer_type_pps(survival.analysis_set, 3), 3),
    )
    acquired_lof = lof.acquired_lof_analysis(
        c, BENEFIT_MONTHS, MIN_EXPOSURE_WEEKS, 3, 0.1, truth=lof.cohort_truth(c, path)
    )
    return {
        "overview": overview.cohort_overview(
            c, BENEFIT_MONTHS, MIN_EXPOSURE_WEEKS, swimmer_patients=40, seed=0
        ),
        "classes": resistance.class_summary(patients, c.index_courses(), BENEFIT_MONTHS, MIN_EXPOSURE_WEEKS),
        "pps": survival,
        "pps_heterogeneity": heterogeneity,
        "lof": acquired_lof,
        "lof_many_types": _many_types(acquired_lof, 3),
        "tme": tme.tme_chapter(c, path),
        "literature": rt.literature_analysis(),
        "rt": rt.cohort_analysis(c, cohort_path=path),
    }


@pytest.fixture(scope="module")
def public(public_dir) -> dict:
    cohorts = validation.open_public_cohorts(public_dir)
    meta = validation.biomarker_meta(cohorts)
    return {
        "pps": validation.public_pps(cohorts, BENEFIT_MONTHS, MIN_EXPOSURE_WEEKS),
        "tme": validation.public_tme(cohorts),
        "estimates": meta.estimates,
        "pooled": meta.pooled,
    }


def _leading(r):
    return lof.leading_genes(r["lof"], n=10)


#: Every figure of the book, drawn with the notebook's call (counts formatted by ``str``).
FIGURES = {
    # chapter 1
    "attrition": lambda r, p: overview_plots.attrition_plot(r["overview"].attrition),
    "availability": lambda r, p: overview_plots.availability_heatmap(r["overview"].sample_availability),
    "swimmer": lambda r, p: overview_plots.swimmer_plot(r["overview"].swimmer),
    # chapter 2
    "classes by cancer type": lambda r, p: resistance_plots.class_bars(
        r["classes"].by_cancer_type, "Resistance classes by cancer type"
    ),
    "classes by regimen": lambda r, p: resistance_plots.class_bars(
        r["classes"].by_regimen_group, "Resistance classes by regimen group"
    ),
    "classes by rule": lambda r, p: resistance_plots.class_bars(
        r["classes"].rule_sensitivity, "Classes by rule variant"
    ),
    "classes by window": lambda r, p: resistance_plots.class_bars(
        r["classes"].window_sensitivity, "Classes by benefit window"
    ),
    # chapter 3
    "km pooled": lambda r, p: pps_plots.km_pooled_figure(r["pps"]),
    "km grid": lambda r, p: pps_plots.km_grid(r["pps"]),
    "pps forest": lambda r, p: pps_plots.forest_figure(r["pps"]),
    "shrinkage": lambda r, p: pps_plots.shrinkage_figure(r["pps_heterogeneity"]),
    "rmst": lambda r, p: pps_plots.rmst_figure(r["pps"]),
    "immortal time": lambda r, p: pps_plots.immortal_time_figure(r["pps"]),
    # chapter 4
    "volcano": lambda r, p: lof_plots.volcano_plot(r["lof"]),
    "volcano, many cancer types": lambda r, p: lof_plots.volcano_plot(r["lof_many_types"]),
    "volcano, all pre": lambda r, p: lof_plots.volcano_plot(r["lof_many_types"], lof.ALL_PRE_COMPARISON),
    "lof forest": lambda r, p: lof_plots.lof_forest_plot(r["lof"], _leading(r)),
    "oncoprint": lambda r, p: lof_plots.pairs_oncoprint_figure(
        r["lof"], lof.oncoprint_genes(_leading(r), n=5)
    ),
    # chapter 5
    "subtypes pre": lambda r, p: tme_plots.subtype_bars(
        r["tme"].pre.counts, "TME subtypes before treatment, by cancer type"
    ),
    "tme axes": lambda r, p: tme_plots.axes_scatter(
        r["tme"].samples, "Every RNA sample on the immune and fibrotic axes"
    ),
    "subtypes post": lambda r, p: tme_plots.subtype_bars(
        r["tme"].post.counts, "TME subtypes after progression"
    ),
    "sample heat map": lambda r, p: tme_plots.sample_heatmap(
        r["tme"].post.scaled,
        r["tme"].post.samples,
        "Post-progression samples, acquired and primary resistance",
    ),
    "median heat map": lambda r, p: tme_plots.median_heatmap(
        r["tme"].medians.matrix, "Median scaled scores by timepoint and class"
    ),
    "alluvial": lambda r, p: tme_plots.alluvial(r["tme"].transitions.flows),
    "transition shifts": lambda r, p: tme_plots.shift_comparison(
        r["tme"].transitions.stratified,
        r["tme"].transitions.pooled,
        "Pre→post change, acquired vs primary resistance",
        xlabel="acquired − primary change (scaled units, 95% CI)",
        strata_label="within cancer type and site pair",
    ),
    "scores over time": lambda r, p: tme_plots.scores_over_time(r["tme"].over_time),
    "carrier effects": lambda r, p: tme_plots.carrier_effect_heatmap(
        r["tme"].carriers.effects, r["tme"].carriers.fdr
    ),
    # chapter 6
    "literature forest": lambda r, p: rt_plots.literature_forest(
        r["literature"].responses, r["literature"].pooled
    ),
    "eqd2": lambda r, p: rt_plots.eqd2_by_modality(r["rt"].courses, rt.EQD2_GROUP_EDGES_GY),
    "rt estimates": lambda r, p: rt_plots.rt_estimates_forest(r["rt"].survival.estimates, r["rt"].planted_hr),
    "rt km": lambda r, p: rt_plots.km_naive_and_landmark(r["rt"]),
    "rt sensitivity": lambda r, p: rt_plots.rt_sensitivity_forest(r["rt"].sensitivity, r["rt"].planted_hr),
    "rt response": lambda r, p: rt_plots.response_bars(
        r["rt"].response_by_eqd2_group,
        xlabel="EQD2 group (α/β = 10 Gy)",
        title="In-field and out-of-field response by EQD2 group",
    ),
    # chapter 7 (public cohorts)
    "public pps forest": lambda r, p: validation_plots.pps_forest_figure(p["pps"]),
    "phenotypes": lambda r, p: validation_plots.phenotype_figure(p["tme"].phenotype_scores),
    **{
        f"biomarker {signature}": (
            lambda r, p, s=signature, n=name: validation_plots.biomarker_forest_figure(
                p["estimates"], p["pooled"], s, n
            )
        )
        for signature, name in validation.HEADLINE_SIGNATURES.items()
    },
}


@pytest.mark.parametrize("name", list(FIGURES))
def test_every_figure_fits_the_page(name, book_style, chapters, public):
    fig = FIGURES[name](chapters, public)
    try:
        assert style.layout_problems(fig) == [], name
    finally:
        plt.close(fig)


def test_multi_panel_figures_grow_downwards(book_style, chapters):
    """Many cancer types add rows of two panels, never columns."""
    many = chapters["lof_many_types"]
    types = many.results.loc[
        many.results["comparison"].eq(lof.PRIMARY_COMPARISON) & many.results["tested"].astype(bool),
        "cancer_type",
    ].nunique()
    for fig, panels in (
        (lof_plots.volcano_plot(many, ncols=4), types),  # a caller's 4 columns are capped
        (pps_plots.km_grid(chapters["pps"], ncols=3), len(chapters["pps"].curves_by_cancer_type)),
    ):
        try:
            assert len(fig.axes) == panels > style.MAX_COLUMNS
            columns = {round(ax.get_position().x0, 3) for ax in fig.axes}
            assert len(columns) == style.MAX_COLUMNS
            assert fig.get_figwidth() == style.FIG_WIDTH
            assert fig.get_figheight() >= np.ceil(panels / style.MAX_COLUMNS) * 2.5
        finally:
            plt.close(fig)


# ------------------------------------------------------------------------------------------
# the check fails where it should
# ------------------------------------------------------------------------------------------


def test_the_check_finds_an_oversize_figure(book_style):
    fig, ax = plt.subplots(figsize=(10, 3))  # 1,000 px: wider than the column
    ax.plot([0, 1], [0, 1])
    try:
        (problem,) = style.layout_problems(fig)
        assert "px wide, more than 790 px" in problem
        assert style.png_width_px(fig) > style.MAX_WIDTH_PX
    finally:
        plt.close(fig)


def test_the_check_finds_small_text_and_narrow_panels(book_style):
    fig, axes = plt.subplots(1, 4, figsize=(style.FIG_WIDTH, 2.5))  # four panels of < 2 inches
    axes[0].text(0.5, 0.5, "tiny", fontsize=6)
    try:
        problems = style.layout_problems(fig)
        assert len(problems) == 2
        assert problems[0].startswith("1 texts under 8 pt: 'tiny' (6 pt)")
        assert problems[1].startswith("4 panels narrower than 2 in")
    finally:
        plt.close(fig)
    fig, axes = style.panel_grid(3, panel_height=3.0)  # the same grid, the book's way
    try:
        assert axes.shape == (2, 2) and len(fig.axes) == 3  # the fourth cell is removed
        for ax in fig.axes:
            ax.plot([0, 1], [0, 1])
            ax.set_title("a panel")
        fig.tight_layout()
        assert style.layout_problems(fig) == []
    finally:
        plt.close(fig)


def test_the_check_finds_a_book_figure_drawn_too_small(book_style, chapters):
    """The check reads the sizes drawn, not the style: a figure drawn with 7-point text fails."""
    with matplotlib.rc_context({"font.size": 7, "ytick.labelsize": 7}):
        fig = overview_plots.attrition_plot(chapters["overview"].attrition)
    try:
        assert any("texts under 8 pt" in p for p in style.layout_problems(fig))
    finally:
        plt.close(fig)


# ------------------------------------------------------------------------------------------
# colours
# ------------------------------------------------------------------------------------------

#: Machado, Oliveira & Fernandes (2009), severity 1: linear-RGB matrices of full protanopia,
#: deuteranopia and tritanopia.
CVD = {
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
    "normal vision": np.eye(3),
}
#: sRGB (D65) linear RGB to XYZ.
XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
#: Smallest CIELAB distance (ΔE*76) between two colours of a palette, under every vision above;
#: the Okabe–Ito palette itself reaches 16.
MIN_DELTA_E = 15.0


def _lab(colour: str, vision: np.ndarray) -> np.ndarray:
    srgb = np.asarray(to_rgb(colour))
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    xyz = XYZ @ np.clip(vision @ linear, 0, 1) / (XYZ @ np.ones(3))
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def closest_pair(palette: dict) -> tuple[float, str, str, str]:
    """The two colours of ``palette`` hardest to tell apart, and under which vision."""
    return min(
        (float(np.linalg.norm(_lab(palette[a], m) - _lab(palette[b], m))), str(a), str(b), vision)
        for vision, m in CVD.items()
        for a, b in itertools.combinations(palette, 2)
    )


PALETTES = {
    "classes": style.CLASS_COLOURS,
    "best responses": style.RESPONSE_COLOURS,
    "TME subtypes": style.SUBTYPE_COLOURS,
    "Okabe–Ito": style.OKABE_ITO,
    "default colour cycle": dict(enumerate(style.COLOUR_CYCLE)),
    "LoF kinds": lof_plots.LOF_KIND_COLOURS,
    "volcano": {
        "enriched": lof_plots._FOUND_COLOUR,
        "depleted": lof_plots._DEPLETED_COLOUR,
        "other passing": lof_plots._OTHER_PASSING_COLOUR,
        "not passing": lof_plots._OTHER_COLOUR,
    },
    "landmark groups": pps_plots.LANDMARK_COLOURS,
    "RT modalities": rt_plots.MODALITY_COLOURS,
    "RT arms": rt_plots.ROLE_COLOURS,
    "response scopes": dict(enumerate(rt_plots.SCOPE_COLOURS)),
    "swimmer events": {kind: colour for kind, (_, colour) in overview_plots.SWIMMER_EVENTS.items()},
}


@pytest.mark.parametrize("name", list(PALETTES))
def test_palettes_stay_distinct_with_colour_vision_deficiencies(name):
    distance, a, b, vision = closest_pair(PALETTES[name])
    assert distance >= MIN_DELTA_E, f"{name}: {a} and {b} are {distance:.1f} apart with {vision}"


def test_the_colour_check_finds_colours_that_look_alike():
    # the book's earlier colours of a complete response (green) and progression (red), and of the
    # IE/F (purple) and IE (blue) subtypes
    distance, _, _, vision = closest_pair({"CR": "#1e8449", "PD": "#cb4335"})
    assert distance < MIN_DELTA_E and vision == "protanopia"
    distance, _, _, vision = closest_pair({"IE/F": "#7d3c98", "IE": "#2e86c1"})
    assert distance < MIN_DELTA_E and vision == "deuteranopia"


def test_named_palettes_cover_the_names_of_units():
    assert list(style.CLASS_COLOURS) == list(CLASSES)
    assert list(style.SUBTYPE_COLOURS) == list(SUBTYPES)
    assert set(style.RESPONSE_COLOURS) == {"CR", "PR", "SD", "PD", "NE", None}
