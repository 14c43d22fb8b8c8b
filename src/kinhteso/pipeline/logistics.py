"""Port indicators from the container events stored: computed whenever the dataset changes.

:func:`refresh_port_indicators` reads the import dwell pairs of the territories asked for
(:meth:`kinhteso.store.Store.import_dwell`), summarises them (:mod:`kinhteso.methods.logistics`)
and stores one result run per territory (kind ``logistics``, method ``dcsa-import-dwell``) tied to
the record vintages it read. Reading the same events again stores nothing new (a run's identity is
its inputs and parameters).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from kinhteso import __version__
from kinhteso.methods.logistics import DWELL_INDICATORS, P90, dwell_indicators
from kinhteso.store import RunRecord

if TYPE_CHECKING:
    from kinhteso.workspace import Workspace

__all__ = ["refresh_port_indicators", "KIND", "METHOD", "LOCAL_OFFSET_HOURS"]

KIND = "logistics"
METHOD = "dcsa-import-dwell"
#: Viet Nam time (UTC+7): the quarter of a gate-out is that of its local date.
LOCAL_OFFSET_HOURS = 7


def refresh_port_indicators(ws: Workspace, territories: Sequence[str] | None = None) -> list[dict]:
    """Compute and store the port indicators of ``territories`` (all with container events when
    None); one dict per territory: ``territory, run_id, stored, quarters, containers``."""
    store = ws.store
    vint = store.record_vintages("container_events")
    pairs = store.import_dwell(territories, offset_hours=LOCAL_OFFSET_HOURS)
    if territories is None:
        territories = sorted(set(pairs["territory"]))
    values = dwell_indicators(pairs[["territory", "period", "hours"]] if len(pairs) else
                              pd.DataFrame(columns=["territory", "period", "hours"]))
    illustrative = bool(vint["illustrative"].any()) if len(vint) else False
    before = store.results(kind=KIND, territory=list(territories) or [""])
    batch, out = [], []
    for terr in territories:
        part = values[values["territory"] == terr]
        # a quarter computed before that has no pair left (its events retracted): no figure now
        gone = before[(before["territory"] == terr) & before["value"].notna()]
        gone = gone[~gone["period"].isin(set(part["period"]))][["indicator", "territory", "period", "unit"]]
        if len(gone):
            part = pd.concat([part, gone.assign(value=float("nan"))], ignore_index=True)
        if not len(part):
            continue
        run = RunRecord(kind=KIND, method=METHOD,
                        parameters={"territory": terr, "percentile": P90, "local_offset_hours": LOCAL_OFFSET_HOURS,
                                    "classifier": "ACT", "pairing": "last DISC before each GTOT, same UN/LOCODE"},
                        inputs={"vintages": [int(v) for v in vint["vintage_id"]]}, code_version=__version__,
                        illustrative=illustrative,
                        provenance={"indicators": sorted(DWELL_INDICATORS)})
        frame = part.assign(sector="_T", view="", price_basis="current", status="E", basis="estimated")
        batch.append((run, frame))
        out.append({"territory": terr, "quarters": sorted(part.loc[part["value"].notna(), "period"].unique()),
                    "containers": int(part.loc[part["indicator"] == "PORT_IMPORT_CONTAINERS", "value"].sum())})
    for o, (rid, stored) in zip(out, store.add_results_many(batch)):
        o.update(run_id=rid, stored=stored)
    return out

