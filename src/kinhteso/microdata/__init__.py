"""Microdata at national scale (issue 17): synthetic e-invoices, their validation with quarantine and
their aggregation by province × VSIC class × month × channel × buyer type.

- :mod:`kinhteso.microdata.generate`: the seeded synthetic generator (illustrative e-invoices as
  Parquet partitioned by month, written in chunks);
- :mod:`kinhteso.microdata.rules`: the record rules (reason codes, their Vietnamese and English
  wording and their sources: Decree 123/2020/NĐ-CP, Circular 78/2021/TT-BTC);
- :mod:`kinhteso.microdata.engine`: the rules and the aggregation as **Ibis** expressions, run on
  embedded DuckDB or PySpark (:mod:`kinhteso.microdata.spark`; the Parquet dataset read lazily,
  never loaded into pandas); no SQL text is written here: Ibis compiles the expressions for the engine;
- :mod:`kinhteso.microdata.incremental`: the month-by-month update from a state folder;
- :mod:`kinhteso.microdata.publish`: the published cells through :mod:`kinhteso.methods.sdc`.

The service :mod:`kinhteso.service.microdata` is what interfaces call (``kinhteso microdata``).
See ``docs/microdata.md``. Importing this package imports nothing heavy.
"""
