"""What every chapter's analysis returns: tidy tables and, when the cohort cannot support it, why.

Each chapter module of :mod:`helpers.analysis` returns a result object derived from
:class:`AnalysisResult`. Its ``missing`` field is ``None`` when the analysis ran, or the one
sentence the book shows instead (e.g. "The cohort has no post-progression biopsies, so ...").
That is the only way a chapter says a cohort cannot support it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(kw_only=True)
class AnalysisResult:
    """Base of the result objects of the chapters.

    Attributes
    ----------
    missing
        ``None`` if the analysis ran; otherwise the sentence saying what the cohort lacks.
    """

    missing: str | None = None

    @property
    def available(self) -> bool:
        """Whether the analysis ran (``missing`` is ``None``)."""
        return self.missing is None
