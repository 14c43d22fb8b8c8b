"""Figures of the indicators kinhteso derives from agencies' records, read with the official-figure rule.

The indicators declared in the dataset registry (``reference/data/datasets*.yaml``: the port and
customs shares, the five priority sectors' shares) are computed from records whenever their dataset
changes and stored as results (kind ``logistics``, basis ``estimated``: :mod:`kinhteso.pipeline.logistics`).
The composite index (``kinhteso index``) and the gaps to targets (``kinhteso gaps``) read them here,
by the rule of :mod:`kinhteso.service.figures`: **a submitted figure first** (an agency's or a
publisher's vintage for that territory key and period), **else kinhteso's derived result** (the latest
run as of the moment asked). Nothing is computed or stored here; a submission is never replaced.

- A **quarter**: the submitted figure of the quarter, else the derived result of the quarter.
- A **year**: a submitted annual figure, else the derived result of the year (computed from the
  year's records themselves: Σ numerator / Σ denominator over the year, the median of the year's
  dwell times; :func:`kinhteso.pipeline.logistics.with_years`), else the **unweighted mean of the
  year's quarters** that have a figure (quarters submitted without a year), with the number of
  quarters it rests on (``quarters``).

>>> RECORD_KIND
'logistics'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import pandas as pd

from kinhteso.periods import period as parse_period

if TYPE_CHECKING:
    from kinhteso.workspace import Workspace

__all__ = ["COLUMNS", "RECORD_KIND", "official_values", "record_indicators"]

#: The result kind of the indicators derived from records.
RECORD_KIND = "logistics"
#: Columns of :func:`official_values`.
COLUMNS = ["territory", "indicator", "period", "value", "illustrative", "vintage", "run_id", "source", "quarters"]


@lru_cache(maxsize=1)
def record_indicators() -> frozenset[str]:
    """Every indicator a registered dataset derives (``derived`` of ``datasets*.yaml``)."""
    from kinhteso.reference.datasets import datasets

    return frozenset(d.code for ds in datasets().values() for d in ds.derived)


def _submitted(ws: Workspace, indicators: list[str], periods: list[str], territories, as_of) -> pd.DataFrame:
    obs = ws.store.observations(indicator=indicators, period=periods, sector="_T", as_of=as_of,
                                **({"territory": list(territories)} if territories else {}))
    if obs.empty:
        return pd.DataFrame(columns=COLUMNS)
    obs = obs.sort_values("price_basis", key=lambda s: s != "current", kind="stable")  # current prices first
    obs = obs.drop_duplicates(["territory", "indicator", "period"])
    return pd.DataFrame({"territory": obs["territory"], "indicator": obs["indicator"], "period": obs["period"],
                         "value": obs["value"].astype(float), "illustrative": obs["illustrative"].astype(bool),
                         "vintage": obs["vintage_id"].astype("Int64"), "run_id": None,
                         "source": obs["source"], "quarters": pd.NA}).reset_index(drop=True)


def _derived(ws: Workspace, indicators: list[str], periods: list[str], territories, as_of) -> pd.DataFrame:
    res = ws.store.results(kind=RECORD_KIND, indicator=indicators, period=periods, sector="_T", as_of=as_of,
                           **({"territory": list(territories)} if territories else {}))
    res = res[res["value"].notna()] if len(res) else res  # a result withdrawn (its records retracted)
    if res.empty:
        return pd.DataFrame(columns=COLUMNS)
    return pd.DataFrame({"territory": res["territory"], "indicator": res["indicator"], "period": res["period"],
                         "value": res["value"].astype(float), "illustrative": res["illustrative"].astype(bool),
                         "vintage": pd.array([pd.NA] * len(res), dtype="Int64"), "run_id": res["run_id"],
                         "source": "kinhteso:" + res["kind"].astype(str), "quarters": pd.NA}).reset_index(drop=True)


def _rule(first: pd.DataFrame, then: pd.DataFrame) -> pd.DataFrame:
    """``first`` (submissions) and the rows of ``then`` (derived) whose key ``first`` lacks."""
    if then.empty:
        return first
    have = set(zip(first["territory"], first["indicator"], first["period"]))
    keep = then[[k not in have for k in zip(then["territory"], then["indicator"], then["period"])]]
    parts = [p for p in (first, keep) if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)


def official_values(ws: Workspace, indicators: Sequence[str], period: str, *,
                    territories: Sequence[str] | None = None, as_of: dt.datetime | None = None) -> pd.DataFrame:
    """The figure of each (territory, indicator) for ``period`` (a quarter or a year; see the module):
    columns :data:`COLUMNS` (``vintage`` for a submitted figure, ``run_id`` for a derived one; a year
    derived from records, or a mean of quarters, gives the number of its ``quarters``; a mean of
    quarters also the runs of the derived ones, comma-joined)."""
    p = parse_period(period)
    inds = sorted(set(indicators))
    if p.freq == "Q":
        return _rule(_submitted(ws, inds, [p.code], territories, as_of), _derived(ws, inds, [p.code], territories, as_of))
    if p.freq != "A":
        return pd.DataFrame(columns=COLUMNS)
    qs = [f"{p.year}-Q{i}" for i in range(1, 5)]
    by_quarter = _derived(ws, inds, qs, territories, as_of)
    year = _derived(ws, inds, [p.code], territories, as_of)
    if len(year):  # how many quarters of the year the records cover
        n = by_quarter.groupby(["territory", "indicator"]).size()
        year["quarters"] = [n.get((t, i), pd.NA) for t, i in zip(year["territory"], year["indicator"])]
    annual = _rule(_submitted(ws, inds, [p.code], territories, as_of), year)
    quarters = _rule(_submitted(ws, inds, qs, territories, as_of), by_quarter)
    if quarters.empty:
        return annual
    rows = []
    for (t, ind), g in quarters.groupby(["territory", "indicator"], sort=True):
        runs = sorted({r for r in g["run_id"] if isinstance(r, str)})
        vint = g["vintage"].dropna()
        rows.append({"territory": t, "indicator": ind, "period": p.code, "value": float(g["value"].mean()),
                     "illustrative": bool(g["illustrative"].any()),
                     "vintage": int(vint.max()) if len(vint) else pd.NA,
                     "run_id": ", ".join(runs) if runs else None,
                     "source": ", ".join(sorted(set(g["source"]))) + f" (mean of {', '.join(sorted(g['period']))})",
                     "quarters": len(g)})
    means = pd.DataFrame(rows, columns=COLUMNS)
    return _rule(annual, means.assign(vintage=means["vintage"].astype("Int64")))
