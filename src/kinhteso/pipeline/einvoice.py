"""E-invoice aggregates into the store, and the province-specific estimates made from them
(issue 17, item 3; ``docs/microdata.md``, "Province-specific estimates").

:func:`store_aggregates` is what ``kinhteso microdata aggregate --workspace W`` calls:

1. the cells (territory × VSIC class × month × channel × buyer type, un-suppressed) are stored as
   **one submission** of the source ``einvoice:<source>``: ``EINVOICE_REVENUE`` (all channels) and
   ``ONLINE_REVENUE`` (online) in VND_BN, by province, month and every store key at or above the
   class (the class where ``vsic2018.csv`` lists it, its group where listed, its division, its
   section: each key holds its own total, like ``GRDP_VA``), through the ordinary ingestion
   (validated whole, a new vintage; the rows already stored with the same value are left out, so
   the same aggregates twice add nothing and a new month adds a vintage of that month);
2. from the sellers (one row per territory × class × year × seller) the estimates are computed
   (:mod:`kinhteso.methods.einvoice`) and stored as **result runs** of kind ``coef``, method
   ``einvoice-share``, one per province and year: the online share of each section and each stored
   class (``EINVOICE_ONLINE_SHARE``, ``units`` = sellers), the province's ``DIGITAL_COEF`` of each
   section with at least ``min_firms`` sellers (the national coefficient × its share / the pooled
   share), and ``ALLOC_RATIO`` of each stored code within its parent (the accounts' parent: a class or
   group within its division, a division within its section) where the parent has at least
   ``min_firms`` sellers; the parameters hold each section's share, interval and factor, the
   provenance the bootstrap replicates the accounts carry into an interval
   (:func:`kinhteso.pipeline.accounts.measure_many`).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd

from kinhteso import __version__
from kinhteso.errors import KinhtesoError, UsageError
from kinhteso.methods import accounts as A
from kinhteso.methods import einvoice as M
from kinhteso.methods.logistics_coef import scaled_coefficients
from kinhteso.store import RunRecord
from kinhteso.workspace import Workspace

__all__ = ["store_aggregates", "submission_rows", "estimate", "METHOD", "SOURCE_PREFIX", "SHARE_INDICATOR",
           "CELL_COLUMNS", "SELLER_COLUMNS", "store_keys", "is_core"]

#: The stored runs' method, the submission's source prefix and the indicator of the stored shares.
METHOD = "einvoice-share"
SOURCE_PREFIX = "einvoice:"
SHARE_INDICATOR = "EINVOICE_ONLINE_SHARE"
CELL_COLUMNS = ("territory", "vsic", "period", "channel", "buyer_type", "value_vnd", "invoices", "sellers", "top1_vnd")
SELLER_COLUMNS = ("territory", "vsic", "year", "seller", "total_vnd", "online_vnd", "invoices")
_SOURCE_KINDS = ("tax",)


def _bad(vi: str, en: str, **ctx) -> KinhtesoError:
    return KinhtesoError("EINVOICE_BAD_AGGREGATES", f"Tổng hợp hóa đơn điện tử không hợp lệ: {vi}",
                         f"Invalid e-invoice aggregates: {en}", **ctx)


def _tree() -> A.Hierarchy:
    from kinhteso.pipeline.accounts import hierarchy  # noqa: PLC0415

    return hierarchy()


def store_keys(vsic_class: str, h: A.Hierarchy | None = None) -> list[str]:
    """The store's sector keys a VSIC 2018 class counts in, finest first: the class and its group
    where ``vsic2018.csv`` lists them, its division, its section.

    >>> store_keys("4651"), store_keys("4659"), store_keys("1010")
    (['4651', '465', '46', 'G'], ['465', '46', 'G'], ['10', 'C'])
    """
    h = h or _tree()
    div = vsic_class[:2]
    keys = [c for c in (vsic_class, vsic_class[:3]) if c in h.level] + [div]
    return keys + [h.section(div)]


def is_core(vsic_class: str, core: tuple[str, ...] = A.GSO_CORE) -> bool:
    """Whether a class is in the official (GSO) core list, by itself or its group or division."""
    return any(vsic_class.startswith(c) for c in core)


def _check(cells: pd.DataFrame, sellers: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two frames checked whole (``EINVOICE_BAD_AGGREGATES`` listing what is wrong), typed."""
    from kinhteso.reference import territories as terr  # noqa: PLC0415

    for name, frame, cols in (("cells", cells, CELL_COLUMNS[:6]), ("sellers", sellers, SELLER_COLUMNS[:6])):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise _bad(f"bảng {name} thiếu cột {', '.join(missing)}", f"the {name} frame lacks {', '.join(missing)}",
                       columns=missing)
    if not len(cells) or not len(sellers):
        raise _bad("không có ô hay người bán nào", "no cell or seller")
    c = cells.assign(territory=cells["territory"].astype(str), vsic=cells["vsic"].astype(str),
                     period=cells["period"].astype(str), channel=cells["channel"].astype(str),
                     value_vnd=pd.to_numeric(cells["value_vnd"], errors="coerce"))
    s = sellers.assign(territory=sellers["territory"].astype(str), vsic=sellers["vsic"].astype(str),
                       year=sellers["year"].astype(str), seller=sellers["seller"].astype(str),
                       total_vnd=pd.to_numeric(sellers["total_vnd"], errors="coerce"),
                       online_vnd=pd.to_numeric(sellers["online_vnd"], errors="coerce"))
    keys34 = {t.key for t in terr.territories() if t.basis == 34}
    h = _tree()
    divisions = {k for k, lvl in h.level.items() if lvl == "division" and ":" not in k}
    problems = []
    for name, f in (("cells", c), ("sellers", s)):
        bad_t = sorted(set(f["territory"]) - keys34)
        bad_v = sorted(v for v in set(f["vsic"]) if not (len(v) == 4 and v.isdigit() and v[:2] in divisions))
        if bad_t:
            problems.append((f"{name}: địa bàn không phải khóa 34 tỉnh: {bad_t[:5]}",
                             f"{name}: territories not 34-basis keys: {bad_t[:5]}"))
        if bad_v:
            problems.append((f"{name}: không phải ngành cấp 4 VSIC 2018: {bad_v[:5]}",
                             f"{name}: not VSIC 2018 classes: {bad_v[:5]}"))
    if not c["period"].str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").all():
        problems.append(("cells: kỳ phải là tháng YYYY-MM", "cells: the period must be a month YYYY-MM"))
    if not c["channel"].isin(["online", "offline"]).all():
        problems.append(("cells: kênh phải là online hoặc offline", "cells: the channel must be online or offline"))
    if not s["year"].str.fullmatch(r"\d{4}").all():
        problems.append(("sellers: năm phải là YYYY", "sellers: the year must be YYYY"))
    for name, f, cols in (("cells", c, ["value_vnd"]), ("sellers", s, ["total_vnd", "online_vnd"])):
        for col in cols:
            if not (f[col].notna() & (f[col] >= 0)).all():
                problems.append((f"{name}: {col} thiếu hoặc âm", f"{name}: {col} missing or negative"))
    if (s["online_vnd"] > s["total_vnd"]).any():
        problems.append(("sellers: doanh thu trực tuyến lớn hơn tổng", "sellers: online revenue above the total"))
    if s.duplicated(["territory", "vsic", "year", "seller"]).any():
        problems.append(("sellers: một người bán lặp lại trong cùng địa bàn, ngành, năm",
                         "sellers: a seller repeats within a territory, class and year"))
    if not problems:  # the sellers are the cells' contributors: the same sums by territory, class and year
        a = c.assign(year=c["period"].str[:4]).groupby(["territory", "vsic", "year"])["value_vnd"].sum()
        b = s.groupby(["territory", "vsic", "year"])["total_vnd"].sum()
        both = pd.concat({"cells": a, "sellers": b}, axis=1).fillna(0.0)
        off = both[(both["cells"] - both["sellers"]).abs() > 0.5]
        if len(off):
            k = off.index[0]
            problems.append((f"tổng các ô khác tổng người bán ở {len(off)} nhóm, ví dụ {k}: "
                             f"{off.iloc[0]['cells']:.0f} ≠ {off.iloc[0]['sellers']:.0f} đồng",
                             f"the cells and the sellers differ in {len(off)} groups, e.g. {k}: "
                             f"{off.iloc[0]['cells']:.0f} ≠ {off.iloc[0]['sellers']:.0f} đồng"))
    if problems:
        raise _bad("; ".join(p[0] for p in problems), "; ".join(p[1] for p in problems),
                   problems=[p[1] for p in problems])
    return c, s


