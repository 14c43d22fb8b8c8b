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

For the demo workspace (:data:`DEMO_FILES`, :func:`write_demo_files`) the same seasonal generator
writes, for Hải Phòng and for Hồ Chí Minh City's ports (:data:`PORTS`, several terminals each, so
that every quarter rests on at least three reporting units), the files of the shipped adapters:
vessel calls (``vessel-calls``: port hours log-normal, berth time a part of them, the National
Single Window share rising over the year), customs declarations (``customs-declarations``), delivery
orders (``delivery-orders``: the eDO share rising), port payments (``eport-payments``) and DCSA
container events (``dcsa-equipment-events``). The digital shares are illustrative settings, not
measurements.

>>> ev = container_events(1000, year=2025, seed=1)
>>> sorted(ev["equipmentEventTypeCode"].unique())
['DISC', 'GTIN', 'GTOT', 'LOAD']
>>> set(ev["UNLocationCode"])
{'VNHPH'}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["container_events", "write_events", "TERMINALS", "COLUMNS", "PORTS", "Port", "vessel_calls",
           "customs_declarations", "delivery_orders", "port_payments", "DEMO_FILES", "write_demo_files",
           "ILLUSTRATIVE_NOTE"]

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
                     estimate_share: float = 0.3, in_yard_share: float = 0.01, locode: str = "VNHPH",
                     terminals: dict[str, float] | None = None) -> pd.DataFrame:
    """The events of ``n_containers`` containers in ``year`` (about 2.4 events per container),
    columns :data:`COLUMNS`, times in ISO 8601 with the +07:00 offset, in time order; at the port
    ``locode`` and its ``terminals`` (Hải Phòng's by default)."""
    rng = np.random.default_rng(seed)
    n = int(n_containers)
    terminals = TERMINALS if terminals is None else terminals
    start = np.datetime64(f"{year}-01-01T00:00")
    day = rng.choice(365, size=n, p=_season(year))
    at = start + day.astype("timedelta64[D]") + rng.integers(0, 24 * 60, size=n).astype("timedelta64[m]")
    term = rng.choice(list(terminals), size=n, p=np.array(list(terminals.values())) / sum(terminals.values()))
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
    ev["UNLocationCode"] = locode
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


# --- the demo's record files: several ports, every shipped adapter ----------------------------
@dataclass(frozen=True)
class Port:
    """An illustrative port of the demo: its UN/LOCODE(s) with their terminals (illustrative facility
    codes and the share of calls each takes), its yearly volumes and the shares of each process that
    go through the digital channel at the start and at the end of the year (linear in between)."""

    name: str                                  #: how the Vietnamese files name it (the adapter's word or the LOCODE)
    terminals: dict[str, tuple[str, float]]    #: facility → (UN/LOCODE, share of calls)
    calls: int                                 #: vessel calls a year
    containers: int                            #: containers a year (DCSA events)
    declarations: int
    orders: int
    payments: int
    nsw: tuple[float, float]                   #: NSW share of vessel calls, January → December
    edo: tuple[float, float]
    epayment: tuple[float, float]
    edeclaration: tuple[float, float]


#: The demo's ports (illustrative settings: facility codes, volumes and shares are not published
#: figures). Hải Phòng writes its port as the adapters' word ``Hải Phòng``; Hồ Chí Minh City's calls
#: are at Cát Lái (``VNCLI``) and Cái Mép – Thị Vải (``VNVUT``), written as UN/LOCODEs.
PORTS: dict[str, Port] = {
    "34:31": Port("Hải Phòng", {f: ("VNHPH", w) for f, w in TERMINALS.items()}, calls=480, containers=1500,
                  declarations=600, orders=480, payments=600, nsw=(0.86, 0.96), edo=(0.55, 0.80),
                  epayment=(0.70, 0.88), edeclaration=(0.985, 0.995)),
    "34:79": Port("VNCLI", {"CATLAI": ("VNCLI", 0.45), "CMIT": ("VNVUT", 0.2), "TCIT": ("VNVUT", 0.2),
                            "GML": ("VNVUT", 0.15)}, calls=420, containers=1200, declarations=500, orders=400,
                  payments=500, nsw=(0.80, 0.90), edo=(0.45, 0.62), epayment=(0.62, 0.78),
                  edeclaration=(0.98, 0.99)),
}
ILLUSTRATIVE_NOTE = ("# SỐ LIỆU MINH HỌA do kinhteso demo tạo ra, không phải số liệu thống kê chính thức.\n"
                     "# ILLUSTRATIVE data generated by kinhteso demo, not official statistics.\n")


