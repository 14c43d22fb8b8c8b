"""VSIC 2018-coded submissions read in VSIC 2025, for comparison: the store's rows in, the
converted rows out (:func:`kinhteso.methods.classification.convert_2018_to_2025`), with the
correspondence of the workspace (its own ``vsic2018_2025.csv`` when there, else the shipped one).
Nothing is stored: a conversion is a reading."""

from __future__ import annotations

import pandas as pd

from kinhteso.methods.classification import convert_2018_to_2025
from kinhteso.reference import vsic
from kinhteso.workspace import Workspace

__all__ = ["to_vsic2025", "DERIVED"]

#: What a converted row's ``derived_from`` says.
DERIVED = "VSIC 2018 → 2025 (kinhteso)"
_GROUP = ["indicator", "territory", "period", "price_basis", "unit"]


def to_vsic2025(ws: Workspace, obs: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """``obs`` (store rows) with every VSIC 2018-coded series of an additive VSIC indicator
    converted to VSIC 2025, group by group (indicator, territory, period, price basis, unit; its
    ``_T`` kept); a group that has VSIC 2025 rows too keeps those only; the VSIC 2018 rows of
    non-additive indicators (shares, coefficients) cannot be converted and are left out. Returns
    (rows, notes (vi, en))."""
    notes: list[tuple[str, str]] = []
    if obs.empty:
        return obs, notes
    indicators = ws.indicators()
    kind = obs["indicator"].map(lambda c: indicators[c].sector_kind if c in indicators else "vsic")
    additive = obs["indicator"].map(lambda c: bool(indicators[c].additive) if c in indicators else False)
    version = obs["sector"].map(vsic.version_of)
    coded18 = (kind == "vsic") & (version == 2018)
    keep = obs[~coded18 & ~((kind == "vsic") & version.isna() & additive)]  # _T of additive: with its group
    todo = obs[(kind == "vsic") & additive & (version != 2025)]
    dropped = sorted(set(obs.loc[coded18 & ~additive, "indicator"]))
    if dropped:
        notes.append((f"Không chuyển được sang VSIC 2025 các chỉ tiêu không cộng được (tỷ lệ, hệ số) mã VSIC 2018: "
                      f"{', '.join(dropped)}; các dòng đó bị bỏ qua.",
                      f"Non-additive indicators (shares, coefficients) coded in VSIC 2018 cannot be converted to "
                      f"VSIC 2025: {', '.join(dropped)}; their rows are left out."))
    if todo.empty:
        return keep.reset_index(drop=True), notes
    has25 = obs[(kind == "vsic") & (version == 2025)].groupby(_GROUP, dropna=False).size()
    corr = vsic.correspondence(ws.root / vsic.CORRESPONDENCE_FILE)
    tree18 = {s.code: s.parent for s in vsic.sectors(2018)}
    tree25 = {s.code: s.parent for s in vsic.sectors(2025)}
    out, mixed, splits = [], 0, set()
    for gkey, g in todo.groupby(_GROUP, dropna=False, sort=False):
        if gkey in has25.index:
            mixed += 1
            out.append(g[g.sector == vsic.TOTAL])
            continue
        if (g.sector != vsic.TOTAL).sum() == 0:
            out.append(g)
            continue
        label = f"{gkey[0]} {gkey[1]} {gkey[2]}"
        conv = convert_2018_to_2025(pd.Series(g["value"].to_numpy(float), index=g["sector"].to_numpy()),
                                    corr, tree18, tree25, label=label)
        for w in conv.warnings:
            splits.update(w.get("splits", ()))
        latest = g.sort_values([c for c in ("received_at", "vintage_id") if c in g]).iloc[-1]
        rows = pd.DataFrame([latest.to_dict()] * len(conv.values))
        rows["sector"] = [vsic.key(c, 2025) for c in conv.values.index]
        rows["value"] = conv.values.to_numpy()
        rows["source"] = ", ".join(sorted(set(g["source"].astype(str)))) if "source" in g else pd.NA
        rows["derived_from"] = DERIVED
        out.append(rows)
    notes.append(("Số liệu mã VSIC 2018 của các chỉ tiêu cộng được đã được chuyển sang VSIC 2025 khi đọc (bảng "
                  "chuyển đổi ISIC Rev.4 → Rev.5 của kinhteso; tổng không đổi); cột derived_from ghi điều đó.",
                  "VSIC 2018-coded values of additive indicators were converted to VSIC 2025 on read (kinhteso's "
                  "ISIC Rev.4 → Rev.5 correspondence; totals preserved); derived_from says so."))
    if mixed:
        notes.append((f"{mixed} nhóm có cả mã VSIC 2018 và VSIC 2025: chỉ giữ mã VSIC 2025.",
                      f"{mixed} groups have both VSIC 2018 and VSIC 2025 codes: only the VSIC 2025 ones are kept."))
    if splits:
        shown = sorted(splits)
        notes.append((f"Ngành tách không có trọng số, gán hết cho ngành chính: {'; '.join(shown)}.",
                      f"Split items without weights, all given to the main counterpart: {'; '.join(shown)}."))
    frame = pd.concat([keep, *out], ignore_index=True)
    return frame, notes