def submission_rows(cells: pd.DataFrame) -> pd.DataFrame:
    """The long rows of the submission: ``EINVOICE_REVENUE`` and ``ONLINE_REVENUE`` (VND_BN, whole đồng
    summed before dividing by 10⁹) by territory, every store key of each class (:func:`store_keys`) and
    month (columns of the long layout: indicator, territory, basis, sector, period, value, unit)."""
    h = _tree()
    keys = {v: store_keys(v, h) for v in cells["vsic"].unique()}
    c = cells.assign(online=np.where(cells["channel"] == "online", cells["value_vnd"], 0))
    g = c.groupby(["territory", "vsic", "period"], as_index=False)[["value_vnd", "online"]].sum()
    g = g.assign(sector=g["vsic"].map(keys)).explode("sector")
    s = g.groupby(["territory", "sector", "period"], as_index=False)[["value_vnd", "online"]].sum()
    parts = [pd.DataFrame({"indicator": ind, "territory": s["territory"], "basis": "34", "sector": s["sector"],
                           "period": s["period"], "value": s[col].astype("float64") / 1e9, "unit": "VND_BN"})
             for ind, col in (("EINVOICE_REVENUE", "value_vnd"), ("ONLINE_REVENUE", "online"))]
    return pd.concat(parts, ignore_index=True).sort_values(["indicator", "territory", "sector", "period"],
                                                           ignore_index=True)


