"""Constants of the domain that several layers share, each stated once with its source.

Standard library only, so that any module (the CLI above all) may import it at no cost.

>>> MERGER_DATE.isoformat()
'2025-07-01'
"""

from __future__ import annotations

import datetime as dt

__all__ = ["MERGER_DATE", "MERGER_YEAR", "FIRST_YEAR", "OBS_STATUSES", "PRICE_BASES"]

#: The 63 provinces end and the 34 begin (Nghị quyết 202/2025/QH15, in force 2025-07-01).
#: A 34-basis value for a period that starts earlier is a back-cast; a 63-basis value for a
#: period that starts on or after it is refused.
MERGER_DATE = dt.date(2025, 7, 1)
#: The first year whose annual accounts are compiled on the 34-province boundaries.
MERGER_YEAR = MERGER_DATE.year
#: The earliest year the accounts read (inputs, coefficients and their history).
FIRST_YEAR = 1990
#: SDMX OBS_STATUS codes kinhteso stores: A normal, P provisional, E estimated, F forecast,
#: I imputed.
OBS_STATUSES = ("A", "P", "E", "F", "I")
#: Price bases of an observation: current prices, constant 2010 prices (giá so sánh 2010).
PRICE_BASES = ("current", "constant_2010")
