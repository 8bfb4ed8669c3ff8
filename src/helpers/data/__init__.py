"""The data layer: the canonical cohort and everything that reads or makes its tables.

* :mod:`~helpers.data.schema`: tables, columns and vocabularies of the data model (DESIGN §3);
* :mod:`~helpers.data.validate`: the rules a cohort must keep, checked on save and load;
* :mod:`~helpers.data.cohort`: the :class:`~helpers.data.cohort.Cohort` model, its Parquet/JSON
  folder I/O and derived fields (sample timepoints);
* :mod:`~helpers.data.importers`: the tidy public tables and cBioPortal study importers;
* :mod:`~helpers.data.pseudonyms`: pseudonymisation of imported identifiers (DESIGN §7);
* :mod:`~helpers.data.fetch`: download of cBioPortal datahub studies;
* :mod:`~helpers.data.maf`, :mod:`~helpers.data.genesets`, :mod:`~helpers.data.panels`: the MAF
  vocabulary, gene signatures and gene panels.
"""