def _new_rows(ws: Workspace, rows: pd.DataFrame, source: str) -> pd.DataFrame:
    """The rows not already standing with the same value in the source's latest vintages."""
    have = ws.store.observations(indicator=sorted(set(rows["indicator"])), territory=sorted(set(rows["territory"])),
                                 period=sorted(set(rows["period"])), source=source)
    if have.empty:
        return rows
    m = rows.merge(have[["indicator", "territory", "sector", "period", "value"]].rename(columns={"value": "old"}),
                   on=["indicator", "territory", "sector", "period"], how="left")
    same = m["old"].notna() & ((m["value"] - m["old"]).abs() <= 1e-9 * np.maximum(1.0, m["value"].abs()))
    return rows[~same.to_numpy()]


def _store_submission(ws: Workspace, rows: pd.DataFrame, *, source: str, illustrative: bool, engine: str) -> tuple[int | None, int]:
    """Store ``rows`` as one vintage through the ordinary ingestion (written as a long CSV in the
    workspace's scratch folder). Returns (vintage id, rows stored)."""
    from kinhteso.ingest.load import ingest_file  # noqa: PLC0415

    path = ws.tmp / f"einvoice-{hashlib.sha256(source.encode()).hexdigest()[:8]}-{engine}.csv"
    ws.tmp.mkdir(parents=True, exist_ok=True)
    out = rows.assign(value=[repr(float(v)) for v in rows["value"]])
    out.to_csv(path, index=False)
    try:
        r = ingest_file(ws.store, path, source=source, indicators=ws.indicators(), workdir=ws.tmp,
                        illustrative=illustrative)
    finally:
        path.unlink(missing_ok=True)
    return int(r.vintage_id), int(r.n_rows)


def check_source(ws: Workspace, source: str, illustrative: bool) -> None:
    """Real aggregates come from a registered source of kind ``tax`` (``reference/data/sources.yaml`` or
    a member; ``UNKNOWN_SOURCE``, ``EINVOICE_SOURCE_KIND``); illustrative ones may name any short label
    (letters, digits, ``.``, ``_``, ``-``), stored as the vintage's source ``einvoice:<label>``."""
    import re  # noqa: PLC0415

    from kinhteso.reference.datasets import registered_source, sources  # noqa: PLC0415

    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", str(source)):
        raise UsageError("EINVOICE_SOURCE_KIND", f"Tên nguồn '{source}' không hợp lệ (chữ, số, . _ -; tối đa 64 ký tự).",
                         f"The source name '{source}' is not valid (letters, digits, . _ -; 64 at most).", source=source)
    if illustrative:
        return
    members = {r.code: r.kind for r in ws.store.members().itertuples(index=False) if pd.isna(r.revoked_at)}
    registered_source(source, members)
    kind = members.get(source) or sources()[source].kind
    if kind not in _SOURCE_KINDS[:1]:
        raise UsageError("EINVOICE_SOURCE_KIND",
                         f"Nguồn '{source}' (loại {kind}) không gửi hóa đơn điện tử: cần một cơ quan thuế (loại tax).",
                         f"The source '{source}' (a {kind}) does not send e-invoices: a tax authority (kind tax) is "
                         "needed.", source=source)


