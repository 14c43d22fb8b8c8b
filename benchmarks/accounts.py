"""Accounts benchmark: the nation and the 34 provinces × 7 years (2019–2025) × 3 views (GSO,
MIC, OECD) from the demo workspace, against a plain pandas group-by implementation of the GSO
view measured in the same run. Target: under 2 s on 2 cores.

    .venv/bin/python benchmarks/accounts.py [--workspace DIR]   (builds the demo workspace if absent)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from kinhteso.methods.merger import to_basis34
from kinhteso.pipeline import accounts as PA
from kinhteso.demo.build import run_demo
from kinhteso.reference import territories as terr
from kinhteso.reference import vsic
from kinhteso.workspace import CONFIG_NAME, Workspace

YEARS = [str(y) for y in range(2019, 2026)]
VIEWS = ["gso", "mic", "oecd"]


def baseline_gso(ws: Workspace, keys: list[str]) -> pd.Series:
    """The GSO view as one vectorised pandas computation: core divisions + allocated classes,
    digitalised = other VA × national section coefficient (no fallbacks, warnings, provenance)."""
    obs = ws.store.observations(indicator=["GRDP_VA", "GRDP", "DIGITAL_COEF", "ALLOC_RATIO"], period=YEARS)
    add = obs[obs.indicator.isin(["GRDP_VA", "GRDP"])]
    conv, _ = to_basis34(add, terr.merger_map(), additive={"GRDP_VA": True, "GRDP": True})
    data = pd.concat([conv[conv.territory.str.startswith("34:")], add[add.territory.str.startswith("63:") | (add.territory == "VN")]])
    data = data[data.territory.isin(keys)]
    va = data[data.indicator == "GRDP_VA"][["territory", "period", "sector", "value"]]
    grdp = data[data.indicator == "GRDP"].set_index(["territory", "period"]).value
    alloc = obs[(obs.indicator == "ALLOC_RATIO") & (obs.territory == "VN")]
    ratio = {(p, s): v for p, s, v in zip(alloc.period, alloc.sector, alloc.value)}
    coef = obs[(obs.indicator == "DIGITAL_COEF") & (obs.territory == "VN")].rename(columns={"sector": "section", "value": "coef"})
    section = {s.code: vsic.section_of(s.code) for s in vsic.sectors() if s.level == "division"}
    va = va.assign(section=va.sector.map(section))
    core_share = pd.Series(0.0, index=va.index)
    core_share[va.sector.isin(["26", "61", "62"])] = 1.0
    for cls, div in (("4651", "46"), ("4652", "46"), ("582", "58"), ("631", "63")):
        m = va.sector == div
        core_share[m] += [ratio.get((p, cls), 0.0) for p in va.period[m]]
    va = va.assign(core=va.value * core_share, other=va.value * (1 - core_share))
    va = va.merge(coef[["period", "section", "coef"]], on=["period", "section"], how="left").fillna({"coef": 0.0})
    va["dig"] = va.other * va.coef
    de = va.groupby(["territory", "period"])[["core", "dig"]].sum().sum(axis=1)
    return de / grdp.reindex(de.index) * 100


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = None
    root = args.workspace
    if root is None or not (root / CONFIG_NAME).exists():
        tmp = tempfile.TemporaryDirectory()
        root = Path(tmp.name) / "demo"
        t0 = time.perf_counter()
        run_demo(root, echo=lambda *_: None)
        print(f"demo workspace built in {time.perf_counter() - t0:.1f} s (not timed below)")
    with Workspace.open(root) as ws:
        keys34 = ["VN"] + [t.key for t in terr.territories() if t.basis == 34]
        ours, base = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            res = PA.measure_many(ws, keys34, YEARS, VIEWS, store_run=False)
            ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            b = baseline_gso(ws, keys34)
            base.append(time.perf_counter() - t0)
        n = len(res)
        ok = sum(r.result is not None for r in res)
        gso = {(r.territory, r.period): r.result.de_share for r in res if r.result and r.view == "gso"}
        diff = max(abs(gso[k] - v) for k, v in b.items() if k in gso)
    t, tb = statistics.median(ours), statistics.median(base)
    print(f"cores: {os.cpu_count()}")
    print(f"kinhteso accounts: {n} results ({ok} computed; {len(keys34)} territories × {len(YEARS)} years × {len(VIEWS)} views) "
          f"in {t:.2f} s (median of {args.repeat}; {t / n * 1000:.2f} ms per result, with allocations, fallbacks, "
          f"warnings, MIC/OECD views and provenance)")
    print(f"pandas group-by baseline (GSO view only, no checks): {tb:.2f} s; ratio kinhteso / baseline: {t / tb:.1f}×")
    print(f"largest GSO-share difference kinhteso vs baseline: {diff:.2e} pp")
    print(f"target: under 2 s [{'met' if t < 2 else 'NOT met'}]")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
