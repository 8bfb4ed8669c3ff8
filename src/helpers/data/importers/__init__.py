"""Importers of real cohorts into the canonical format (DESIGN §3 and §7).

* :mod:`~helpers.data.importers.tidy`: the tidy public tables of ``../shared/data/public/``;
* :mod:`~helpers.data.importers.cbioportal`: cBioPortal study folders;
* :mod:`~helpers.data.importers.common`: what both share (the standard clinical frame, the
  repair log, :class:`ImportResult`, and the tables of repairs and lacks for the book);
* :mod:`~helpers.data.importers.vocabulary`: cancer types, regimens, VEP terms, gene symbols.

The package exposes the importers' public API; pseudonyms are in :mod:`helpers.data.pseudonyms`.
"""

from helpers.data.importers.cbioportal import cbioportal_to_cohort, import_cbioportal
from helpers.data.importers.common import REPAIR_RULES, ImportResult, lacks_table, repairs_table
from helpers.data.importers.tidy import import_tidy, tidy_to_cohort

__all__ = [
    "REPAIR_RULES",
    "ImportResult",
    "cbioportal_to_cohort",
    "import_cbioportal",
    "import_tidy",
    "lacks_table",
    "repairs_table",
    "tidy_to_cohort",
]
