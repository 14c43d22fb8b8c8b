"""The illustrative demo dataset: deterministic, generated here, and labelled as such everywhere.

NOTHING HERE IS AN OFFICIAL STATISTIC. The generator builds value added by VSIC division for
the 63 old provinces (2019–2026, annual and quarterly) from a stylised structure, then sums
old provinces into the 34 new ones for the periods after the merger and into the nation. It is
calibrated so that the GSO-view digital-economy share computed from it lands near the
published national figures (12.7–14.0% of GDP over 2020–2025, core + digitalised as published)
and near the NSO 2025 provincial figures on the 34 basis (Bắc Ninh ≈ 46%, Hải Phòng ≈ 22%,
Ho Chi Minh City ≈ 13%); the province scales are rough 2023 GRDP magnitudes.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from kinhteso.reference import territories as terr
from kinhteso.reference import vsic

__all__ = ["DemoData", "generate", "YEARS", "CALIBRATION", "CORE_DIVISIONS", "ALLOC"]

YEARS = tuple(range(2019, 2027))  # 2026 is generated for its first three quarters only
LAST_QUARTER = "2026-Q3"
LAST_MONTH = "2026-10"

#: National targets of the calibration, % of GDP: (total, digitalised). Totals 2020–2025 are the
#: latest GSO/NSO releases; digitalised parts are the latest release that gives them (2020 4.75,
#: 2022 and 2023 4.91, 2024 5.01, 2025 5.6; 2021 interpolated); core = total − digitalised.
#: 2019 and 2026 are illustrative extrapolations.
CALIBRATION = {
    2019: (12.40, 4.70), 2020: (12.66, 4.75), 2021: (12.87, 4.83), 2022: (12.83, 4.91),
    2023: (12.87, 4.91), 2024: (13.17, 5.01), 2025: (14.02, 5.60), 2026: (14.60, 5.85),
}

#: Core classes taken out of their division with a national allocation ratio (class / division).
ALLOC = {"4651": ("46", 0.050), "4652": ("46", 0.060), "582": ("58", 0.35), "631": ("63", 0.70)}
#: Further national allocation ratios for the OECD ICT-sector classes (illustrative).
ALLOC_OECD = {"2610": ("26", 0.40), "2620": ("26", 0.30), "2630": ("26", 0.15), "2640": ("26", 0.05),
              "2680": ("26", 0.01), "5820": ("58", 0.35), "6311": ("63", 0.55), "6312": ("63", 0.15),
              "9511": ("95", 0.25), "9512": ("95", 0.15)}
#: Platform value added (MIC-style view, a kinhteso estimate) as % of GRDP, national, and its split by division.
_PLATFORM_SHARE = {2019: 1.8, 2020: 2.0, 2021: 2.2, 2022: 2.4, 2023: 2.7, 2024: 3.0, 2025: 3.3}
_PLATFORM_SPLIT = {"47": 0.45, "49": 0.15, "64": 0.20, "79": 0.05, "59": 0.15}
CORE_DIVISIONS = ("26", "61", "62")

#: Rough 2023 GRDP, thousand billion đồng (illustrative magnitudes only).
_SCALE = {
    "01": 1340, "02": 30, "04": 25, "06": 16, "08": 45, "10": 70, "11": 25, "12": 25, "14": 70, "15": 40,
    "17": 55, "19": 150, "20": 45, "22": 290, "24": 170, "25": 90, "26": 150, "27": 235, "30": 160,
    "31": 365, "33": 140, "34": 120, "35": 80, "36": 100, "37": 80, "38": 300, "40": 200, "42": 100,
    "44": 55, "45": 50, "46": 80, "48": 130, "49": 120, "51": 130, "52": 120, "54": 60, "56": 110,
    "58": 50, "60": 100, "62": 35, "64": 130, "66": 130, "67": 40, "68": 120, "70": 90, "72": 110,
    "74": 460, "75": 460, "77": 380, "79": 1580, "80": 170, "82": 110, "83": 75, "84": 70, "86": 70,
    "87": 110, "89": 110, "91": 140, "92": 110, "93": 50, "94": 75, "95": 60, "96": 80,
}
#: Electronics (VSIC 26) and ICT services (61, 62, 58, 63) as % of GRDP, for the provinces that
#: stand out; the others get small values with a deterministic jitter.
_C26 = {"27": 35.0, "24": 26.5, "19": 21.0, "26": 20.0, "25": 10.0, "31": 13.5, "30": 8.7, "01": 2.6,
        "79": 2.0, "74": 4.0, "48": 1.5, "33": 7.0, "22": 2.5, "75": 5.0}
_ICT = {"01": 5.7, "79": 4.8, "48": 5.0, "31": 1.6, "27": 1.4, "92": 2.0, "46": 1.8, "22": 1.2}
_CITY_LOW_AGRI = {"01", "79", "48", "31", "92", "74", "27", "22"}
#: Section shares of the non-core value added (national stylised structure, %).
_SECTIONS = {"A": 13.0, "B": 3.5, "C": 22.0, "D": 4.0, "E": 0.6, "F": 7.0, "G": 12.0, "H": 6.0, "I": 3.0,
             "J": 0.6, "K": 5.5, "L": 4.5, "M": 1.5, "N": 0.8, "O": 2.5, "P": 3.5, "Q": 1.3, "R": 0.6,
             "S": 1.5, "T": 0.3, "U": 0.0}
#: Relative digitalisation by section (scaled each year so the national digitalised share matches).
_DIGITAL_PROFILE = {"A": 0.10, "B": 0.25, "C": 0.60, "D": 1.20, "E": 0.30, "F": 0.30, "G": 1.40, "H": 0.80,
                    "I": 0.60, "J": 2.00, "K": 2.50, "L": 0.30, "M": 0.80, "N": 0.60, "O": 0.50, "P": 0.50,
                    "Q": 0.40, "R": 0.50, "S": 0.30, "T": 0.0, "U": 0.0}
_GROWTH = {2019: 1.00, 2020: 1.040, 2021: 1.055, 2022: 1.130, 2023: 1.070, 2024: 1.095, 2025: 1.100, 2026: 1.095}
_SEASON = np.array([0.225, 0.245, 0.255, 0.275])
_TAX_RATE = 0.09  # net product taxes as a share of total value added


class DemoData(dict):
    """Named long frames ready to be written as submission files (name → frame)."""


def _jitter(code: str, what: str, lo: float, hi: float) -> float:
    """A deterministic number in [lo, hi] for a province (stable across runs and machines)."""
    h = int.from_bytes(hashlib.blake2b(f"{code}:{what}".encode(), digest_size=8).digest(), "big")
    return lo + (hi - lo) * (h / 2**64)


def _divisions() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in vsic.sectors():
        if s.level == "division":
            out.setdefault(vsic.section_of(s.code), []).append(s.code)
    return out


def _province_structure(code: str, divisions: dict[str, list[str]]) -> dict[str, float]:
    """Shares of GRDP by division for one province in the base year (sum = 1 / (1 + tax))."""
    c26 = _C26.get(code, _jitter(code, "c26", 0.05, 0.8)) / 100
    ict = _ICT.get(code, _jitter(code, "ict", 0.3, 1.0)) / 100
    va_total = 1 / (1 + _TAX_RATE)
    rest = va_total - c26 - ict
    weights = {}
    for sec, share in _SECTIONS.items():
        m = _jitter(code, sec, 0.6, 1.4)
        if sec == "A" and code in _CITY_LOW_AGRI:
            m = 0.12
        weights[sec] = share * m
    tot = sum(weights.values())
    out: dict[str, float] = {"26": c26, "61": ict * 0.45, "62": ict * 0.38, "58": ict * 0.05, "63": ict * 0.12}
    for sec, w in weights.items():
        divs = [d for d in divisions.get(sec, []) if d not in out]
        if not divs:
            continue
        dw = np.array([_jitter("VN", d, 0.3, 1.7) for d in divs])
        dw = dw / dw.sum()
        for d, x in zip(divs, dw):
            out[d] = rest * (w / tot) * x
    return out


def _core_share(va: pd.DataFrame) -> pd.Series:
    """Core VA per (territory, year) from division VA with the national allocation ratios."""
    core = va[va.sector.isin(CORE_DIVISIONS)].groupby(["territory", "year"]).value.sum()
    for cls, (div, ratio) in ALLOC.items():
        core = core.add(va[va.sector == div].groupby(["territory", "year"]).value.sum() * ratio, fill_value=0)
    return core


def generate() -> DemoData:
    """Build every demo frame. Deterministic: the same frames on every run and machine."""
    divisions = _divisions()
    old = [t for t in terr.territories() if t.basis == 63]
    # --- annual VA by division for the 63 old provinces, all years ------------------------
    rows = []
    for t in old:
        struct = _province_structure(t.code, divisions)
        base = _SCALE[t.code] * 1000.0
        level = base / (_GROWTH[2023] * _GROWTH[2022] * _GROWTH[2021] * _GROWTH[2020])
        g = _jitter(t.code, "growth", -0.015, 0.015)
        for y in YEARS:
            if y > 2019:
                level *= _GROWTH[y] + g
            drift = 1 + (y - 2019) * _jitter(t.code, "ictdrift", 0.005, 0.03)
            for d, sh in struct.items():
                boost = drift if d in ("61", "62", "63", "58") else 1.0
                rows.append((t.key, d, y, level * sh * boost))
    va = pd.DataFrame(rows, columns=["territory", "sector", "year", "value"])
    # --- calibration of the core: scale core divisions to the published core share -----------
    # (the digitalised part is calibrated by kinhteso's own estimator when the demo runs:
    # pipeline.coefficients.estimate_calibration, from the revenue profile generated below)
    for y in YEARS:
        target_total, target_dig = CALIBRATION[y]
        target_core = target_total - target_dig
        sel = va.year == y
        for _ in range(4):  # fixed point: rescale core, refill the rest, recompute
            sub = va[sel]
            total_va = sub.value.sum()
            grdp = total_va * (1 + _TAX_RATE)
            core = _core_share(sub).sum()
            factor = (target_core / 100 * grdp) / core
            is_core = sel & va.sector.isin(CORE_DIVISIONS)
            va.loc[is_core, "value"] *= factor
            # keep each province's total VA: shrink its other divisions by what core gained
            prov_tot = sub.groupby("territory").value.sum()
            new_tot = va[sel].groupby("territory").value.sum()
            ratio = (prov_tot - va[is_core].groupby("territory").value.sum()) / (
                new_tot - va[is_core].groupby("territory").value.sum())
            other = sel & ~va.sector.isin(CORE_DIVISIONS)
            va.loc[other, "value"] *= va.loc[other, "territory"].map(ratio).to_numpy()
    return _frames(va)


def _frames(va: pd.DataFrame) -> DemoData:
    mapping = dict(zip(terr.merger_map().old_key, terr.merger_map().new_key))
    data = DemoData()
    # --- quarterly split (sums exactly to the annual value) ----------------------------------
    q = va.loc[va.index.repeat(4)].copy()
    q["q"] = np.tile(np.arange(1, 5), len(va))
    season = _SEASON[q.q.to_numpy() - 1] * (1 + np.array([_jitter(t, str(n), -0.02, 0.02) for t, n in zip(q.territory, q.q)]))
    q["w"] = season
    q["w"] = q.w / q.groupby(["territory", "sector", "year"]).w.transform("sum")
    q["value"] = q.value * q.w
    q["period"] = q.year.astype(str) + "-Q" + q.q.astype(str)
    va["period"] = va.year.astype(str)
    # The annual accounts are compiled later from fuller sources than the quarterly ones: they
    # differ from the sum of the quarters by up to ±1.5% (a territory-and-industry group effect),
    # so benchmarking the quarters to them is not a no-op and an annual release revises them.
    # The core industries keep their calibrated level.
    core = va.sector.isin(CORE_DIVISIONS)
    gap = np.array([_jitter(t, f"annual:{y}:{int(d) // 10 if d.isdigit() else d}", -0.015, 0.015)
                    for t, y, d in zip(va.territory, va.year, va.sector)])
    va["value"] = np.where(core, va.value, va.value * (1 + gap))
    # --- which basis holds which period ------------------------------------------------------
    ann63 = va[va.year <= 2024]
    ann34 = _to34(va[va.year == 2025], mapping)
    q63 = q[(q.year < 2025) | ((q.year == 2025) & (q.q <= 2))]
    q34 = _to34(q[((q.year == 2025) & (q.q >= 3)) | ((q.year == 2026) & (q.q <= 3))], mapping)
    nat_a = _nation(va[va.year <= 2025])
    nat_q = _nation(q[(q.year <= 2025) | (q.q <= 3)])
    for name, f in (("grdp_va_annual_63", ann63), ("grdp_va_annual_34", ann34), ("grdp_va_annual_vn", nat_a),
                    ("grdp_va_quarterly_63", q63), ("grdp_va_quarterly_34", q34), ("grdp_va_quarterly_vn", nat_q)):
        data[name] = _long(f, "GRDP_VA", "VND_BN")
        tot = f.groupby(["territory", "period"], as_index=False).value.sum()
        tot["value"] *= 1 + _TAX_RATE
        tot["sector"] = "_T"
        data[name.replace("grdp_va", "grdp")] = _long(tot, "GRDP", "VND_BN")
    # --- national revenue by section: all e-invoice revenue and its online part -------------------
    data["revenue_by_section_vn"] = _revenue_profile(va)
    # --- allocation ratios (national, estimated) ----------------------------------------------------
    alloc = pd.DataFrame([("VN", cls, y, r) for cls, (_, r) in {**ALLOC, **ALLOC_OECD}.items() for y in YEARS if y <= 2025],
                         columns=["territory", "sector", "year", "value"])
    alloc["period"] = alloc.year.astype(str)
    data["alloc_ratio_vn"] = _long(alloc, "ALLOC_RATIO", "RATIO", status="E")
    # --- platform value added (MIC-style view, a kinhteso estimate), annual --------------------------------------------------
    data["platform_va_annual"] = _platform(va, mapping)
    # --- value added by ownership type (2024 on the 63 basis, 2025 on the 34) and deflators -------
    data["grdp_va_ownership_annual"] = _ownership(pd.concat([ann63[ann63.year == 2024], ann34,
                                                             nat_a[nat_a.year >= 2024]], ignore_index=True))
    data["va_deflator_vn"] = _deflators()
    # --- monthly high-frequency indicators ------------------------------------------------------
    data.update(_monthly(va, mapping))
    data.update(_annual_other(va, mapping))
    return data


def _revenue_profile(va: pd.DataFrame) -> pd.DataFrame:
    """National e-invoice revenue by section (≈ 2.5 × value added) and its online part, whose
    share follows the relative digitalisation profile: the input of the calibration estimator."""
    divisions = _divisions()
    section_of = {d: s for s, ds in divisions.items() for d in ds}
    sec = va[va.year <= 2025].assign(section=va.sector.map(section_of)).groupby(["section", "year"]).value.sum()
    rows = []
    for (s, y), v in sec.items():
        total = v * 2.5
        online = total * _DIGITAL_PROFILE[s] * 0.05 * (1 + 0.04 * (y - 2019))
        rows.append(("VN", s, str(y), "EINVOICE_REVENUE", total))
        rows.append(("VN", s, str(y), "ONLINE_REVENUE", online))
    f = pd.DataFrame(rows, columns=["territory", "sector", "period", "indicator", "value"])
    parts = [_long(g, ind, "VND_BN") for ind, g in f.groupby("indicator")]
    return pd.concat(parts, ignore_index=True)


def _platform(va: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    grdp = va[va.year <= 2025].groupby(["territory", "year"]).value.sum() * (1 + _TAX_RATE)
    rows = []
    for (t, y), g in grdp.items():
        code = t.split(":")[1]
        m = _jitter(code, "platform", 0.5, 1.4) * (2.0 if code in ("01", "79", "48") else 1.0)
        for div, part in _PLATFORM_SPLIT.items():
            rows.append((t, div, y, str(y), g * _PLATFORM_SHARE[y] / 100 * m * part))
    f = pd.DataFrame(rows, columns=["territory", "sector", "year", "period", "value"])
    parts = [f[f.year <= 2024], _to34(f[f.year == 2025], mapping), _nation(f)]
    return _long(pd.concat(parts, ignore_index=True), "PLATFORM_VA", "VND_BN")


#: Illustrative ownership structure of value added: (state share, FDI share) by section, with
#: VSIC 26 (electronics: mostly foreign-invested plants) and 61 (telecommunications: mostly
#: state-owned carriers) apart; FDI shares vary by province, non-state is the remainder.
_OWNERSHIP = {"A": (0.03, 0.01), "B": (0.60, 0.10), "C": (0.05, 0.45), "D": (0.70, 0.05), "E": (0.30, 0.05),
              "F": (0.05, 0.05), "G": (0.03, 0.07), "H": (0.20, 0.05), "I": (0.03, 0.05), "J": (0.25, 0.10),
              "K": (0.35, 0.05), "L": (0.05, 0.05), "M": (0.15, 0.10), "N": (0.05, 0.10), "O": (1.00, 0.0),
              "P": (0.60, 0.02), "Q": (0.50, 0.02), "R": (0.20, 0.05), "S": (0.05, 0.02), "T": (0.0, 0.0),
              "U": (0.0, 0.0), "26": (0.01, 0.90), "61": (0.75, 0.02), "62": (0.10, 0.20)}


def _ownership(frame: pd.DataFrame) -> pd.DataFrame:
    """GRDP_VA_STATE, GRDP_VA_FDI and GRDP_VA_NONSTATE (the remainder): they add up to GRDP_VA."""
    section_of = {d: s for s, ds in _divisions().items() for d in ds}
    st, fdi = zip(*(_OWNERSHIP.get(d, _OWNERSHIP[section_of[d]]) for d in frame.sector))
    code = frame.territory.str.split(":").str[-1]
    jit = np.array([_jitter(c, "fdi", 0.6, 1.4) for c in code])
    st = np.array(st)
    fdi = np.minimum(np.array(fdi) * jit, 0.97 - st).clip(0)
    parts = {"GRDP_VA_STATE": frame.value * st, "GRDP_VA_FDI": frame.value * fdi}
    parts["GRDP_VA_NONSTATE"] = frame.value - parts["GRDP_VA_STATE"] - parts["GRDP_VA_FDI"]
    return pd.concat([_long(frame.assign(value=v), ind, "VND_BN") for ind, v in parts.items()], ignore_index=True)


#: Illustrative value-added deflators (2010 = 100) in 2019 and their yearly change, by section;
#: VSIC 26 apart (electronics prices fall); ``_T`` is the GDP deflator.
_DEFLATOR = {"A": (150, 0.035), "B": (150, 0.035), "C": (132, 0.022), "D": (140, 0.030), "G": (140, 0.030),
             "J": (120, 0.010), "K": (140, 0.030), "26": (110, 0.0), "_T": (136, 0.027)}


def _deflators() -> pd.DataFrame:
    """National VA_DEFLATOR by section (and VSIC 26, and ``_T``), 2019–2025."""
    codes = [*_divisions(), "26", "_T"]
    rows = [("VN", c, str(y), round(_DEFLATOR.get(c, (140, 0.03))[0] * (1 + _DEFLATOR.get(c, (140, 0.03))[1]) ** (y - 2019), 4))
            for c in codes for y in YEARS if y <= 2025]
    return _long(pd.DataFrame(rows, columns=["territory", "sector", "period", "value"]), "VA_DEFLATOR", "INDEX")


def _to34(frame: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    f = frame.copy()
    f["territory"] = f.territory.map(mapping)
    keys = [c for c in ("territory", "sector", "year", "q", "period") if c in f.columns]
    return f.groupby(keys, as_index=False).value.sum()


def _nation(frame: pd.DataFrame) -> pd.DataFrame:
    """The nation: the sum of the provinces less a small, stable discrepancy (national accounts
    and the sum of provincial accounts never agree exactly)."""
    keys = [c for c in ("sector", "year", "q", "period") if c in frame.columns]
    f = frame.groupby(keys, as_index=False).value.sum()
    f["value"] *= 0.992
    f["territory"] = "VN"
    return f


def _long(frame: pd.DataFrame, indicator: str, unit: str, *, status: str = "A") -> pd.DataFrame:
    terr_key = frame.territory.astype(str)
    basis = terr_key.str.split(":").str[0].where(terr_key.str.contains(":"), "")
    code = terr_key.str.split(":").str[-1]
    return pd.DataFrame({
        "indicator": indicator, "territory": code.to_numpy(), "basis": basis.to_numpy(),
        "sector": frame.sector.astype(str).to_numpy(), "period": frame.period.astype(str).to_numpy(),
        "value": np.round(frame.value.to_numpy(dtype=float), 6), "unit": unit, "price_basis": "current",
        "status": status,
    })


def _months() -> list[str]:
    return [f"{y}-{m:02d}" for y in YEARS for m in range(1, 13) if f"{y}-{m:02d}" <= LAST_MONTH]


def _monthly(va: pd.DataFrame, mapping: dict[str, str]) -> DemoData:
    grdp = va.groupby(["territory", "year"]).value.sum() * (1 + _TAX_RATE)
    out = DemoData()
    rows = {k: [] for k in ("EINVOICE_REVENUE", "CASHLESS_PAYMENTS", "ECOMMERCE_RETAIL", "RETAIL_SALES")}
    teu = []
    for (t, y), g in grdp.items():
        code = t.split(":")[1]
        for m in range(1, 13):
            period = f"{y}-{m:02d}"
            if period > LAST_MONTH:
                continue
            season = 1 + 0.08 * np.sin((m - 3) / 12 * 2 * np.pi) + (0.12 if m == 12 else 0) - (0.10 if m == 2 else 0)
            monthly = g / 12 * season
            t_idx = (y - 2019) + (m - 1) / 12
            rows["EINVOICE_REVENUE"].append((t, period, monthly * 2.1 * (1 + 0.04 * t_idx)))
            rows["CASHLESS_PAYMENTS"].append((t, period, monthly * 0.9 * 1.22 ** t_idx))
            retail = monthly * 0.42 * _jitter(code, "retail", 0.8, 1.2)
            rows["RETAIL_SALES"].append((t, period, retail))
            ec_share = (0.035 + 0.011 * t_idx) * _jitter(code, "ecom", 0.6, 1.5)
            rows["ECOMMERCE_RETAIL"].append((t, period, retail * ec_share))
            if code in _TEU:  # seaport container throughput; 0 where the old province has no seaport
                teu.append((t, period, _TEU[code] * 1.055 ** t_idx * season))
    for ind, r in rows.items():
        f = pd.DataFrame(r, columns=["territory", "period", "value"])
        f["sector"] = "_T"
        out[f"{ind.lower()}_monthly"] = _split_basis(f, mapping, ind, "VND_BN")
    f = pd.DataFrame(teu, columns=["territory", "period", "value"])
    f["sector"] = "_T"
    f["value"] = f.value.round(0)
    out["port_teu_monthly"] = _split_basis(f, mapping, "PORT_TEU", "TEU", nation=False)
    out.update(_nowcast_monthly(va, mapping))
    return out


#: Monthly container throughput (TEU, 2019) of the old provinces that make up Hải Phòng and Ho Chi
#: Minh City on the 34 basis: Hải Dương (30) and Bình Dương (74) have no seaport (0), so that the
#: new provinces' series sum over every predecessor.
_TEU = {"31": 480_000, "30": 0, "79": 420_000, "77": 380_000, "74": 0}
#: The 34-basis provinces with a nowcast indicator set of their own (reference/data/nowcast_indicators.yaml).
_NOWCAST_PROVINCES = ("34:31", "34:79")


def _seeded(*parts: str) -> np.random.Generator:
    """A random generator seeded from names (stable across runs and machines)."""
    return np.random.default_rng(int.from_bytes(hashlib.blake2b(":".join(parts).encode(), digest_size=8).digest(), "big"))


def _nowcast_monthly(va: pd.DataFrame, mapping: dict[str, str]) -> DemoData:
    """Illustrative monthly indicators of the Hải Phòng and Ho Chi Minh City nowcast sets:
    ONLINE_REVENUE by VSIC section (no ``_T``: the nowcast sums the sections), IIP_YOY of VSIC
    26 on the 34 basis throughout (a growth rate does not add up: the back-cast is the statistics
    office's), EXPORTS of VSIC 26. Each follows the annual VSIC 26 value added or GRDP with
    seeded monthly noise; the 63-basis parts of 63 → 34 sum to the new provinces."""
    old = {o: n for o, n in mapping.items() if n in _NOWCAST_PROVINCES}
    a26 = va[va.sector == "26"].groupby(["territory", "year"]).value.sum()
    grdp = va.groupby(["territory", "year"]).value.sum() * (1 + _TAX_RATE)
    months = _months()
    weights = {s: _SECTIONS[s] * _DIGITAL_PROFILE[s] for s in _SECTIONS if _SECTIONS[s] * _DIGITAL_PROFILE[s] > 0}
    tot_w = sum(weights.values())
    online, exports, iip = [], [], []

    def season(m: int) -> float:
        return 1 + 0.08 * np.sin((m - 3) / 12 * 2 * np.pi) + (0.12 if m == 12 else 0) - (0.10 if m == 2 else 0)

    for t in sorted(old):
        code = t.split(":")[1]
        rng = _seeded("nowcast", t)
        for p in months:
            y, m = int(p[:4]), int(p[5:])
            t_idx = (y - 2019) + (m - 1) / 12
            base = grdp[(t, y)] / 12 * season(m)
            share = (0.05 + 0.008 * t_idx) * _jitter(code, "online", 0.7, 1.3) * (1 + rng.normal(0, 0.02))
            for sec, w in weights.items():
                online.append((t, sec, p, base * 2.1 * share * w / tot_w))
            exports.append((t, "26", p, a26[(t, y)] / 12 * season(m) * 3.0 * (1 + rng.normal(0, 0.03))))
    for new in _NOWCAST_PROVINCES:  # the electronics production index of the new province (34 basis)
        parts = [o for o, n in old.items() if n == new]
        rng = _seeded("iip26", new)
        level = {}
        for y in range(2018, YEARS[-1] + 1):
            v26 = sum(a26[(o, max(y, 2019))] for o in parts) / (1.08 if y == 2018 else 1.0)
            for m in range(1, 13):
                level[(y, m)] = v26 / 12 * season(m) * (1 + rng.normal(0, 0.02))
        for p in months:
            y, m = int(p[:4]), int(p[5:])
            iip.append((new, "26", p, round(100 * (level[(y, m)] / level[(y - 1, m)] - 1), 2)))
    out = DemoData()
    f = pd.DataFrame(online, columns=["territory", "sector", "period", "value"])
    out["online_revenue_monthly"] = _split_basis(f, mapping, "ONLINE_REVENUE", "VND_BN", nation=False)
    f = pd.DataFrame(exports, columns=["territory", "sector", "period", "value"])
    out["exports_26_monthly"] = _split_basis(f, mapping, "EXPORTS", "VND_BN", nation=False)
    out["iip_yoy_26_monthly"] = _long(pd.DataFrame(iip, columns=["territory", "sector", "period", "value"]),
                                      "IIP_YOY", "PCT")
    return out


def _split_basis(f: pd.DataFrame, mapping: dict[str, str], indicator: str, unit: str, *, nation: bool = True) -> pd.DataFrame:
    """63 basis until 2025-06, 34 basis (summed) from 2025-07; the nation throughout."""
    merged = f.period >= "2025-07"
    parts = [f[~merged], _to34(f[merged], mapping)]
    if nation:
        n = f.groupby(["sector", "period"], as_index=False).value.sum()
        n["territory"] = "VN"
        parts.append(n)
    return _long(pd.concat(parts, ignore_index=True), indicator, unit)


def _annual_other(va: pd.DataFrame, mapping: dict[str, str]) -> DemoData:
    out = DemoData()
    grdp = va.groupby(["territory", "year"]).value.sum() * (1 + _TAX_RATE)
    pop, firms, sme, econ = [], [], [], []
    for (t, y), g in grdp.items():
        if y > 2025:
            continue
        code = t.split(":")[1]
        # GRDP per person ≈ 105 million đồng (0.105 bn) in 2023, varying by province
        people = round(_SCALE[code] * 1000 / (0.105 * _jitter(code, "gdppc", 0.6, 1.7)) * 1.009 ** (y - 2023))
        pop.append((t, str(y), float(people)))
        core = va[(va.territory == t) & (va.year == y) & va.sector.isin(["61", "62", "63", "58"])].value.sum()
        firms.append((t, str(y), float(round(core / 9.0 + people / 4000))))
        base = 30 + 8 * (y - 2019) + 25 * min(core / g * 10, 1)
        sme.append((t, str(y), min(round(base * _jitter(code, "sme", 0.7, 1.2), 1), 95.0)))
        econ.append((t, str(y), min(round((40 + 9 * (y - 2019)) * _jitter(code, "ec", 0.8, 1.15), 1), 99.0)))

    def split(rows, indicator, unit, additive):
        f = pd.DataFrame(rows, columns=["territory", "period", "value"])
        f["sector"] = "_T"
        old = f[f.period < "2025"]
        new = f[f.period == "2025"].copy()
        if additive:
            new = _to34(new, mapping)
            nat = f.groupby(["sector", "period"], as_index=False).value.sum()
            nat["territory"] = "VN"
        else:  # an adoption rate: demo values for the new units are drawn, not averaged
            new["territory"] = new.territory.map(mapping)
            new = new.groupby(["territory", "sector", "period"], as_index=False).value.max()
            nat = f.groupby(["sector", "period"], as_index=False).value.median()
            nat["territory"] = "VN"
        return _long(pd.concat([old, new, nat], ignore_index=True), indicator, unit)

    out["population_annual"] = split(pop, "POPULATION", "PERSONS", True)
    firms_frame = split(firms, "DIGITAL_FIRMS", "COUNT", True)
    firms_frame["sector"] = "J"
    out["digital_firms_annual"] = firms_frame
    out["sme_platform_share_annual"] = split(sme, "SME_PLATFORM_SHARE", "PCT", False)
    out["econtract_share_annual"] = split(econ, "ECONTRACT_SHARE", "PCT", False)
    out["dti_main_index"] = _dti()
    out["employment_annual"] = _employment(va, pop, mapping)
    return out


#: Relative value added per worker by section (illustrative; VSIC 26 its own: assembly plants),
#: and the employed share of the population, for the demo's EMPLOYMENT by industry.
_VA_PER_WORKER = {"A": 0.2, "B": 3.0, "C": 1.0, "D": 5.0, "E": 1.0, "F": 0.8, "G": 0.8, "H": 1.0, "I": 0.6, "J": 3.0,
                  "K": 4.0, "L": 6.0, "M": 1.5, "N": 1.0, "O": 1.2, "P": 0.9, "Q": 1.0, "R": 1.0, "S": 0.5, "T": 0.3,
                  "U": 1.0, "26": 3.0}
_EMPLOYED_SHARE = 0.52
#: Divisions the demo reports employment for beside the sections (the core's divisions and
#: those holding core classes): the rest of each section is its remainder.
_EMPLOYMENT_DIVISIONS = ("26", "46", "58", "61", "62", "63")


def _employment(va: pd.DataFrame, pop: list, mapping: dict[str, str]) -> pd.DataFrame:
    """Illustrative EMPLOYMENT (persons) by section, by the divisions of the core and in total
    (``_T``): the employed share of the population spread over industries by value added over
    relative value added per worker; 63 basis to 2024, 34 in 2025, the nation as their sum."""
    section_of = {d: s for s, ds in _divisions().items() for d in ds}
    f = va[va.year <= 2025].copy()
    f["section"] = f.sector.map(section_of)
    f["w"] = f.value / f.sector.map(lambda d: _VA_PER_WORKER.get(d, _VA_PER_WORKER[section_of[d]]))
    people = {(t, int(p)): v for t, p, v in pop}
    total = f.groupby(["territory", "year"]).w.transform("sum")
    f["value"] = ([people[(t, y)] * _EMPLOYED_SHARE for t, y in zip(f.territory, f.year)] * f.w / total).round(0)
    parts = [f.groupby(["territory", "section", "year"], as_index=False).value.sum().rename(columns={"section": "sector"}),
             f[f.sector.isin(_EMPLOYMENT_DIVISIONS)][["territory", "sector", "year", "value"]],
             f.groupby(["territory", "year"], as_index=False).value.sum().assign(sector="_T")]
    e = pd.concat(parts, ignore_index=True)
    e["period"] = e.year.astype(str)
    nat = e.groupby(["sector", "year", "period"], as_index=False).value.sum().assign(territory="VN")
    e = pd.concat([e[e.year <= 2024], _to34(e[e.year == 2025], mapping), nat], ignore_index=True)
    return _long(e, "EMPLOYMENT", "PERSONS")


def _dti_main_indices(year: int) -> list[str]:
    """The scored main indices of the DTI framework in force for ``year`` (dti2022 before 2024,
    dti2024 from 2024: kinhteso.pipeline.index.default_framework)."""
    from kinhteso.pipeline.index import default_framework  # noqa: PLC0415
    from kinhteso.reference.frameworks import load_framework  # noqa: PLC0415

    fw = load_framework(default_framework(str(year)))
    w = fw.meta.set_index("iCode")["Weight"]
    return [c for c in fw.main_indices if float(w[c]) > 0]


def _dti() -> pd.DataFrame:
    """Illustrative DTI main-index scores (0–1): 2023 and 2024 for the 63, 2025 for the 34, each
    year with the main indices of the framework in force (2023: Decision 922; 2024 and 2025:
    Decision 405, ``dti2024``)."""
    rows = []
    codes = {y: _dti_main_indices(y) for y in (2023, 2024, 2025)}
    for t in terr.territories():
        if t.basis is None:
            continue
        years = (2023, 2024) if t.basis == 63 else (2025,)
        level = _jitter(t.code + str(t.basis), "dti", 0.45, 0.85)
        if t.code in ("01", "48", "79", "31", "22", "27"):
            level = max(level, 0.78)
        for y in years:
            for idx in codes[y]:
                v = level * _jitter(t.code + idx, str(y), 0.8, 1.15) + 0.02 * (y - 2023)
                rows.append((t.key, idx, str(y), round(min(max(v, 0.05), 1.0), 4)))
    f = pd.DataFrame(rows, columns=["territory", "sector", "period", "value"])
    return _long(f, "DTI_MAIN_INDEX", "INDEX01")