def store_aggregates(ws: Workspace, *, cells: pd.DataFrame, sellers: pd.DataFrame, source: str, illustrative: bool,
                     engine: str, min_firms: int = M.MIN_FIRMS, replicates: int = M.REPLICATES, seed: int = 0,
                     level: float = M.LEVEL) -> dict:
    """Store the aggregates as one submission of ``einvoice:<source>`` and the province-specific
    estimates as result runs (see the module). ``source``: a registered source of kind ``tax`` (any
    short label for illustrative data). Everything is checked before anything is stored.
    Returns ``vintage_id`` (None when nothing new), ``rows``, ``run_ids``, ``estimated`` (territory,
    year, sections, ratios), ``fallbacks`` (territory, year, section, sellers) and
    ``message_vi``/``message_en``."""
    check_source(ws, source, illustrative)
    if not (int(min_firms) >= 1 and int(replicates) >= 10 and 0 < float(level) < 1):
        raise UsageError("EINVOICE_BAD_SETTINGS",
                         f"Cần min_firms ≥ 1, số lần lặp bootstrap ≥ 10 và mức 0–1: {min_firms}, {replicates}, {level}.",
                         f"min_firms ≥ 1, bootstrap replicates ≥ 10 and a level in 0–1 are needed: {min_firms}, "
                         f"{replicates}, {level}.")
    c, s = _check(cells, sellers)
    full_source = SOURCE_PREFIX + source
    rows = submission_rows(c)
    new = _new_rows(ws, rows, full_source)
    vintage_id, stored = _store_submission(ws, new, source=full_source, illustrative=illustrative,
                                           engine=engine) if len(new) else (None, 0)
    out = estimate(ws, s, source=full_source, months=sorted(set(c["period"])), illustrative=illustrative,
                   min_firms=int(min_firms), replicates=int(replicates), seed=int(seed), level=float(level))
    runs, est, fb = out["run_ids"], out["estimated"], out["fallbacks"]
    sec_n = sum(len(e["sections"]) for e in est)
    vi = (f"Hóa đơn điện tử ({full_source}): " + (f"lưu {stored} quan sát (lần nộp {vintage_id})" if vintage_id
                                                  else "không có gì mới để lưu") +
          f"; {len(runs)} lần chạy ước tính, {sec_n} hệ số tỉnh × ngành; {len(fb)} ô dưới {min_firms} người bán "
          "dùng hệ số cả nước.")
    en = (f"E-invoices ({full_source}): " + (f"stored {stored} observations (vintage {vintage_id})" if vintage_id
                                             else "nothing new to store") +
          f"; {len(runs)} estimate runs, {sec_n} province × section coefficients; {len(fb)} cells under {min_firms} "
          "sellers keep the national coefficient.")
    return {"vintage_id": vintage_id, "rows": stored, "source": full_source, **out, "message_vi": vi, "message_en": en}


def _standing_vintages(ws: Workspace, source: str, territories: list[str], year: str) -> list[int]:
    obs = ws.store.observations(indicator=["EINVOICE_REVENUE", "ONLINE_REVENUE"], territory=territories,
                                source=source)
    return sorted({int(v) for v, p in zip(obs["vintage_id"], obs["period"]) if str(p)[:4] == year})


def _digest(frame: pd.DataFrame) -> str:
    f = frame.sort_values(["territory", "vsic", "seller"])[["territory", "vsic", "seller", "total_vnd", "online_vnd"]]
    return hashlib.sha256(f.to_csv(index=False).encode()).hexdigest()[:24]


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else round(float(x), 10)


def _reps(a: np.ndarray) -> list:
    return [None if not np.isfinite(x) else float(f"{x:.7g}") for x in np.asarray(a, dtype=float)]


