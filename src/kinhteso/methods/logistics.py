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

From the vessel calls (:meth:`kinhteso.store.Store.vessel_calls`), per territory and quarter of
departure:

- ``PORT_NSW_SHARE`` = 100 × (calls with NSW = Y) / calls;
- ``PORT_VESSEL_HOURS`` = the median of the hours in port (arrival → departure);
- ``PORT_TEU_PER_BERTH_HOUR`` = Σ TEU / Σ hours at berth (berthing → departure), over the calls
  reporting both with a positive time at berth (a ratio of sums, as the CPPI's berth productivity:
  a long call weighs more than a short one).

>>> import pandas as pd
>>> pairs = pd.DataFrame({"territory": ["34:31"] * 4, "period": ["2025-Q3"] * 4, "hours": [10.0, 20.0, 30.0, 100.0]})
>>> dwell_indicators(pairs)[["indicator", "value"]].round(6).values.tolist()
[['PORT_IMPORT_DWELL_H', 25.0], ['PORT_IMPORT_DWELL_P90_H', 79.0], ['PORT_IMPORT_CONTAINERS', 4.0]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["dwell_indicators", "DWELL_INDICATORS", "P90", "vessel_indicators", "VESSEL_INDICATORS", "share_indicators"]

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


#: The indicators of vessel calls, with their units.
VESSEL_INDICATORS = {"PORT_NSW_SHARE": "PCT", "PORT_VESSEL_HOURS": "HOURS", "PORT_TEU_PER_BERTH_HOUR": "TEU_H"}


def vessel_indicators(calls: pd.DataFrame) -> pd.DataFrame:
    """``indicator, territory, period, value, unit`` from vessel calls (``territory, period, nsw,
    hours, berth_hours, teu``); TEU per berth hour only where some call reports both.

    >>> calls = pd.DataFrame({"territory": ["34:31"] * 3, "period": ["2025-Q3"] * 3, "nsw": ["Y", "N", "Y"],
    ...                       "hours": [30.0, 50.0, 20.0], "berth_hours": [20.0, None, 10.0], "teu": [1500.0, 800.0, 900.0]})
    >>> vessel_indicators(calls)[["indicator", "value"]].round(4).values.tolist()
    [['PORT_NSW_SHARE', 66.6667], ['PORT_VESSEL_HOURS', 30.0], ['PORT_TEU_PER_BERTH_HOUR', 80.0]]
    """
    rows = []
    if len(calls):
        for (terr, per), g in calls.groupby(["territory", "period"], sort=True):
            rows.append(("PORT_NSW_SHARE", terr, per, 100.0 * float((g["nsw"] == "Y").mean())))
            rows.append(("PORT_VESSEL_HOURS", terr, per, float(np.quantile(g["hours"].to_numpy(dtype=float), 0.5))))
            both = g[g["teu"].notna() & g["berth_hours"].notna() & (g["berth_hours"] > 0)]
            if len(both):
                rows.append(("PORT_TEU_PER_BERTH_HOUR", terr, per,
                             float(both["teu"].sum()) / float(both["berth_hours"].sum())))
    out = pd.DataFrame(rows, columns=["indicator", "territory", "period", "value"])
    out["unit"] = out["indicator"].map(VESSEL_INDICATORS)
    return out


def share_indicators(records: pd.DataFrame, shares: dict[str, tuple[str, tuple[str, ...]]]) -> pd.DataFrame:
    """Declarative shares (``datasets.yaml``): for each indicator → (field, values), 100 × the
    records of a territory and quarter whose field is one of the values / its records (unit PCT).

    >>> recs = pd.DataFrame({"territory": ["34:31"] * 4, "period": ["2025-Q3"] * 4, "form": ["EDO", "PAPER", "EDO", "EDO"]})
    >>> share_indicators(recs, {"PORT_EDO_SHARE": ("form", ("EDO",))})[["indicator", "value"]].values.tolist()
    [['PORT_EDO_SHARE', 75.0]]
    """
    rows = []
    if len(records):
        for (terr, per), g in records.groupby(["territory", "period"], sort=True):
            for code, (fld, values) in shares.items():
                rows.append((code, terr, per, 100.0 * float(g[fld].isin(values).mean())))
    out = pd.DataFrame(rows, columns=["indicator", "territory", "period", "value"])
    out["unit"] = "PCT"
    return out