def _times(rng: np.random.Generator, n: int, year: int) -> np.ndarray:
    """``n`` local times in ``year`` on seasonal days, sorted."""
    start = np.datetime64(f"{year}-01-01T00:00")
    day = rng.choice(365, size=n, p=_season(year))
    return np.sort(start + day.astype("timedelta64[D]") + rng.integers(0, 24 * 60, size=n).astype("timedelta64[m]"))


def _digital(rng: np.random.Generator, at: np.ndarray, year: int, share: tuple[float, float]) -> np.ndarray:
    """Whether each record went digital: its probability rises linearly over the year."""
    frac = (at - np.datetime64(f"{year}-01-01T00:00")).astype("timedelta64[m]").astype(float) / (365 * 24 * 60)
    return rng.random(len(at)) < share[0] + (share[1] - share[0]) * frac


def _local(at) -> pd.Series:
    return pd.Series(pd.to_datetime(at)).dt.strftime("%Y-%m-%d %H:%M")


def _word(port: Port, locode: str) -> str:
    return port.name if port.name == "Hải Phòng" and locode == "VNHPH" else locode


def vessel_calls(key: str, *, year: int = 2025, seed: int = 0) -> pd.DataFrame:
    """A port authority's vessel-call register in the ``vessel-calls`` layout (Vietnamese headers,
    local times): hours in port log-normal (median about 30 h), at berth 55–85 % of them, a tenth
    without a berthing time; TEU handled with the vessel's size."""
    port, rng = PORTS[key], np.random.default_rng(seed)
    n = port.calls
    arr = _times(rng, n, year)
    hours = rng.lognormal(np.log(30.0), 0.45, size=n)
    dep = arr + (hours * 60).astype("timedelta64[m]")
    berth = dep - (hours * rng.uniform(0.55, 0.85, size=n) * 60).astype("timedelta64[m]")
    fac = rng.choice(list(port.terminals), size=n, p=_weights(port))
    gt = rng.integers(9_000, 80_000, size=n)
    teu = np.round(gt / 40 * rng.uniform(0.6, 1.2, size=n))
    no_berth = rng.random(n) < 0.1
    # the register of the year: calls that leave after New Year's Eve are next year's
    keep = dep < np.datetime64(f"{year + 1}-01-01T00:00")
    return pd.DataFrame({
        "Số chuyến": [f"{key[-2:]}{year % 100}-{i:05d}" for i in range(n)],
        "Cảng": [_word(port, port.terminals[f][0]) for f in fac], "Bến": fac,
        "Tàu (IMO)": rng.integers(9_100_000, 9_900_000, size=n), "Thời gian đến": _local(arr),
        "Thời gian cập cầu": _local(berth).where(~no_berth, ""), "Thời gian rời": _local(dep), "GT": gt,
        "TEU xếp dỡ": teu.astype(int), "Qua NSW": np.where(_digital(rng, dep, year, port.nsw), "Có", "Không")})[keep]


def _weights(port: Port) -> np.ndarray:
    w = np.array([s for _, s in port.terminals.values()])
    return w / w.sum()


def _first_locode(port: Port) -> str:
    return next(iter(port.terminals.values()))[0]


def customs_declarations(key: str, *, year: int = 2025, seed: int = 0) -> pd.DataFrame:
    """A customs branch's declarations (``customs-declarations``): import and export, channel green
    about 60 %, yellow 30 %, red 10 %; electronic with the port's rising share."""
    port, rng = PORTS[key], np.random.default_rng(seed + 1)
    n = port.declarations
    at = _times(rng, n, year)
    return pd.DataFrame({
        "Số tờ khai": [f"10{key[-2:]}{year % 100}{i:07d}" for i in range(n)],
        "Cảng làm thủ tục": _word(port, _first_locode(port)), "Ngày đăng ký": _local(at),
        "Loại hình": rng.choice(["Nhập khẩu", "Xuất khẩu"], size=n, p=[0.55, 0.45]),
        "Phân luồng": rng.choice(["Xanh", "Vàng", "Đỏ"], size=n, p=[0.6, 0.3, 0.1]),
        "Tờ khai điện tử": np.where(_digital(rng, at, year, port.edeclaration), "Có", "Không")})


