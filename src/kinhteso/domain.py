"""Constants of the domain that several layers share, each stated once with its source.

Standard library only, so that any module (the CLI above all) may import it at no cost.

>>> MERGER_DATE.isoformat()
'2025-07-01'
"""

from __future__ import annotations

import datetime as dt

__all__ = ["MERGER_DATE", "MERGER_YEAR", "FIRST_YEAR", "OBS_STATUSES", "PRICE_BASES", "VSIC2025_FROM"]

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
#: VSIC 2025 (Quyết định 36/2025/QĐ-TTg) is in force from 2025-11-15; the first period compiled
#: on it is taken to start on 2026-01-01 (a year's statistics keep one classification). With
#: ``ingest --vsic auto`` a row without a version whose period starts on or after this date is
#: read as VSIC 2025; without ``--vsic`` it is read as VSIC 2018 and the file gets a note.
VSIC2025_FROM = dt.date(2026, 1, 1)