def estimate(ws: Workspace, sellers: pd.DataFrame, *, source: str, months: list[str], illustrative: bool,
             min_firms: int = M.MIN_FIRMS, replicates: int = M.REPLICATES, seed: int = 0, level: float = M.LEVEL,
             write: bool = True) -> dict:
    """The province-specific estimates of every year of ``sellers`` (checked), stored as one run per
    province and year (see the module) unless not ``write``: ``run_ids``, ``estimated``, ``fallbacks``."""
    from kinhteso.pipeline.coefficients import _national_coefficients, in_section  # noqa: PLC0415

    h = _tree()
    keys = {v: store_keys(v, h) for v in sellers["vsic"].unique()}
    sec = {v: k[-1] for v, k in keys.items()}
    run_ids, estimated, fallbacks, batch = [], [], [], []
    for year, ys in sellers.groupby("year", sort=True):
        year = str(year)
        ys = ys.assign(section=ys["vsic"].map(sec))
        nat_all, nat_period, nat_ids, nat_ill = _national_coefficients(ws, year)
        nat18 = nat_all[[":" not in str(c) for c in nat_all.index]]
        other = ys[~ys["vsic"].map(is_core)]
        sh = M.shares(other, ["territory", "section"], replicates=replicates, seed=seed, level=level)
        factors = M.section_factors(sh, min_firms=min_firms, level=level)
        cls = M.shares(ys, ["territory", "vsic"], replicates=replicates, seed=seed, level=level).table
        children = {k: p for ks in keys.values() for k in ks if (p := h.ratio_parent(k)) is not None}
        ratios = M.allocation_ratios(ys, keys, children, min_firms=min_firms, replicates=replicates, seed=seed,
                                     level=level)
        for terr, fac in factors.groupby("territory", sort=True):
            coefs, sections, reps_f, fb_here = {}, {}, {}, {}
            for r in fac.itertuples(index=False):
                nat = nat18[[in_section(str(c), (r.section,), h) for c in nat18.index]]
                info = {"sellers": r.sellers, "share": _num(r.share), "lower": _num(r.lower), "upper": _num(r.upper),
                        "pooled": _num(r.pooled)}
                if not r.enough or nat.empty:
                    why = "sellers" if not r.enough else "no_national_coefficient"
                    fb_here[r.section] = {**info, "reason": why}
                    fallbacks.append({"territory": terr, "year": year, "section": r.section, "sellers": int(r.sellers),
                                      "reason": why})
                    continue
                scaled, capped = scaled_coefficients(nat, r.factor)
                coefs.update({str(c): float(v) for c, v in scaled.items()})
                sections[r.section] = {**info, "factor": _num(r.factor), "factor_lower": _num(r.factor_lower),
                                       "factor_upper": _num(r.factor_upper), "capped": capped,
                                       "national": {str(c): float(v) for c, v in nat.items()}}
                reps_f[r.section] = _reps(r.replicates)
            rt = ratios[(ratios["territory"] == terr) & ratios["enough"]]
            ct = cls[cls["territory"] == terr]
            vint = _standing_vintages(ws, source, [terr], year)
            rows = [{"indicator": "DIGITAL_COEF", "sector": c, "value": v, "unit": "RATIO",
                     "units": fac.loc[fac["section"] == h.section(c), "sellers"].iloc[0]} for c, v in coefs.items()]
            rows += [{"indicator": "ALLOC_RATIO", "sector": r.child, "value": r.ratio, "unit": "RATIO",
                      "units": r.sellers} for r in rt.itertuples(index=False)]
            rows += [{"indicator": SHARE_INDICATOR, "sector": r.section, "value": r.share, "unit": "RATIO",
                      "units": r.sellers} for r in fac.itertuples(index=False) if math.isfinite(r.share)]
            rows += [{"indicator": SHARE_INDICATOR, "sector": r.vsic, "value": r.share, "unit": "RATIO",
                      "units": r.sellers} for r in ct.itertuples(index=False) if r.vsic in h.level and
                     math.isfinite(r.share)]
            frame = pd.DataFrame(rows).assign(territory=terr, period=year, view="", price_basis="current", status="E",
                                              basis="estimated")
            params = {"territory": terr, "period": year, "source": source, "min_firms": min_firms,
                      "replicates": replicates, "seed": seed, "level": level,
                      "months": [m for m in months if m.startswith(year)], "sellers_sha256": _digest(ys), "pooled_over": sorted(set(ys["territory"])),
                      "national_period": nat_period, "core_excluded": list(A.GSO_CORE), "sections": sections,
                      "fallbacks": fb_here,
                      "ratios": {r.child: {"parent": r.parent, "ratio": _num(r.ratio), "lower": _num(r.lower),
                                           "upper": _num(r.upper), "sellers": int(r.sellers),
                                           "child_sellers": int(r.child_sellers)} for r in rt.itertuples(index=False)}}
            prov = {"replicates": {"factor": reps_f, "ratio": {r.child: _reps(r.replicates)
                                                                 for r in rt.itertuples(index=False)}},
                    "classes": [{"vsic": r.vsic, "sellers": int(r.sellers), "share": _num(r.share),
                                 "lower": _num(r.lower), "upper": _num(r.upper)} for r in ct.itertuples(index=False)]}
            run = RunRecord(kind="coef", method=METHOD, parameters=params,
                            inputs={"vintages": sorted({*vint, *(i for i in nat_ids if isinstance(i, int))}),
                                    "runs": sorted(str(i) for i in nat_ids if isinstance(i, str))},
                            code_version=__version__, illustrative=illustrative or nat_ill, provenance=prov)
            batch.append((run, frame))
            estimated.append({"territory": terr, "year": year, "sections": sorted(sections),
                              "ratios": sorted(rt["child"]), "run_id": run.run_id})
    if write and batch:
        for rid, _ in ws.store.add_results_many(batch):
            run_ids.append(rid)
    return {"run_ids": run_ids, "estimated": estimated, "fallbacks": fallbacks}
