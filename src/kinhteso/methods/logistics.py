"""Port indicators from container events: pure functions over the import dwell pairs.

The pairs (one per import container gated out: the hours from its last actual discharge to the
actual gate-out, and the gate-out's quarter in Viet Nam time) come from
:meth:`kinhteso.store.Store.import_dwell`; this module only summarises them.

- ``PORT_IMPORT_DWELL_H``: the median of the hours, per territory and quarter;
- ``PORT_IMPORT_DWELL_P90_H``: their 90th percentile, linear interpolation between order statistics
  (Hyndman–Fan type 7, numpy's and R's default): for sorted x₁…xₙ, h = (n − 1)·0.9, the value is
  x₍⌊h⌋+1₎ + (h − ⌊h⌋)(x₍⌊h⌋+2₎ − x₍⌊h⌋+1₎);
- ``PORT_IMPORT_CONTAINERS``: the number of pairs.

Negative hours cannot arise (a gate-out is paired only with a discharge before it).

>>> import pandas as pd
>>> pairs = pd.DataFrame({"territory": ["34:31"] * 4, "period": ["2025-Q3"] * 4, "hours": [10.0, 20.0, 30.0, 100.0]})
>>> dwell_indicators(pairs)[["indicator", "value"]].round(6).values.tolist()
[['PORT_IMPORT_DWELL_H', 25.0], ['PORT_IMPORT_DWELL_P90_H', 79.0], ['PORT_IMPORT_CONTAINERS', 4.0]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["dwell_indicators", "DWELL_INDICATORS", "P90"]

#: The indicators this module gives, with their units.
DWELL_INDICATORS = {"PORT_IMPORT_DWELL_H": "HOURS", "PORT_IMPORT_DWELL_P90_H": "HOURS", "PORT_IMPORT_CONTAINERS": "COUNT"}
P90 = 0.9


def dwell_indicators(pairs: pd.DataFrame) -> pd.DataFrame:
    """``indicator, territory, period, value, unit`` from pairs (``territory, period, hours``), one
    row per indicator, territory and quarter holding at least one pair."""
    rows = []
    if len(pairs):
        for (terr, per), g in pairs.groupby(["territory", "period"], sort=True):
            h = np.sort(g["hours"].to_numpy(dtype=float))
            rows += [("PORT_IMPORT_DWELL_H", terr, per, float(np.quantile(h, 0.5))),
                     ("PORT_IMPORT_DWELL_P90_H", terr, per, float(np.quantile(h, P90))),
                     ("PORT_IMPORT_CONTAINERS", terr, per, float(len(h)))]
    out = pd.DataFrame(rows, columns=["indicator", "territory", "period", "value"])
    out["unit"] = out["indicator"].map(DWELL_INDICATORS)
    return out
