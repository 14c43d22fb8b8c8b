"""Indicators derived from the records stored: computed whenever their dataset changes, for each
quarter and for each year (from the year's records themselves: :func:`with_years`).

:func:`refresh_dataset` reads a dataset's records for the territories asked for (the import dwell
pairs of container events, :meth:`kinhteso.store.Store.import_dwell`; the vessel calls,
:meth:`kinhteso.store.Store.vessel_calls`), summarises them (:mod:`kinhteso.methods.logistics`)
and stores one result run per territory (kind ``logistics``, the dataset's method) tied to the
record vintages it read. A quarter computed before that has no record left (its vintage retracted)
is stored without a value, so that no figure outlives its data. Reading the same records again
stores nothing new (a run's identity is its inputs and parameters).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from kinhteso import __version__
from kinhteso.methods.logistics import (
    DWELL_INDICATORS,
    P90,
    VESSEL_INDICATORS,
    declared_indicators,
    dwell_indicators,
    vessel_indicators,
)
from kinhteso.store import RunRecord

if TYPE_CHECKING:
    from kinhteso.store import Store
    from kinhteso.workspace import Workspace

__all__ = ["refresh_dataset", "KIND", "METHODS", "LOCAL_OFFSET_HOURS", "method_of", "with_years"]

KIND = "logistics"
#: Viet Nam time (UTC+7): the quarter of a gate-out or a departure is that of its local date.
LOCAL_OFFSET_HOURS = 7


def with_years(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` (``period`` a quarter ``YYYY-Qn``) once more under their year, so that
    each indicator is also computed for the year from the year's records themselves (a median of the
    year's dwell times, a ratio of the year's sums), not as a mean of quarters.

    >>> with_years(pd.DataFrame({"period": ["2025-Q3", "2025-Q4"]}))["period"].tolist()
    ['2025-Q3', '2025-Q4', '2025', '2025']
    """
    if not len(frame):
        return frame
    return pd.concat([frame, frame.assign(period=frame["period"].str[:4])], ignore_index=True)


def _dwell(store: Store, territories) -> pd.DataFrame:
    pairs = store.import_dwell(territories, offset_hours=LOCAL_OFFSET_HOURS).rename(columns={"facility": "unit"})
    return dwell_indicators(with_years(pairs[["territory", "period", "hours", "unit"]]) if len(pairs) else
                            pd.DataFrame(columns=["territory", "period", "hours", "unit"]))


def _vessels(store: Store, territories) -> pd.DataFrame:
    calls = store.vessel_calls(territories, offset_hours=LOCAL_OFFSET_HOURS)
    return vessel_indicators(with_years(calls.rename(columns={"facility": "unit"})))


#: dataset → (method, the indicators, how they are computed, the run's parameters)
METHODS: dict[str, tuple[str, dict[str, str], Callable[[Store, Sequence[str] | None], pd.DataFrame], dict]] = {
    "container_events": ("dcsa-import-dwell", DWELL_INDICATORS, _dwell,
                         {"percentile": P90, "classifier": "ACT", "pairing": "last DISC before each GTOT, same UN/LOCODE"}),
    "vessel_calls": ("vessel-calls", VESSEL_INDICATORS, _vessels,
                     {"period": "quarter of departure", "teu_per_berth_hour": "ratio of sums",
                      "revisions": "the latest vintage of a call wins"}),
}


def method_of(dataset: str):
    """(method, indicators, compute, parameters) of a dataset: its own method (:data:`METHODS`), or
    the indicators it declares in ``datasets.yaml`` (shares and ratios, method ``share``); None when
    it derives nothing."""
    if dataset in METHODS:
        return METHODS[dataset]
    from kinhteso.reference.datasets import datasets  # noqa: PLC0415

    ds = datasets()[dataset]
    shares = {d.code: (d.share_field, d.share_values, d.share_weight) for d in ds.derived if d.share_field}
    ratios = {d.code: d.ratio for d in ds.derived if d.ratio}
    if not (shares or ratios) or ds.period_field is None:
        return None
    fields = sorted({f for f, _, w in shares.values() for f in (f, w) if f} | {f for pair in ratios.values() for f in pair}
                    | ({ds.unit_field} if ds.unit_field else set()))

    def compute(store: Store, territories) -> pd.DataFrame:
        recs = store.records_by_quarter(dataset, ds.period_field, fields, ds.key, territories,
                                        offset_hours=LOCAL_OFFSET_HOURS)
        if ds.unit_field:
            recs = recs.assign(unit=recs[ds.unit_field])
        return declared_indicators(with_years(recs), shares, ratios)

    declared = {c: [f, list(v)] + ([w] if w else []) for c, (f, v, w) in shares.items()}
    return ("share", {c: "PCT" for c in [*shares, *ratios]}, compute,
            {"period": f"quarter of {ds.period_field}", "shares": declared,
             **({"ratios": {c: list(r) for c, r in ratios.items()}} if ratios else {}),
             **({"unit_field": ds.unit_field} if ds.unit_field else {}),
             "revisions": "the latest vintage of a record wins"})


def refresh_dataset(ws: Workspace, dataset: str, territories: Sequence[str] | None = None) -> list[dict]:
    """Compute and store the indicators derived from ``dataset`` for ``territories`` (all with
    records when None); one dict per territory: ``territory, run_id, stored, quarters, years``."""
    found = method_of(dataset)
    if found is None:
        return []
    method, indicators, compute, params = found
    store = ws.store
    vint = store.record_vintages(dataset)
    values = compute(store, territories)
    if territories is None:
        territories = sorted(set(values["territory"]))
    illustrative = bool(vint["illustrative"].any()) if len(vint) else False
    before = store.results(kind=KIND, method=method, indicator=list(indicators), territory=list(territories) or [""])
    batch, out = [], []
    for terr in territories:
        part = values[values["territory"] == terr]
        # a quarter computed before that has no record left (its vintage retracted): no figure now
        gone = before[(before["territory"] == terr) & before["value"].notna()]
        gone = gone[~gone["period"].isin(set(part["period"]))][["indicator", "territory", "period", "unit"]]
        if len(gone):
            part = pd.concat([part, gone.assign(value=float("nan"))], ignore_index=True)
        if not len(part):
            continue
        run = RunRecord(kind=KIND, method=method,
                        parameters={"territory": terr, "dataset": dataset, "local_offset_hours": LOCAL_OFFSET_HOURS,
                                    **params},
                        inputs={"vintages": [int(v) for v in vint["vintage_id"]]}, code_version=__version__,
                        illustrative=illustrative, provenance={"indicators": sorted(indicators)})
        batch.append((run, part.assign(sector="_T", view="", price_basis="current", status="E", basis="estimated")))
        given = sorted(part.loc[part["value"].notna(), "period"].unique())
        out.append({"territory": terr, "quarters": [p for p in given if "-Q" in p], "years": [p for p in given if "-" not in p]})
    for o, (rid, stored) in zip(out, store.add_results_many(batch)):
        o.update(run_id=rid, stored=stored)
    return out

