"""Synthetic container events of Hải Phòng's terminals (illustrative), for the demo, the tests and
the benchmark: DCSA Track & Trace equipment events, seeded.

Each container calls at one of Hải Phòng's container terminals (kinhteso's illustrative facility
codes below, weighted by an indicative share of the port's throughput). Import containers are
discharged (``DISC``) on a vessel day and gated out (``GTOT``) after a dwell drawn from a
log-normal distribution (median about three days, a long right tail: a tenth stay more than a
week); some also carry the terminal's estimate of the gate-out (``EST``); a few are still in the
yard at the end of the year (no gate-out). Export containers are gated in (``GTIN``) and loaded
(``LOAD``). Vessel days follow the season: calls thin out around Tết (late January, February) and
rise towards the year's end. Nothing here is a real port's record.

>>> ev = container_events(1000, year=2025, seed=1)
>>> sorted(ev["equipmentEventTypeCode"].unique())
['DISC', 'GTIN', 'GTOT', 'LOAD']
>>> set(ev["UNLocationCode"])
{'VNHPH'}
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["container_events", "write_events", "TERMINALS", "COLUMNS"]

#: Hải Phòng's container terminals (kinhteso's illustrative facility codes) and the share of the
#: port's container calls each takes in the generator (indicative, not published shares).
TERMINALS = {"HICT": 0.22, "TVT": 0.18, "NDV": 0.14, "GPT": 0.12, "CVE": 0.10, "DVU": 0.10, "NHD": 0.08, "TCL": 0.06}
COLUMNS = ["equipmentReference", "equipmentEventTypeCode", "eventClassifierCode", "eventDateTime", "UNLocationCode",
           "facilityCode"]
_VN = np.timedelta64(7, "h")


def _season(year: int) -> np.ndarray:
    """The weight of each day of the year for a vessel call."""
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    w = 1.0 + 0.15 * np.sin(2 * np.pi * (days.dayofyear.to_numpy() - 120) / 365)
    w[(days.month == 2) | ((days.month == 1) & (days.day > 20))] *= 0.6  # around Tết
    return w / w.sum()


def container_events(n_containers: int, *, year: int = 2025, seed: int = 0, import_share: float = 0.55,
                     estimate_share: float = 0.3, in_yard_share: float = 0.01) -> pd.DataFrame:
    """The events of ``n_containers`` containers in ``year`` (about 2.4 events per container),
    columns :data:`COLUMNS`, times in ISO 8601 with the +07:00 offset, in time order."""
    rng = np.random.default_rng(seed)
    n = int(n_containers)
    start = np.datetime64(f"{year}-01-01T00:00")
    day = rng.choice(365, size=n, p=_season(year))
    at = start + day.astype("timedelta64[D]") + rng.integers(0, 24 * 60, size=n).astype("timedelta64[m]")
    term = rng.choice(list(TERMINALS), size=n, p=np.array(list(TERMINALS.values())) / sum(TERMINALS.values()))
    ref = np.char.add("KTSU", np.char.zfill(np.arange(n).astype(str), 7))
    imp = rng.random(n) < import_share
    dwell_h = rng.lognormal(mean=np.log(72.0), sigma=0.75, size=n)
    later = at + (dwell_h * 60).astype("timedelta64[m]")
    out = rng.random(n) >= in_yard_share
    est = rng.random(n) < estimate_share
    est_at = at + (rng.lognormal(np.log(60.0), 0.5, size=n) * 60).astype("timedelta64[m]")
    parts = [
        (ref[imp], "DISC", "ACT", at[imp], term[imp]),
        (ref[imp & out], "GTOT", "ACT", later[imp & out], term[imp & out]),
        (ref[imp & est], "GTOT", "EST", est_at[imp & est], term[imp & est]),
        (ref[~imp], "GTIN", "ACT", at[~imp], term[~imp]),
        (ref[~imp], "LOAD", "ACT", later[~imp], term[~imp]),
    ]
    frames = [pd.DataFrame({"equipmentReference": r, "equipmentEventTypeCode": t, "eventClassifierCode": c,
                            "at": a, "facilityCode": f}) for r, t, c, a, f in parts]
    ev = pd.concat(frames, ignore_index=True).sort_values("at", kind="stable")
    ev["eventDateTime"] = ev["at"].dt.strftime("%Y-%m-%dT%H:%M:00+07:00")
    ev["UNLocationCode"] = "VNHPH"
    return ev[COLUMNS].reset_index(drop=True)


def write_events(path: Path, n_containers: int, *, year: int = 2025, seed: int = 0, chunk: int = 1_000_000) -> int:
    """Write the events of ``n_containers`` containers to a CSV at ``path`` (in chunks, so that
    tens of millions of events never sit in memory at once); the number of events written."""
    path = Path(path)
    total, first = 0, True
    for i, lo in enumerate(range(0, int(n_containers), chunk)):
        ev = container_events(min(chunk, int(n_containers) - lo), year=year, seed=seed * 10_007 + i)
        ev["equipmentReference"] = ev["equipmentReference"].str.replace("KTSU", f"KT{i:02d}", regex=False)
        ev.to_csv(path, mode="w" if first else "a", header=first, index=False)
        first = False
        total += len(ev)
    return total
