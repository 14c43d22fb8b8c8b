"""Pure numerics: arrays and data frames in, arrays and data frames out.

No files, no database, no clocks, no global state. Each function names its anchor (GSO, R
tempdisagg, COINr, the JRC handbook, ADB 2021, BEA) in its docstring.
"""
