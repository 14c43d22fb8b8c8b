"""The accounts' breakdowns and constant prices, wired to the store's inputs.

- **Constant prices** (``measure --prices constant``): a territory's value added at constant
  2010 prices is, in this order of precedence, (1) ``GRDP_VA`` submitted at price basis
  ``constant_2010`` for the territory and period (the statistics office's own table, used
  whole), else (2) its current-price ``GRDP_VA`` deflated piece by piece with ``VA_DEFLATOR``
  (2010 = 100): the territory's own deflator of the code or its nearest ancestor, else the
  nation's (named in a ``DEFLATOR_NATIONAL`` warning). A section without a deflator refuses the
  constant-price figure (``NO_DEFLATOR``, naming the section). GRDP at constant prices: submitted
  ``GRDP`` at ``constant_2010``, else current GRDP over the GRDP deflator (``VA_DEFLATOR`` at
  sector ``_T``), else the sum of the deflated value added (``GRDP_CONSTANT_FROM_VA`` warning).
  Real growth: at constant 2010 prices (the NSO's convention, reported as ``real_growth``) and
  chain-linked at the previous year's prices (``real_growth_chained``); formulas in
  :mod:`kinhteso.methods.prices`.
- **Ownership** (``measure --by ownership``): ``GRDP_VA_STATE``, ``GRDP_VA_NONSTATE`` and
  ``GRDP_VA_FDI`` of the territory and period (a 34-basis unit's summed from its old provinces
  like GRDP_VA), through :func:`kinhteso.methods.breakdowns.ownership`; at constant prices
  each type's value added is deflated with the same deflators.
- **Regions** (``measure --by region``): :func:`regions` sums the provinces' results.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pandas as pd

from kinhteso.errors import MethodError
from kinhteso.methods import accounts as A
from kinhteso.methods import breakdowns as MB
from kinhteso.methods import prices as MP
from kinhteso.pipeline import accounts as PA
from kinhteso.reference import territories as terr

__all__ = ["extend", "constant_inputs", "regions"]

_C = PA.CONSTANT_BASIS


def _warn(code: str, vi: str, en: str, **ctx) -> dict:
    return {"code": code, "vi": vi, "en": en, **ctx}


def _deflators(frame: PA.Rows, nation: PA.Rows, key: str, period: str,
               va: pd.Series, const_va: pd.Series) -> tuple[dict[str, float], dict[str, str]]:
    """Deflators by code and where each comes from: the nation's, overridden by the territory's
    own, overridden by those implied by a submitted constant-price table."""
    out: dict[str, float] = {}
    src: dict[str, str] = {}
    layers = [("national", PA.input_series(nation, "VA_DEFLATOR", period)[0])]
    if key != "VN":
        layers.append(("own", PA.input_series(frame, "VA_DEFLATOR", period)[0]))
    layers.append(("implied", pd.Series(MP.implied_deflators(va, const_va)) if len(const_va) else pd.Series(dtype=float)))
    for name, s in layers:
        for c, v in s.items():
            out[str(c)] = float(v)
            src[str(c)] = name
    return out, src


def constant_inputs(frame: PA.Rows, nation: PA.Rows, h: A.Hierarchy, key: str, period: str,
                    inp: A.AccountInputs) -> tuple[A.AccountInputs, dict[str, float], dict, list[dict]]:
    """The inputs of one territory and period at constant 2010 prices: (inputs, the deflators by
    code, what was used, warnings). Raises ``NO_DEFLATOR`` (from :func:`kinhteso.methods.prices.deflate`)."""
    label = f"{key} {period}"
    warnings: list[dict] = []
    const_va = PA.input_series(frame, f"GRDP_VA@{_C}", period)[0]
    deflators, source = _deflators(frame, nation, key, period, inp.va, const_va)
    if len(const_va):
        va_c, how = const_va, "submitted GRDP_VA at constant 2010 prices"
        if set(const_va.index) != set(inp.va.index):
            warnings.append(_warn(
                "CONSTANT_TABLE_DIFFERS",
                f"{label}: bảng GRDP_VA giá so sánh không cùng các ngành với bảng giá hiện hành; dùng nguyên bảng giá so sánh.",
                f"{label}: the constant-price GRDP_VA table has other industries than the current-price one; "
                f"the constant-price table is used whole."))
        used: dict[str, str] = {}
    else:
        va_c, used = MP.deflate(inp.va, h, deflators, label=label)
        how = "current-price GRDP_VA deflated with VA_DEFLATOR"
    national = sorted({used[c] for c in used if source.get(used[c]) == "national"})
    if key != "VN" and national:
        warnings.append(_warn(
            "DEFLATOR_NATIONAL",
            f"{label}: dùng chỉ số giảm phát của cả nước cho {', '.join(national)} (tỉnh chưa có chỉ số riêng).",
            f"{label}: the nation's deflator is used for {', '.join(national)} (the province has none of its own).",
            sectors=national))
    grdp_c = PA.input_series(frame, f"GRDP@{_C}", period)[0]
    if "_T" in grdp_c.index:
        grdp, grdp_how = float(grdp_c["_T"]), "submitted GRDP at constant 2010 prices"
    elif inp.grdp is not None and "_T" in deflators:
        grdp, grdp_how = inp.grdp / (deflators["_T"] / 100.0), f"current GRDP / GRDP deflator ({source['_T']})"
    else:
        grdp, grdp_how = None, "sum of value added at constant prices"
        warnings.append(_warn(
            "GRDP_CONSTANT_FROM_VA",
            f"{label}: không có GRDP giá so sánh hay chỉ số giảm phát GRDP (VA_DEFLATOR ngành _T); mẫu số giá so sánh "
            f"là tổng giá trị tăng thêm giá so sánh, chưa gồm thuế sản phẩm.",
            f"{label}: no GRDP at constant prices nor a GRDP deflator (VA_DEFLATOR sector _T); the constant-price "
            f"denominator is the sum of value added at constant prices, without product taxes."))
    platform = inp.platform
    if platform is not None and len(platform):
        platform = MP.deflate(platform, h, deflators, label=f"{label} PLATFORM_VA")[0]
    new = dataclasses.replace(inp, va=va_c, grdp=grdp, platform=platform)
    info = {"price_basis": _C, "value_added": how, "grdp": grdp_how,
            "deflators": {c: {"value": deflators[c], "source": source[c]} for c in sorted(set(used.values()))}}
    return new, deflators, info, warnings


def _measure(inp: A.AccountInputs, h: A.Hierarchy, view: str, core) -> A.AccountResult | None:
    try:
        return A.measure(inp, h, view=view, core=core)
    except MethodError:
        return None


def _core_of(user_core, view: str, prov: dict):
    """The core list a measure uses: the user's, else the view's default in the data's VSIC version."""
    return user_core or PA.default_core(view, prov["vsic_version"])


