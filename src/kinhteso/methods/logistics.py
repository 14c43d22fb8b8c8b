"""Indicators derived from records: pure functions over the records a store query gives.

The pairs (one per import container gated out: the hours from its last actual discharge to the
actual gate-out, and the gate-out's quarter in Viet Nam time) come from
:meth:`kinhteso.store.Store.import_dwell`; this module only summarises them.

- ``PORT_IMPORT_DWELL_H``: the median of the hours, per territory and quarter;
- ``PORT_IMPORT_DWELL_P90_H``: their 90th percentile, linear interpolation between order statistics
  (Hyndman–Fan type 7, numpy's and R's default): for sorted x₁…xₙ, h = (n − 1)·0.9, the value is
  x₍⌊h⌋+1₎ + (h − ⌊h⌋)(x₍⌊h⌋+2₎ − x₍⌊h⌋+1₎);
- ``PORT_IMPORT_CONTAINERS``: the number of pairs.

Negative hours cannot arise (a gate-out is paired only with a discharge before it).

Every value carries ``units``: how many distinct reporting units (terminals here; hospitals, schools,
offices for the priority sectors) it rests on, for the disclosure rule of what is shared back.

From the vessel calls (:meth:`kinhteso.store.Store.vessel_calls`), per territory and quarter of
departure:

- ``PORT_NSW_SHARE`` = 100 × (calls with NSW = Y) / calls;
- ``PORT_VESSEL_HOURS`` = the median of the hours in port (arrival → departure);
- ``PORT_TEU_PER_BERTH_HOUR`` = Σ TEU / Σ hours at berth (berthing → departure), over the calls
  reporting both with a positive time at berth (a ratio of sums, as the CPPI's berth productivity:
  a long call weighs more than a short one).

The indicators a dataset declares in ``datasets.yaml`` (shares, weighted shares and ratios of sums)
are computed by :func:`declared_indicators`, with no code of their own.

>>> import pandas as pd
>>> pairs = pd.DataFrame({"territory": ["34:31"] * 4, "period": ["2025-Q3"] * 4, "hours": [10.0, 20.0, 30.0, 100.0]})
>>> dwell_indicators(pairs)[["indicator", "value"]].round(6).values.tolist()
[['PORT_IMPORT_DWELL_H', 25.0], ['PORT_IMPORT_DWELL_P90_H', 79.0], ['PORT_IMPORT_CONTAINERS', 4.0]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["dwell_indicators", "DWELL_INDICATORS", "P90", "vessel_indicators", "VESSEL_INDICATORS", "declared_indicators"]

#: The indicators this module gives, with their units.
DWELL_INDICATORS = {"PORT_IMPORT_DWELL_H": "HOURS", "PORT_IMPORT_DWELL_P90_H": "HOURS", "PORT_IMPORT_CONTAINERS": "COUNT"}
P90 = 0.9


def _units(g: pd.DataFrame) -> float:
    """How many distinct reporting units (the ``unit`` column: a terminal, a hospital) a cell rests
    on; NaN when the records carry no unit (the disclosure rule then does not apply)."""
    return float(g["unit"].nunique(dropna=True)) if "unit" in g.columns else float("nan")


def _frame(rows: list[tuple], units: dict[str, str] | str) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["indicator", "territory", "period", "value", "units"])
    out["unit"] = out["indicator"].map(units) if isinstance(units, dict) else units
    out["units"] = pd.array([pd.NA if pd.isna(u) else int(u) for u in out["units"]], dtype="Int64")
    return out


def dwell_indicators(pairs: pd.DataFrame) -> pd.DataFrame:
    """``indicator, territory, period, value, units, unit`` from pairs (``territory, period, hours``,
    and ``unit``, the terminal of the gate-out, when known), one row per indicator, territory and
    quarter holding at least one pair; ``units``: the distinct terminals of the cell."""
    rows = []
    if len(pairs):
        for (terr, per), g in pairs.groupby(["territory", "period"], sort=True):
            h = np.sort(g["hours"].to_numpy(dtype=float))
            n = _units(g)
            rows += [("PORT_IMPORT_DWELL_H", terr, per, float(np.quantile(h, 0.5)), n),
                     ("PORT_IMPORT_DWELL_P90_H", terr, per, float(np.quantile(h, P90)), n),
                     ("PORT_IMPORT_CONTAINERS", terr, per, float(len(h)), n)]
    return _frame(rows, DWELL_INDICATORS)


#: The indicators of vessel calls, with their units.
VESSEL_INDICATORS = {"PORT_NSW_SHARE": "PCT", "PORT_VESSEL_HOURS": "HOURS", "PORT_TEU_PER_BERTH_HOUR": "TEU_H"}


def vessel_indicators(calls: pd.DataFrame) -> pd.DataFrame:
    """``indicator, territory, period, value, units, unit`` from vessel calls (``territory, period,
    nsw, hours, berth_hours, teu``, and ``unit``, the terminal, when known); TEU per berth hour only
    where some call reports both.

    >>> calls = pd.DataFrame({"territory": ["34:31"] * 3, "period": ["2025-Q3"] * 3, "nsw": ["Y", "N", "Y"],
    ...                       "hours": [30.0, 50.0, 20.0], "berth_hours": [20.0, None, 10.0], "teu": [1500.0, 800.0, 900.0]})
    >>> vessel_indicators(calls)[["indicator", "value"]].round(4).values.tolist()
    [['PORT_NSW_SHARE', 66.6667], ['PORT_VESSEL_HOURS', 30.0], ['PORT_TEU_PER_BERTH_HOUR', 80.0]]
    """
    rows = []
    if len(calls):
        for (terr, per), g in calls.groupby(["territory", "period"], sort=True):
            n = _units(g)
            rows.append(("PORT_NSW_SHARE", terr, per, 100.0 * float((g["nsw"] == "Y").mean()), n))
            rows.append(("PORT_VESSEL_HOURS", terr, per, float(np.quantile(g["hours"].to_numpy(dtype=float), 0.5)), n))
            both = g[g["teu"].notna() & g["berth_hours"].notna() & (g["berth_hours"] > 0)]
            if len(both):
                rows.append(("PORT_TEU_PER_BERTH_HOUR", terr, per,
                             float(both["teu"].sum()) / float(both["berth_hours"].sum()), _units(both)))
    return _frame(rows, VESSEL_INDICATORS)


def declared_indicators(records: pd.DataFrame, shares: dict[str, tuple[str, tuple[str, ...], str | None]],
                        ratios: dict[str, tuple[str, str]] | None = None) -> pd.DataFrame:
    """The indicators declared in ``datasets.yaml`` (unit PCT), per territory and quarter of
    ``records`` (``territory, period``, the fields, and ``unit`` when the dataset names its
    reporting unit):

    - a share, indicator → (field, values, weight): 100 × the records whose field is one of the
      values / the records; with a weight field, 100 × Σ weight of those records / Σ weight
      (records without a weight do not count; no value when Σ weight = 0);
    - a ratio, indicator → (numerator, denominator): 100 × Σ numerator / Σ denominator over the
      records reporting both (no value when Σ denominator = 0).

    ``units`` counts the distinct reporting units of the records that entered the value.

    >>> recs = pd.DataFrame({"territory": ["34:31"] * 4, "period": ["2025-Q3"] * 4, "form": ["EDO", "PAPER", "EDO", "EDO"],
    ...                      "n": [10.0, 30.0, 5.0, 5.0], "unit": ["a", "b", "c", "c"]})
    >>> declared_indicators(recs, {"PORT_EDO_SHARE": ("form", ("EDO",), None), "W": ("form", ("EDO",), "n")}
    ...                     )[["indicator", "value", "units"]].values.tolist()
    [['PORT_EDO_SHARE', 75.0, 3], ['W', 40.0, 3]]
    >>> recs = pd.DataFrame({"territory": ["34:31"] * 3, "period": ["2025-Q3"] * 3, "visits": [100.0, 300.0, 50.0],
    ...                      "ehr": [80.0, 150.0, None]})
    >>> declared_indicators(recs, {}, {"HEALTH_EHR_SHARE": ("ehr", "visits")})[["indicator", "value"]].values.tolist()
    [['HEALTH_EHR_SHARE', 57.5]]
    """
    rows = []
    ratios = ratios or {}
    if len(records):
        for (terr, per), g in records.groupby(["territory", "period"], sort=True):
            for code, (fld, values, weight) in shares.items():
                if weight is None:
                    rows.append((code, terr, per, 100.0 * float(g[fld].isin(values).mean()), _units(g)))
                    continue
                w = g[g[weight].notna()]
                total = float(w[weight].sum())
                if total > 0:
                    rows.append((code, terr, per, 100.0 * float(w.loc[w[fld].isin(values), weight].sum()) / total,
                                 _units(w)))
            for code, (num, den) in ratios.items():
                both = g[g[num].notna() & g[den].notna()]
                total = float(both[den].sum())
                if total > 0:
                    rows.append((code, terr, per, 100.0 * float(both[num].sum()) / total, _units(both)))
    return _frame(rows, "PCT")
