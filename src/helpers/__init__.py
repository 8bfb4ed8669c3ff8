"""helpers: the analysis package behind the ICB-resistance book.

One module per analysis (``resistance``, ``survival``, ``lof``, ``tme``, ``radiotherapy``),
plus the data model (``cohort``), the simulated cohort (``simulate``), real-data importers
(``sources``), plotting (``plotting``) and the book pipeline (``pipeline``, ``cli``).
"""

__version__ = "0.1.0"