def delivery_orders(key: str, *, year: int = 2025, seed: int = 0) -> pd.DataFrame:
    """A port's delivery orders (``delivery-orders``): paper or eDO, the eDO share rising."""
    port, rng = PORTS[key], np.random.default_rng(seed + 2)
    n = port.orders
    at = _times(rng, n, year)
    return pd.DataFrame({"Số lệnh": [f"DO-{key[-2:]}{year % 100}-{i:05d}" for i in range(n)],
                         "Cảng": _word(port, _first_locode(port)), "Thời điểm phát hành": _local(at),
                         "Hình thức": np.where(_digital(rng, at, year, port.edo), "eDO", "Giấy")})


def port_payments(key: str, *, year: int = 2025, seed: int = 0) -> pd.DataFrame:
    """A port's payment log (``eport-payments``): cashless (transfer or ePort) with the rising share;
    amounts log-normal (median about 1.2 million đồng)."""
    port, rng = PORTS[key], np.random.default_rng(seed + 3)
    n = port.payments
    at = _times(rng, n, year)
    cashless = _digital(rng, at, year, port.epayment)
    how = np.where(cashless, rng.choice(["Thanh toán điện tử", "Chuyển khoản"], size=n, p=[0.7, 0.3]), "Tiền mặt")
    return pd.DataFrame({"Mã giao dịch": [f"PAY-{key[-2:]}{year % 100}-{i:05d}" for i in range(n)],
                         "Cảng": _word(port, _first_locode(port)), "Thời điểm": _local(at), "Phương thức": how,
                         "Số tiền": np.round(rng.lognormal(np.log(1.2e6), 0.6, size=n), -3).astype(int)})


def _events(key: str, *, year: int = 2025, seed: int = 0) -> pd.DataFrame:
    port = PORTS[key]
    frames = []
    for i, locode in enumerate(sorted({lc for lc, _ in port.terminals.values()})):
        terms = {f: w for f, (lc, w) in port.terminals.items() if lc == locode}
        n = round(port.containers * sum(terms.values()) / sum(w for _, w in port.terminals.values()))
        ev = container_events(n, year=year, seed=seed + 4 + i, locode=locode, terminals=terms)
        ev["equipmentReference"] = ev["equipmentReference"].str.replace("KTSU", f"K{key[-2:]}{i}", regex=False)
        frames.append(ev[ev["eventDateTime"].str[:4] == str(year)])  # the year's events: later ones are next year's file
    return pd.concat(frames, ignore_index=True)


def _writer(make, stem: str):
    def write(folder: Path, year: int, seed: int) -> Path:
        path = Path(folder) / f"{stem}_{year}.csv"
        text = pd.concat([make(key, year=year, seed=seed + 10 * i) for i, key in enumerate(PORTS)],
                         ignore_index=True).to_csv(index=False)
        path.write_text(ILLUSTRATIVE_NOTE + text, encoding="utf-8")
        return path
    return write


#: The demo's record files: (adapter, source, writer), the writer taking (folder, year, seed) and
#: returning the file it wrote, every port of :data:`PORTS` in one file (a file is one vintage: one
#: file per dataset keeps the demo fast). Every file is illustrative and submitted as source ``demo``
#: (a source of kind ``illustrative`` may submit any dataset).
DEMO_FILES: tuple[tuple[str, str, object], ...] = (
    ("vessel-calls", "demo", _writer(vessel_calls, "vessel_calls")),
    ("customs-declarations", "demo", _writer(customs_declarations, "customs_declarations")),
    ("delivery-orders", "demo", _writer(delivery_orders, "delivery_orders")),
    ("eport-payments", "demo", _writer(port_payments, "port_payments")),
    ("dcsa-equipment-events", "demo", _writer(_events, "dcsa_events")),
)


def write_demo_files(folder: Path, seed: int = 0, *, year: int = 2025) -> list[tuple[str, str, Path]]:
    """Write the ports' record files into ``folder``: ``(adapter, source, path)`` for each, in the
    order they are to be ingested."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [(adapter, source, write(folder, year, seed)) for adapter, source, write in DEMO_FILES]
