"""Breakdowns of the digital-economy accounts: by type of ownership and by socio-economic region.

Anchor: the indicator sheet of "Tỷ trọng giá trị tăng thêm của kinh tế số trong GDP/GRDP"
(Nghị định 94/2022/NĐ-CP; applied to provinces by Quyết định 05/2023/QĐ-TTg) asks for the
breakdowns "ngành kinh tế; loại hình kinh tế; tỉnh/thành phố; vùng kinh tế - xã hội". The
statistics office's ownership types (loại hình kinh tế) in GDP/GRDP are: kinh tế Nhà nước (state),
kinh tế ngoài Nhà nước (non-state), khu vực có vốn đầu tư trực tiếp nước ngoài (FDI); GRDP also has
product taxes less subsidies, which belong to no ownership type.

**Ownership.** Each type's digital-economy value added is the same account (the same view, core
list, coefficients and allocation ratios) run on that type's value added by industry: core
industries' VA of that type + the digitalised part of its other industries. The accounts are
linear in value added, so where the types' value added adds up to the total in every industry
the types' DE value added adds up to the total's. Shares: of the territory's GRDP
(``de_va_o / GRDP × 100``) and of its digital economy (``de_va_o / DE_VA × 100``).

**Regions.** A region's value added and GRDP are the sums of its provinces'; its share is
recomputed from the sums (``Σ DE_VA / Σ GRDP × 100``), never averaged.

Pure functions: results in, results out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import pandas as pd

from kinhteso.errors import MethodError
from kinhteso.methods import accounts as A

__all__ = ["OWNERSHIP_TYPES", "OWNERSHIP_TOLERANCE", "ownership", "sum_region"]

#: Ownership type → (Vietnamese, English) label, in the statistics office's order.
OWNERSHIP_TYPES: dict[str, tuple[str, str]] = {
    "state": ("kinh tế Nhà nước", "state"),
    "nonstate": ("kinh tế ngoài Nhà nước", "non-state"),
    "fdi": ("khu vực có vốn đầu tư trực tiếp nước ngoài (FDI)", "foreign-invested (FDI)"),
}
#: Relative gap between the types' value added and the total, by section, within which they are
#: taken to add up (rounding in published tables); above the total by more → refused.
OWNERSHIP_TOLERANCE = 0.005


def _by_section(va: pd.Series, h: A.Hierarchy, label: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for c, v in A._pieces({str(k): float(x) for k, x in va.items()}, h, label).items():
        s = h.section(c)
        out[s] = out.get(s, 0.0) + v
    return out


def ownership(inp: A.AccountInputs, parts: Mapping[str, pd.Series], h: A.Hierarchy, total: A.AccountResult, *,
              view: str = "gso", core: Sequence[str] | None = None,
              tolerance: float = OWNERSHIP_TOLERANCE) -> tuple[list[dict], list[dict]]:
    """The digital-economy accounts of each ownership type of one territory and period.

    **Parameters:** ``inp`` (the territory's inputs: coefficients and ratios are shared),
    ``parts`` (ownership type → its value added by industry; a type that is absent is not
    guessed), ``total`` (the territory's account, for the denominators), ``view`` and ``core``
    as in :func:`kinhteso.methods.accounts.measure`.

    **Returns:** (rows, warnings). A row: ``ownership, va, de_va, components, share_of_grdp,
    share_of_de``; when the types leave part of the value added unassigned, an ``unassigned``
    row (the total less the types). Warnings: ``NO_OWNERSHIP_SPLIT`` (no type reported),
    ``OWNERSHIP_PARTIAL`` (some types missing), ``OWNERSHIP_BELOW_TOTAL`` (the types add up to
    less than the total in some sections). Raises ``OWNERSHIP_ABOVE_TOTAL`` where the types add
    up to more than the total value added of a section (beyond ``tolerance``), and
    ``OWNERSHIP_MIC_VIEW`` for the MIC-style view (platform value added has no ownership split).

    >>> h = A.Hierarchy({"J": "_T", "62": "J", "C": "_T", "10": "C"},
    ...                 {"J": "section", "62": "division", "C": "section", "10": "division"})
    >>> inp = A.AccountInputs(va=pd.Series({"62": 10.0, "10": 90.0}), grdp=110.0, coef_nat=pd.Series({"C": 0.1}))
    >>> tot = A.measure(inp, h)
    >>> rows, w = ownership(inp, {"state": pd.Series({"62": 4.0, "10": 30.0}),
    ...                           "nonstate": pd.Series({"62": 6.0, "10": 20.0}),
    ...                           "fdi": pd.Series({"10": 40.0})}, h, tot)
    >>> [(r["ownership"], round(r["de_va"], 6)) for r in rows], round(sum(r["de_va"] for r in rows), 6), tot.de_va
    ([('state', 7.0), ('nonstate', 8.0), ('fdi', 4.0)], 19.0, 19.0)
    """
    label = inp.label or "?"
    if view == "mic":
        raise MethodError(
            "OWNERSHIP_MIC_VIEW",
            f"{label}: cách đo kiểu MIC có thành phần nền tảng (PLATFORM_VA) không chia theo loại hình kinh tế; "
            f"dùng cách đo gso hoặc oecd để phân tổ theo loại hình.",
            f"{label}: the MIC-style view has a platform component (PLATFORM_VA) with no ownership split; "
            f"use the gso or oecd view for the ownership breakdown.")
    warnings: list[dict] = []
    # a type given only as a total (sector _T, as GRDP by ownership is often published) has no
    # industry detail: the core and the coefficients cannot be applied to it
    total_only = [o for o, s in parts.items() if s is not None and len(s) and {str(c) for c in s.index} == {"_T"}]
    if total_only:
        A._warn(warnings, "OWNERSHIP_TOTAL_ONLY",
                f"{label}: giá trị tăng thêm của {', '.join(total_only)} chỉ có tổng (_T), không theo ngành; "
                f"cần theo ngành VSIC để tính kinh tế số theo loại hình kinh tế.",
                f"{label}: value added of {', '.join(total_only)} is given only as a total (_T), not by industry; "
                f"the digital economy by ownership needs it by VSIC industry.", ownership=total_only)
    given = {o: s.drop("_T", errors="ignore") for o, s in parts.items() if s is not None and len(s)}
    given = {o: s for o, s in given.items() if len(s)}
    if not given:
        A._warn(warnings, "NO_OWNERSHIP_SPLIT",
                f"{label}: không có giá trị tăng thêm theo loại hình kinh tế (GRDP_VA_STATE, GRDP_VA_NONSTATE, "
                f"GRDP_VA_FDI); không phân tổ được theo loại hình kinh tế (không ước đoán).",
                f"{label}: no value added by ownership type (GRDP_VA_STATE, GRDP_VA_NONSTATE, GRDP_VA_FDI); "
                f"the ownership breakdown cannot be made (nothing is guessed).")
        return [], warnings
    absent = [o for o in OWNERSHIP_TYPES if o not in given]
    if absent:
        A._warn(warnings, "OWNERSHIP_PARTIAL",
                f"{label}: thiếu giá trị tăng thêm của loại hình {', '.join(OWNERSHIP_TYPES[o][0] for o in absent)}; "
                f"phần đó nằm trong dòng 'chưa phân loại'.",
                f"{label}: no value added for {', '.join(OWNERSHIP_TYPES[o][1] for o in absent)}; "
                f"that part stays in the 'unassigned' row.", ownership=absent)
    # --- the types against the total, section by section -----------------------------------
    tot_sec = _by_section(inp.va, h, label)
    part_sec: dict[str, float] = {}
    for s in given.values():
        for sec, v in _by_section(s, h, label).items():
            part_sec[sec] = part_sec.get(sec, 0.0) + v
    above, below = [], []
    for sec in sorted(set(tot_sec) | set(part_sec)):
        t, p = tot_sec.get(sec, 0.0), part_sec.get(sec, 0.0)
        slack = max(tolerance * t, 1e-6)
        if p > t + slack:
            above.append(f"{sec} ({p:,.1f} > {t:,.1f})")
        elif p < t - slack:
            below.append(sec)
    if above:
        raise MethodError(
            "OWNERSHIP_ABOVE_TOTAL",
            f"{label}: giá trị tăng thêm các loại hình kinh tế cộng lại lớn hơn GRDP_VA ở khu vực {', '.join(above)}.",
            f"{label}: the ownership types' value added adds up to more than GRDP_VA in section(s) {', '.join(above)}.")
    if below and not absent:
        A._warn(warnings, "OWNERSHIP_BELOW_TOTAL",
                f"{label}: giá trị tăng thêm các loại hình kinh tế cộng lại nhỏ hơn GRDP_VA ở khu vực {', '.join(below)}; "
                f"phần chênh nằm trong dòng 'chưa phân loại'.",
                f"{label}: the ownership types' value added adds up to less than GRDP_VA in section(s) "
                f"{', '.join(below)}; the gap stays in the 'unassigned' row.", sections=below)
    # --- each type's account -----------------------------------------------------------------
    rows = []
    for o in OWNERSHIP_TYPES:
        if o not in given:
            continue
        sub = dataclasses.replace(inp, va=given[o], grdp=total.grdp, platform=None, label=f"{label} [{o}]")
        r = A.measure(sub, h, view=view, core=core)
        rows.append({"ownership": o, "va": float(sum(r.pieces.va)), "de_va": r.de_va,
                     "components": {k: v["va"] for k, v in r.components.items()},
                     "share_of_grdp": r.de_va / total.grdp * 100.0,
                     "share_of_de": r.de_va / total.de_va * 100.0 if total.de_va > 0 else None})
    rest_va = float(sum(total.pieces.va)) - sum(r["va"] for r in rows)
    rest_de = total.de_va - sum(r["de_va"] for r in rows)
    if absent or below or abs(rest_de) > max(1e-6, 1e-9 * total.de_va):
        rows.append({"ownership": "unassigned", "va": rest_va, "de_va": rest_de,
                     "components": {k: v["va"] - sum(r["components"].get(k, 0.0) for r in rows)
                                    for k, v in total.components.items()},
                     "share_of_grdp": rest_de / total.grdp * 100.0,
                     "share_of_de": rest_de / total.de_va * 100.0 if total.de_va > 0 else None})
    return rows, warnings


def sum_region(members: Sequence[tuple[str, A.AccountResult | None]]) -> dict:
    """A region's account from its provinces' (key, account or None): value added, GRDP and each
    component summed; the share recomputed from the sums. Provinces without an account are
    listed in ``missing``; ``grdp_from_va`` lists those whose denominator is the sum of value
    added (no GRDP submitted).

    >>> h = A.Hierarchy({"J": "_T", "62": "J"}, {"J": "section", "62": "division"})
    >>> a = A.measure(A.AccountInputs(va=pd.Series({"62": 10.0}), grdp=100.0), h)
    >>> b = A.measure(A.AccountInputs(va=pd.Series({"62": 30.0}), grdp=100.0), h)
    >>> r = sum_region([("63:01", a), ("63:02", b), ("63:04", None)])
    >>> r["de_va"], r["grdp"], r["de_share"], r["missing"]
    (40.0, 200.0, 20.0, ['63:04'])
    >>> sum_region([("63:04", None)])["de_share"] is None
    True
    """
    have = [(k, r) for k, r in members if r is not None]
    if not have:
        return {"provinces": [k for k, _ in members], "missing": [k for k, _ in members], "grdp": None, "de_va": None,
                "de_share": None, "components": {}, "grdp_from_va": []}
    de = sum(r.de_va for _, r in have)
    grdp = sum(r.grdp for _, r in have)
    comps: dict[str, float] = {}
    for _, r in have:
        for k, v in r.components.items():
            comps[k] = comps.get(k, 0.0) + v["va"]
    return {"provinces": [k for k, _ in members], "missing": [k for k, r in members if r is None],
            "grdp": grdp, "de_va": de, "de_share": de / grdp * 100.0 if grdp > 0 else None,
            "components": {k: {"va": v, "share": v / grdp * 100.0 if grdp > 0 else None} for k, v in comps.items()},
            "grdp_from_va": [k for k, r in have if r.grdp_is_sum_of_va]}