def _real(r: PA.MeasureResult, frame: PA.Rows, nation: PA.Rows, h: A.Hierarchy, inp: A.AccountInputs,
          deflators: dict[str, float], res_c: A.AccountResult, core, user_core) -> tuple[dict, list[dict]]:
    """Real growth of DE value added from the same period a year earlier, both ways (``core``:
    this year's core list; last year's is chosen as the accounts choose it)."""
    prev = PA.previous_period(r.period)
    label = f"{r.territory} {r.period}"
    out = {"real_growth": None, "real_growth_chained": None, "real_growth_from": prev, "nominal_growth": None}
    inp0, prov0 = PA.territory_inputs(frame, nation, r.territory, prev, [])
    core0 = _core_of(user_core, r.view, prov0)
    res0 = _measure(inp0, h, r.view, core0) if not inp0.va.empty else None
    if res0 is None:
        return out, [_warn("NO_PREVIOUS_YEAR", f"{label}: không có tài khoản {prev}; không tính được tăng trưởng.",
                           f"{label}: no accounts for {prev}; growth cannot be computed.")]
    out["nominal_growth"] = MP.growth(r.result.de_va if r.result else None, res0.de_va)
    try:
        c0, defl0, _, _ = constant_inputs(frame, nation, h, r.territory, prev, inp0)
        res0_c = A.measure(c0, h, view=r.view, core=core0)
        out["real_growth"] = MP.growth(res_c.de_va, res0_c.de_va)
        # chain-linked: this year's value added at last year's prices, against last year's current prices
        codes = {str(c) for c in inp.va.index} | ({str(c) for c in inp.platform.index} if inp.platform is not None else set())
        rel = MP.relative_deflators(sorted(codes), h, deflators, defl0)
        va_pp, _ = MP.deflate(inp.va, h, rel, label=f"{label} @{prev}")
        plat = inp.platform
        if plat is not None and len(plat):
            plat = MP.deflate(plat, h, rel, label=f"{label} PLATFORM_VA @{prev}")[0]
        res_pp = A.measure(dataclasses.replace(inp, va=va_pp, grdp=None, platform=plat), h, view=r.view, core=core)
        out["real_growth_chained"] = MP.growth(res_pp.de_va, res0.de_va)
    except MethodError as exc:
        return out, [_warn("REAL_GROWTH_UNAVAILABLE", f"{label}: không tính được tăng trưởng thực so với {prev}: {exc.vi}",
                           f"{label}: real growth on {prev} cannot be computed: {exc.en}")]
    return out, []


