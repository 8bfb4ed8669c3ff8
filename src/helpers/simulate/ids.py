"""Opaque identifiers of simulated patients and samples."""

from __future__ import annotations

import numpy as np


def opaque_ids(rng: np.random.Generator, n: int, prefix: str) -> np.ndarray:
    """Unique opaque identifiers such as ``PT-7f3a9c21`` (prefix, then 8 random hex digits).

    Parameters
    ----------
    rng
        The simulation's random generator (one draw per identifier, more on a collision).
    n
        Number of identifiers.
    prefix
        ``PT`` for patients, ``SM`` for samples.

    Returns
    -------
    numpy.ndarray
        Object array of ``n`` distinct strings.
    """
    seen: set[str] = set()
    out = []
    while len(out) < n:
        v = f"{prefix}-{rng.integers(0, 2**32):08x}"
        if v not in seen:
            seen.add(v)
            out.append(v)
    return np.array(out, dtype=object)
