"""Multiple testing."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from helpers.errors import InputError


def benjamini_hochberg(pvalues: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray | pd.Series:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN stays NaN and is not counted.

    Wraps :func:`scipy.stats.false_discovery_control`, which rejects NaN: the NaN entries are
    masked out first, so the number of tests ``m`` counts only the p-values present.

    Raises
    ------
    InputError
        A p-value outside [0, 1].
    """
    values = np.asarray(pvalues, dtype=float)
    flat = values.ravel()
    present = ~np.isnan(flat)
    observed = flat[present]
    if np.any((observed < 0) | (observed > 1)):
        raise InputError("benjamini_hochberg: p-values must lie in [0, 1]")
    adjusted = np.full(flat.shape, np.nan)
    if observed.size:
        adjusted[present] = stats.false_discovery_control(observed, method="bh")
    adjusted = adjusted.reshape(values.shape)
    if isinstance(pvalues, pd.Series):
        return pd.Series(adjusted, index=pvalues.index, name=pvalues.name)
    return adjusted