def extend(results: Sequence[PA.MeasureResult], frames: dict, nation: PA.Rows, h: A.Hierarchy, cache: dict, *,
           core=None, prices: str = "current", ownership: bool = False) -> None:
    """Turn results into constant-price results (``prices="constant"``) and/or add their
    ownership breakdown, in place."""
    for r in results:
        if r.result is None:
            if prices == "constant":
                r.price_basis = _C
            continue
        frame = frames[r.territory]
        inp = cache[(r.territory, r.period)][0]
        deflators = None
        core_t = r.result.core  # the core list this result used (its VSIC version's default)
        if prices == "constant":
            current = r.result
            r.price_basis = _C
            try:
                inp, deflators, info, warns = constant_inputs(frame, nation, h, r.territory, r.period, inp)
                res_c = A.measure(inp, h, view=r.view, core=core_t)
            except MethodError as exc:
                r.result, r.change = None, None
                r.error = {"code": exc.code, "vi": exc.vi, "en": exc.en}
                continue
            real, more = _real(r, frame, nation, h, cache[(r.territory, r.period)][0], deflators, res_c, core_t, core)
            known = {w.get("code") for w in r.warnings}
            r.warnings.extend(warns + more + [w for w in res_c.warnings if w.get("code") not in known | {"GRDP_MISSING"}])
            r.real = {**real, "real_growth_basis": _C,
                      "current": {"price_basis": "current", "grdp": current.grdp, "de_va": current.de_va,
                                  "de_share": current.de_share}}
            r.growth = real["nominal_growth"]
            r.result, r.change = res_c, None
            r.provenance["prices"] = info
        if ownership:
            parts = {o: PA.input_series(frame, ind, r.period)[0] for o, ind in PA.OWNERSHIP_INDICATORS.items()}
            try:
                if deflators is not None:
                    parts = {o: MP.deflate(s, h, deflators, label=f"{r.territory} {r.period} {o}")[0] if len(s) else s
                             for o, s in parts.items()}
                rows, warns = MB.ownership(inp, parts, h, r.result, view=r.view, core=core_t)
                r.ownership = {"price_basis": r.price_basis, "rows": rows}
            except MethodError as exc:
                warns = []
                r.ownership = {"price_basis": r.price_basis, "rows": [],
                               "error": {"code": exc.code, "vi": exc.vi, "en": exc.en}}
            r.warnings.extend(warns)


def regions(results: Sequence[PA.MeasureResult], basis: int, period: str, *, view: str = "gso",
            price_basis: str = "current", only: Sequence[str] | None = None) -> list[dict]:
    """The six socio-economic regions (or ``only`` these keys) as sums of their provinces'
    results on ``basis``: DE value added, GRDP and components summed, the share recomputed;
    missing provinces and (on the 34 basis) provinces assigned by the documented rule named in
    warnings."""
    by_key = {r.territory: r for r in results}
    out = []
    for reg in terr.regions():
        if only and reg.key not in only:
            continue
        members = reg.provinces(basis)
        s = MB.sum_region([(k, by_key[k].result if k in by_key else None) for k in members])
        label = f"{reg.key} {period}"
        warns = []
        if s["missing"]:
            names = ", ".join(f"{k} {terr.get_territory(k).name_vi}" for k in s["missing"])
            none = len(s["missing"]) == len(members)
            warns.append(_warn("REGION_INCOMPLETE",
                               f"{label}: thiếu số liệu của {len(s['missing'])}/{len(members)} tỉnh: {names}; "
                               + ("vùng không có số." if none else "số của vùng chỉ gồm các tỉnh còn lại."),
                               f"{label}: {len(s['missing'])} of {len(members)} provinces have no accounts: {names}; "
                               + ("the region has no figures." if none else "the region's figures cover the others only."),
                               provinces=s["missing"]))
        if basis == 34 and reg.straddling:
            names = ", ".join(f"{k} {terr.get_territory(k).name_vi}" for k in reg.straddling)
            warns.append(_warn("REGION_STRADDLES",
                               f"{label}: {names} gồm các tỉnh cũ thuộc hai vùng; xếp vào vùng này theo quy tắc tên tỉnh "
                               f"(chưa có danh sách vùng chính thức cho 34 tỉnh; xem regions.SOURCE.md).",
                               f"{label}: {names} merged old provinces of two regions; assigned here by the namesake "
                               f"rule (no official 34-unit region list found; see regions.SOURCE.md).",
                               provinces=list(reg.straddling)))
        if s["grdp_from_va"]:
            warns.append(_warn("REGION_GRDP_FROM_VA",
                               f"{label}: mẫu số của {', '.join(s['grdp_from_va'])} là tổng giá trị tăng thêm (thiếu GRDP).",
                               f"{label}: the denominator of {', '.join(s['grdp_from_va'])} is the sum of value added "
                               f"(no GRDP).", provinces=s["grdp_from_va"]))
        out.append({"region": reg.key, "name_vi": reg.name_vi, "name_en": reg.name_en, "basis": basis,
                    "period": period, "view": view, "price_basis": price_basis, **s,
                    **({"de_share_label": PA.CONSTANT_SHARE_LABEL} if price_basis != "current" else {}), "warnings": warns,
                    "illustrative": any(by_key[k].provenance.get("illustrative") for k in members if k in by_key)})
    return out
