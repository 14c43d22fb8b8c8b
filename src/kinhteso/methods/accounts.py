"""Digital-economy accounts: value added and share of GDP/GRDP, by component and sector.

Three views, each with its anchor:

- **GSO** (the official statistic; GSO press release 12/2023 and the NSO 2025–2026 releases):
  core digital economy = Σ value added of the core industries (VSIC 2018 {26, 4651, 4652, 582,
  61, 62, 631} by default); digitalised = Σ over the other industries of VA × ``DIGITAL_COEF``;
  share = (core + digitalised) / GRDP × 100.
- **OECD** (OECD ICT sector, ISIC Rev.4, OECD 2011 *Guide to Measuring the Information
  Society*; OECD 2023 *Handbook on Compiling Digital Supply and Use Tables*): the same
  arithmetic with the ICT-sector classes as the core, comparable with ADB, OECD and BEA figures.
- **MIC-style** (``mic``; "MIC-style: ICT + platforms + sectoral digitalisation, kinhteso
  estimate"): kinhteso's own formula in the three components of Decision 411/QĐ-TTg and
  Decision 1354/QĐ-BTTTT — ICT digital economy (the core), platform digital economy
  (``PLATFORM_VA``), sectoral digital economy = the digitalised part of the other industries net
  of what the platform part already counts, sector by sector:
  sectoral_s = max(digitalised_s − platform_s, 0). It is *not* the ministry's estimation (MIC
  estimated from tax revenue data with an econometric model; its published figures are the
  separate series ``DE_SHARE_MIC``), and its result is not comparable with those figures.

Industry pieces. Value added may be reported at any VSIC level; a reported code whose
descendants are also reported contributes its *remainder* (its value less that of its reported
descendants), so nothing is counted twice. A core code that is not reported itself is taken
from the reported industry that contains it with ``ALLOC_RATIO`` (the share of a group or class
in its division, of a division in its section): the province's own ratio, else the national
one; every allocation is recorded. ``DIGITAL_COEF`` of a piece: the province's own at that code,
else at an ancestor, else the national one at that code or an ancestor; none → the piece adds
nothing and a warning says so.

All functions are pure: data frames in, results out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from kinhteso.errors import MethodError

__all__ = [
    "chain_ratio",
    "GSO_CORE",
    "OECD_ICT",
    "GSO_CORE_2025",
    "OECD_ICT_2025",
    "CORE_BY_VERSION",
    "VIEWS",
    "VIEW_LABELS",
    "Hierarchy",
    "AccountInputs",
    "AccountResult",
    "measure",
    "shift_share",
    "Constraint",
    "ConstrainedCalibration",
    "calibrate_to_constraints",
    "CONSTRAINT_KINDS",
]

#: GSO core digital-economy industries (VSIC 2018); sources in docs/methodology.md.
GSO_CORE: tuple[str, ...] = ("26", "4651", "4652", "582", "61", "62", "631")
#: OECD ICT sector (ISIC Rev.4 classes as in VSIC 2018).
OECD_ICT: tuple[str, ...] = ("2610", "2620", "2630", "2640", "2680", "4651", "4652", "5820", "61", "62",
                             "6311", "6312", "9511", "9512")
#: The same lists in VSIC 2025 (ISIC Rev.5), derived through the 2018 → 2025 correspondence
#: (reference/data/vsic2018_2025.csv): 26, 4651, 4652, 582, 61 and 62 keep their codes; 631
#: (data processing, hosting; web portals) is 631 of VSIC 2025 (computing infrastructure, data
#: processing, hosting) — the web portals of 6312 moved to 6390 and 6039, outside the core, as
#: ISIC Rev.5 moved them. OECD: 2610 → 261 (2611 + 2619, the same coverage), 5820 → 582,
#: 6311 → 631, 6312 → 6390 (web search portals; the social networks of 6039 are content
#: distribution in ISIC Rev.5 and are left out), 9511 + 9512 → 951.
GSO_CORE_2025: tuple[str, ...] = ("26", "4651", "4652", "582", "61", "62", "631")
OECD_ICT_2025: tuple[str, ...] = ("261", "2620", "2630", "2640", "2680", "4651", "4652", "582", "61", "62", "631",
                                  "6390", "951")
#: VSIC version → view → default core list (codes of that version, without the store's prefix).
CORE_BY_VERSION: dict[int, dict[str, tuple[str, ...]]] = {
    2018: {"gso": GSO_CORE, "oecd": OECD_ICT, "mic": GSO_CORE},
    2025: {"gso": GSO_CORE_2025, "oecd": OECD_ICT_2025, "mic": GSO_CORE_2025},
}
#: view → (default core list, component names)
VIEWS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "gso": (GSO_CORE, ("core", "digitalised")),
    "oecd": (OECD_ICT, ("core", "digitalised")),
    "mic": (GSO_CORE, ("ict", "platform", "sectoral")),
}
#: view → (Vietnamese, English) label: what each view is, as every output names it.
VIEW_LABELS: dict[str, tuple[str, str]] = {
    "gso": ("cách đo GSO/NSO: lõi + số hóa các ngành khác, kinhteso tính",
            "GSO/NSO view: core + digitalisation of other industries, computed by kinhteso"),
    "mic": ("kiểu MIC: ICT + nền tảng + số hóa ngành, ước tính của kinhteso",
            "MIC-style: ICT + platforms + sectoral digitalisation, kinhteso estimate"),
    "oecd": ("cách đo OECD: ngành ICT của OECD + số hóa các ngành khác, kinhteso tính",
             "OECD view: OECD ICT sector + digitalisation of other industries, computed by kinhteso"),
}
_TOL = 1e-9


@dataclass(frozen=True)
class Hierarchy:
    """The code tree the method needs: each code's parent and level (from VSIC 2018)."""

    parent: Mapping[str, str | None]
    level: Mapping[str, str]
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def ancestors(self, code: str) -> tuple[str, ...]:
        hit = self._cache.get(code)
        if hit is None:
            out, p = [], self.parent.get(code)
            while p is not None and p != "_T":
                out.append(p)
                p = self.parent.get(p)
            hit = self._cache[code] = tuple(out)
        return hit

    def ratio_parent(self, code: str) -> str | None:
        """The industry an ``ALLOC_RATIO`` of ``code`` refers to: its division for a group or
        class, its section for a division."""
        lvl = self.level.get(code)
        if lvl in ("group", "class"):
            return next((a for a in self.ancestors(code) if self.level.get(a) == "division"), None)
        if lvl == "division":
            return self.parent.get(code)
        return None

    def section(self, code: str) -> str:
        chain = [code, *self.ancestors(code)]
        return next((c for c in chain if self.level.get(c) == "section"), code)

    def division(self, code: str) -> str | None:
        chain = [code, *self.ancestors(code)]
        return next((c for c in chain if self.level.get(c) == "division"), None)


def chain_ratio(k: str, holder: str, h: Hierarchy, own: dict[str, float], national: dict[str, float],
                national_va: dict[str, float] | None = None) -> tuple[float | None, list[dict] | tuple]:
    """The share of reported industry ``holder`` that industry ``k`` inside it is, composed up the
    VSIC tree one step at a time — a class or group within its division, a division within its
    section (:meth:`Hierarchy.ratio_parent`) — as the product of each step's ratio: the
    territory's own ``ALLOC_RATIO``, else the national one, else the national value-added
    structure (``national_va``: the step's value added over its parent's). Returns (ratio, the
    steps as ``{sector, parent, ratio, source}``), or (None, the first step without a ratio as
    ``(sector, parent)``).

    >>> h = Hierarchy({"G": "_T", "46": "G", "465": "46", "4651": "465"},
    ...               {"G": "section", "46": "division", "465": "group", "4651": "class"})
    >>> r, steps = chain_ratio("4651", "G", h, {}, {"4651": 0.2}, {"46": 60.0, "G": 100.0})
    >>> round(r, 6), [(s["sector"], s["parent"], s["source"]) for s in steps]
    (0.12, [('4651', '46', 'national'), ('46', 'G', 'national structure')])
    >>> chain_ratio("4651", "G", h, {}, {"4651": 0.2})
    (None, ('46', 'G'))
    """
    steps: list[dict] = []
    code, ratio = k, 1.0
    national_va = national_va or {}
    while code != holder:
        parent = h.ratio_parent(code)
        if parent is None or (parent != holder and holder not in h.ancestors(parent)):
            return None, (code, parent)  # the holder is not on the chain of ratios (e.g. a group)
        if code in own:
            r, src = own[code], "own"
        elif code in national:
            r, src = national[code], "national"
        elif national_va.get(parent, 0.0) > 0 and code in national_va:
            r, src = national_va[code] / national_va[parent], "national structure"
        else:
            return None, (code, parent)
        steps.append({"sector": code, "parent": parent, "ratio": float(r), "source": src})
        ratio *= float(r)
        code = parent
    return ratio, steps


@dataclass
class AccountInputs:
    """What one territory and period need. Values are Series indexed by VSIC code."""

    va: pd.Series                     #: GRDP_VA by sector (any level), current prices
    grdp: float | None = None         #: GRDP (total), or None
    coef_own: pd.Series | None = None  #: DIGITAL_COEF of the territory
    coef_nat: pd.Series | None = None  #: national DIGITAL_COEF
    alloc_own: pd.Series | None = None  #: ALLOC_RATIO of the territory
    alloc_nat: pd.Series | None = None  #: national ALLOC_RATIO
    platform: pd.Series | None = None  #: PLATFORM_VA by sector (MIC-style view)
    label: str = ""                   #: "territory period", for messages
    va_nat: pd.Series | None = None   #: national GRDP_VA by sector (a chained allocation's step without a ratio)


@dataclass
class AccountResult:
    view: str
    grdp: float
    grdp_is_sum_of_va: bool
    de_va: float
    de_share: float
    components: dict[str, dict[str, float]]
    by_sector: pd.DataFrame            #: sector, section, de_va, contribution_pp, va
    pieces: pd.DataFrame               #: every industry piece: code, va, core, other, coef, coef_source, digitalised
    allocations: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    core: tuple[str, ...] = ()

    @property
    def by_section(self) -> pd.DataFrame:
        """The same contributions summed by VSIC section (sections add up to the share)."""
        g = self.by_sector.groupby("section", as_index=False)[["va", "de_va", "contribution_pp"]].sum()
        return g.sort_values("de_va", ascending=False, kind="stable").reset_index(drop=True)

    def as_dict(self) -> dict:
        return {
            "view": self.view, "grdp": self.grdp, "de_va": self.de_va, "de_share": self.de_share,
            "components": self.components,
            "by_sector": self.by_sector[["sector", "de_va", "contribution_pp"]].to_dict(orient="records"),
            "warnings": self.warnings,
        }


def _warn(out: list[dict], code: str, vi: str, en: str, **ctx) -> None:
    out.append({"code": code, "vi": vi, "en": en, **ctx})


def _pieces(va: dict[str, float], h: Hierarchy, label: str) -> dict[str, float]:
    """Each reported code's remainder: its VA less that of its top reported descendants."""
    codes = set(va)
    top_child: dict[str, list[str]] = {c: [] for c in codes}
    for c in codes:
        anc = next((a for a in h.ancestors(c) if a in codes), None)
        if anc is not None:
            top_child[anc].append(c)
    rem = {}
    for c in sorted(codes):
        kids = sum(va[k] for k in top_child[c])
        r = va[c] - kids
        if r < -max(1e-6, 1e-9 * abs(va[c])):
            raise MethodError(
                "CHILDREN_EXCEED_PARENT",
                f"{label}: giá trị tăng thêm các ngành con của {c} ({kids:,.1f}) lớn hơn của chính ngành {c} ({va[c]:,.1f}).",
                f"{label}: the value added of {c}'s sub-industries ({kids:,.1f}) exceeds that of {c} itself ({va[c]:,.1f}).",
            )
        rem[c] = max(r, 0.0)
    return rem


def _lookup(code: str, h: Hierarchy, own: dict[str, float], nat: dict[str, float]) -> tuple[float, str] | None:
    for source, d in (("own", own), ("national", nat)):
        if not d:
            continue
        for c in (code, *h.ancestors(code)):
            if c in d:
                return d[c], f"{source}:{c}"
    return None


def _check_inputs(inp: AccountInputs, label: str) -> None:
    if inp.va is None or inp.va.empty:
        raise MethodError(
            "NO_INDUSTRY_DETAIL",
            f"{label}: có GRDP nhưng không có giá trị tăng thêm theo ngành (GRDP_VA); không tính được kinh tế số.",
            f"{label}: GRDP but no value added by industry (GRDP_VA); the digital economy cannot be measured.",
        )
    if (inp.va < 0).any():
        bad = ", ".join(inp.va[inp.va < 0].index)
        raise MethodError("NEGATIVE_VA", f"{label}: giá trị tăng thêm âm ở ngành {bad}.",
                          f"{label}: negative value added in {bad}.")
    for name, s in (("DIGITAL_COEF", inp.coef_own), ("DIGITAL_COEF (national)", inp.coef_nat),
                    ("ALLOC_RATIO", inp.alloc_own), ("ALLOC_RATIO (national)", inp.alloc_nat)):
        if s is not None and len(s) and ((s < 0) | (s > 1)).any():
            bad = ", ".join(f"{k}={v:g}" for k, v in s[(s < 0) | (s > 1)].items())
            raise MethodError("COEF_RANGE", f"{label}: {name} ngoài khoảng 0–1: {bad}.",
                              f"{label}: {name} outside 0–1: {bad}.")
    if inp.grdp is not None:
        big = inp.va[inp.va > inp.grdp * (1 + 1e-9)]
        if len(big):
            raise MethodError(
                "VA_ABOVE_GRDP",
                f"{label}: giá trị tăng thêm của ngành {', '.join(big.index)} lớn hơn GRDP ({inp.grdp:,.1f}).",
                f"{label}: value added of {', '.join(big.index)} exceeds GRDP ({inp.grdp:,.1f}).",
            )


def measure(inp: AccountInputs, h: Hierarchy, *, view: str = "gso", core: Sequence[str] | None = None) -> AccountResult:
    """Digital-economy value added and share for one territory and period in one view.

    **Parameters:** ``inp`` (the territory's inputs), ``h`` (the VSIC tree), ``view``
    (``gso``, ``oecd`` or ``mic``), ``core`` (replaces the view's default core list).

    **Returns:** an :class:`AccountResult`; shares are percent. Raises
    :class:`~kinhteso.errors.MethodError` on inconsistent input (children above parents,
    VA above GRDP, ratios or coefficients outside 0–1, allocation ratios above 1 in a parent).

    >>> h = Hierarchy({"J": "_T", "62": "J", "C": "_T", "10": "C"}, {"J": "section", "62": "division", "C": "section", "10": "division"})
    >>> r = measure(AccountInputs(va=pd.Series({"62": 10.0, "10": 90.0}), grdp=110.0,
    ...             coef_nat=pd.Series({"C": 0.1})), h)
    >>> round(r.de_share, 6), r.components["core"]["va"], r.components["digitalised"]["va"]
    (17.272727, 10.0, 9.0)
    """
    if view not in VIEWS:
        raise MethodError("UNKNOWN_VIEW", f"Cách đo '{view}' không có; dùng {', '.join(VIEWS)}.",
                          f"Unknown view '{view}'; use one of {', '.join(VIEWS)}.")
    label = inp.label or "?"
    _check_inputs(inp, label)
    core = tuple(core or VIEWS[view][0])
    core_set = set(core)
    warnings: list[dict] = []
    va = {str(k): float(v) for k, v in inp.va.items()}
    pieces = _pieces(va, h, label)
    codes = set(va)
    own_c, nat_c = _as_dict(inp.coef_own), _as_dict(inp.coef_nat)
    own_a, nat_a = _as_dict(inp.alloc_own), _as_dict(inp.alloc_nat)
    # --- core: reported core codes (and anything reported under them) ---------------------
    core_part = {c: (v if (c in core_set or core_set.intersection(h.ancestors(c))) else 0.0) for c, v in pieces.items()}
    allocations = []
    # --- core codes not reported: allocate from the reported industry that holds them ------
    alloc_sum: dict[str, float] = {}
    for k in core:
        if k in codes or core_set.intersection(h.ancestors(k)):
            continue  # reported (a piece), or inside a broader core code
        holder = next((a for a in h.ancestors(k) if a in codes), None)
        if any(k in h.ancestors(c) for c in codes):
            # part of k is reported below it (a core piece already); the rest, if any, is in
            # the holder's remainder and cannot be told apart without more detail
            if holder is not None:
                _warn(warnings, "PARTIAL_CORE_DETAIL",
                      f"{label}: ngành lõi {k} chỉ được báo cáo một phần chi tiết; phần còn lại nằm trong {holder} và không được tính là lõi.",
                      f"{label}: core industry {k} is reported only in part; the rest stays in {holder} and is not counted as core.",
                      sector=k)
            continue
        if holder is None:
            continue  # nothing reported contains k: the economy has none of it in this detail
        ratio, steps = chain_ratio(k, holder, h, own_a, nat_a, _as_dict(inp.va_nat))
        if ratio is None:
            code, rp = steps
            _warn(warnings, "NO_ALLOCATION",
                  f"{label}: không tách được ngành lõi {k} khỏi {holder} (cần ALLOC_RATIO của {code} trong {rp}); "
                  f"phần này không được tính vào kinh tế số lõi.",
                  f"{label}: core industry {k} cannot be taken out of {holder} (needs ALLOC_RATIO of {code} within "
                  f"{rp}); that part is not counted as core.", sector=k)
            continue
        amount = va[holder] * ratio
        alloc_sum[holder] = alloc_sum.get(holder, 0.0) + ratio
        core_part[holder] = core_part.get(holder, 0.0) + amount
        sources = list(dict.fromkeys(st["source"] for st in steps))
        allocations.append({"sector": k, "parent": holder, "ratio": ratio,
                            "source": sources[0] if len(sources) == 1 else "+".join(sources), "va": amount,
                            "steps": steps})
    for holder, total in alloc_sum.items():
        if total > 1 + 1e-9:
            raise MethodError(
                "ALLOC_ABOVE_ONE",
                f"{label}: tổng tỷ lệ phân bổ các ngành lõi trong {holder} là {total:.4f} > 1.",
                f"{label}: the allocation ratios of core industries within {holder} sum to {total:.4f} > 1.",
            )
        if core_part[holder] > pieces[holder] + 1e-6:
            raise MethodError(
                "ALLOC_ABOVE_REMAINDER",
                f"{label}: phần phân bổ cho ngành lõi trong {holder} vượt phần còn lại của ngành sau khi trừ các ngành con đã báo cáo.",
                f"{label}: the core part allocated within {holder} exceeds what remains of it after its reported sub-industries.",
            )
    # --- digitalised part of the other industries -----------------------------------------
    rows = []
    missing = []
    for c, v in pieces.items():
        other = max(v - core_part[c], 0.0)
        coef, src = (math.nan, "")
        if other > 0:
            found = _lookup(c, h, own_c, nat_c)
            if found is None:
                missing.append(c)
                src = "none"
            else:
                coef, src = found
        dig = other * coef if other > 0 and not math.isnan(coef) else 0.0
        section = h.section(c)
        rows.append((c, v, core_part[c], other, coef, src, dig, section, h.division(c) or section))
    if missing:
        _warn(warnings, "NO_COEFFICIENT",
              f"{label}: không có hệ số số hóa (DIGITAL_COEF) cho {', '.join(missing)}; các ngành này không đóng góp phần số hóa.",
              f"{label}: no digitalisation coefficient (DIGITAL_COEF) for {', '.join(missing)}; they add nothing digitalised.",
              sectors=missing)
    # --- denominator ----------------------------------------------------------------------
    total_va = sum(pieces.values())
    grdp_is_sum = inp.grdp is None
    grdp = total_va if grdp_is_sum else float(inp.grdp)
    if grdp_is_sum:
        _warn(warnings, "GRDP_MISSING",
              f"{label}: thiếu GRDP; mẫu số là tổng giá trị tăng thêm các ngành ({total_va:,.1f}), chưa gồm thuế sản phẩm.",
              f"{label}: GRDP missing; the denominator is the sum of value added ({total_va:,.1f}), without product taxes.")
    elif total_va > grdp * (1 + 1e-6):
        _warn(warnings, "VA_SUM_ABOVE_GRDP",
              f"{label}: tổng giá trị tăng thêm ({total_va:,.1f}) lớn hơn GRDP ({grdp:,.1f}).",
              f"{label}: the sum of value added ({total_va:,.1f}) exceeds GRDP ({grdp:,.1f}).")
    if grdp <= 0:
        raise MethodError("GRDP_NOT_POSITIVE", f"{label}: GRDP không dương.", f"{label}: GRDP is not positive.")
    core_va = sum(r[2] for r in rows)
    dig_va = sum(r[6] for r in rows)
    va_by_div: dict[str, float] = {}
    core_by_div: dict[str, float] = {}
    dig_by_div: dict[str, float] = {}
    for r in rows:
        va_by_div[r[8]] = va_by_div.get(r[8], 0.0) + r[1]
        core_by_div[r[8]] = core_by_div.get(r[8], 0.0) + r[2]
        dig_by_div[r[8]] = dig_by_div.get(r[8], 0.0) + r[6]
    # --- components by view -----------------------------------------------------------------
    bridge = []
    if view == "mic":
        plat = _as_dict(inp.platform)
        if not plat:
            _warn(warnings, "NO_PLATFORM_VA",
                  f"{label}: không có PLATFORM_VA; thành phần kinh tế số nền tảng bằng 0.",
                  f"{label}: no PLATFORM_VA; the platform component is zero.")
        plat_by_div: dict[str, float] = {}
        for c, v in plat.items():
            d = h.division(c) or h.section(c)
            plat_by_div[d] = plat_by_div.get(d, 0.0) + v
        overlap = {d: min(dig_by_div.get(d, 0.0), plat_by_div.get(d, 0.0)) for d in set(dig_by_div) | set(plat_by_div)}
        sectoral_by_div = {d: max(v - overlap.get(d, 0.0), 0.0) for d, v in dig_by_div.items()}
        platform_va = sum(plat.values())
        sectoral_va = sum(sectoral_by_div.values())
        de_va = core_va + platform_va + sectoral_va
        components = {"ict": core_va, "platform": platform_va, "sectoral": sectoral_va}
        divs = set(core_by_div) | set(plat_by_div)
        sector_de = {d: core_by_div.get(d, 0.0) + sectoral_by_div.get(d, 0.0) + plat_by_div.get(d, 0.0) for d in divs}
        bridge = [
            {"item": "gso_total", "value": core_va + dig_va},
            {"item": "plus_platform_va", "value": platform_va},
            {"item": "minus_platform_already_in_digitalised", "value": -sum(overlap.values())},
            {"item": "mic_style_total", "value": de_va},
        ]
    else:
        de_va = core_va + dig_va
        components = {"core": core_va, "digitalised": dig_va}
        sector_de = {d: core_by_div[d] + dig_by_div[d] for d in core_by_div}
    share = de_va / grdp * 100.0
    if not (-_TOL <= share <= 100 + _TOL) or not math.isfinite(share):
        raise MethodError(
            "SHARE_OUT_OF_RANGE",
            f"{label}: tỷ trọng tính ra {share:.2f}% nằm ngoài 0–100; kiểm tra lại số liệu đầu vào.",
            f"{label}: the computed share {share:.2f}% is outside 0–100; check the inputs.",
        )
    order = sorted(sector_de, key=lambda d: (-sector_de[d], d))
    by_sector = pd.DataFrame({
        "sector": order,
        "de_va": [sector_de[d] for d in order],
        "va": [va_by_div.get(d, 0.0) for d in order],
        "section": [h.section(d) for d in order],
        "contribution_pp": [sector_de[d] / grdp * 100.0 for d in order],
    })
    table = pd.DataFrame(rows, columns=["code", "va", "core", "other", "coef", "coef_source", "digitalised",
                                        "section", "division"])
    comps = {k: {"va": v, "share": v / grdp * 100.0} for k, v in components.items()}
    result = AccountResult(view=view, grdp=grdp, grdp_is_sum_of_va=grdp_is_sum, de_va=de_va, de_share=share,
                           components=comps, by_sector=by_sector, pieces=table, allocations=allocations,
                           warnings=warnings, core=core)
    result.bridge = bridge  # type: ignore[attr-defined]
    return result


def _as_dict(s: pd.Series | None) -> dict[str, float]:
    if s is None or len(s) == 0:
        return {}
    return {str(k): float(v) for k, v in s.items() if not pd.isna(v)}


def _shapley(f, x0: Sequence[float], x1: Sequence[float]) -> list[float]:
    """Shapley decomposition of f(x1) − f(x0) into one term per factor (exact: the terms sum to
    the change). Used for the 3-factor product share = r × structure × intensity."""
    n = len(x0)
    out = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        total = 0.0
        for k in range(n):
            for subset in combinations(others, k):
                w = math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n)
                base = [x1[j] if j in subset else x0[j] for j in range(n)]
                with_i = list(base)
                with_i[i] = x1[i]
                total += w * (f(with_i) - f(base))
        out.append(total)
    return out


def shift_share(a: AccountResult, b: AccountResult) -> dict[str, float]:
    """The change in the share from ``a`` to ``b`` (percentage points) split into a
    **digitalisation** effect (each industry's digital intensity DE_s / VA_s), a **structure**
    effect (each industry's weight VA_s / ΣVA) and a **denominator** effect (ΣVA / GRDP: product
    taxes and, where the denominator is the sum of VA, nothing). Per industry the share term is
    the product r × w_s × d_s; the Shapley decomposition of each product makes the three effects
    sum exactly to the change.
    """
    def frame(r: AccountResult) -> pd.DataFrame:
        t = r.by_sector.set_index("sector")[["de_va", "va"]]
        return t
    fa, fb = frame(a), frame(b)
    sectors = sorted(set(fa.index) | set(fb.index))
    fa, fb = fa.reindex(sectors).fillna(0.0), fb.reindex(sectors).fillna(0.0)
    va_a, va_b = float(fa.va.sum()), float(fb.va.sum())
    r_a, r_b = va_a / a.grdp, va_b / b.grdp
    effects = {"digitalisation": 0.0, "structure": 0.0, "denominator": 0.0}
    for s in sectors:
        w0 = fa.va[s] / va_a if va_a else 0.0
        w1 = fb.va[s] / va_b if va_b else 0.0
        d0 = fa.de_va[s] / fa.va[s] if fa.va[s] > 0 else None
        d1 = fb.de_va[s] / fb.va[s] if fb.va[s] > 0 else None
        if d0 is None and d1 is None:
            # DE value added without VA of its own (MIC platform in an industry not reported)
            d0 = d1 = 0.0
            extra0 = fa.de_va[s] / a.grdp * 100
            extra1 = fb.de_va[s] / b.grdp * 100
            effects["digitalisation"] += extra1 - extra0
            continue
        d0 = d1 if d0 is None else d0
        d1 = d0 if d1 is None else d1
        terms = _shapley(lambda x: x[0] * x[1] * x[2] * 100.0, [r_a, w0, d0], [r_b, w1, d1])
        effects["denominator"] += terms[0]
        effects["structure"] += terms[1]
        effects["digitalisation"] += terms[2]
    effects["total"] = b.de_share - a.de_share
    effects["residual"] = effects["total"] - effects["digitalisation"] - effects["structure"] - effects["denominator"]
    return effects


def hierarchy_from(codes: Iterable[tuple[str, str | None, str]]) -> Hierarchy:
    """A :class:`Hierarchy` from (code, parent, level) triples."""
    parent, level = {}, {}
    for c, p, lvl in codes:
        parent[c] = p
        level[c] = lvl
    return Hierarchy(parent, level)


# --- estimators of DIGITAL_COEF ----------------------------------------------------------------
def coef_from_revenue_share(online: pd.Series, total: pd.Series) -> pd.DataFrame:
    """DIGITAL_COEF by industry from the online (digitally ordered) share of its revenue.

    Anchor: BEA (Highfill & Surfield 2022; Nicholson 2020, *New Digital Economy Estimates*):
    the digital part of an industry is assumed to have the industry's ratio of value added to
    output, so VA_digital = VA × online/revenue and the coefficient is the revenue share itself:
    d_s = online_s / revenue_s. ``online`` and ``total`` are revenue by sector (e.g. e-invoice
    revenue of online sales and all e-invoice revenue, or an enterprise survey).

    Returns sector, coefficient, online, total; sectors without revenue are left out. An online
    revenue above the total is an error (it cannot be a share).
    """
    both = pd.concat({"online": online.astype(float), "total": total.astype(float)}, axis=1).dropna()
    both = both[both.total > 0]
    bad = both[(both.online < 0) | (both.online > both.total * (1 + 1e-9))]
    if len(bad):
        raise MethodError(
            "ONLINE_ABOVE_TOTAL",
            f"Doanh thu trực tuyến âm hoặc lớn hơn tổng doanh thu ở ngành {', '.join(bad.index)}.",
            f"Online revenue is negative or above total revenue in {', '.join(bad.index)}.",
        )
    return pd.DataFrame({"sector": both.index, "coefficient": (both.online / both.total).values,
                         "online": both.online.values, "total": both.total.values})


def calibrate_coefficients(other_va: pd.Series, profile: pd.Series, *, denominator: float,
                           target_pct: float) -> tuple[pd.Series, float]:
    """Scale an indicator-based profile so the digitalised share equals a published figure.

    Anchor: the GSO publishes the digitalised part of the national digital economy (e.g. 4.91%
    of GDP in 2022); with a relative profile p_s (any indicator of digitalisation by industry)
    the coefficients are d_s = min(k·p_s, 1), k solved so that Σ_s VA_s·d_s = target × GDP / 100
    (``other_va``: the value added of the non-core part of each industry). Σ VA_s·min(k·p_s, 1)
    is continuous and increasing in k, so k is found by bisection (exact where no coefficient
    is capped, k = target·GDP / Σ VA_s·p_s).

    Returns (coefficients by sector, k). Applied to provinces, the national coefficients are the
    fallback of every province without its own.
    """
    p = profile.reindex(other_va.index).astype(float)
    if p.isna().any():
        missing = ", ".join(p[p.isna()].index)
        raise MethodError("PROFILE_MISSING", f"Hồ sơ số hóa thiếu các ngành {missing}.",
                          f"The digitalisation profile lacks industries {missing}.")
    if (p < 0).any():
        raise MethodError("PROFILE_NEGATIVE", "Hồ sơ số hóa có giá trị âm.", "The digitalisation profile has negative values.")
    goal = target_pct / 100.0 * denominator
    va = other_va.astype(float)
    cap = float(va[p > 0].sum())
    if goal < 0 or goal > cap + 1e-9:
        raise MethodError(
            "TARGET_UNREACHABLE",
            f"Tỷ trọng số hóa mục tiêu {target_pct}% không đạt được với hồ sơ này (tối đa {cap / denominator * 100:.2f}%).",
            f"The target digitalised share {target_pct}% cannot be reached with this profile (at most {cap / denominator * 100:.2f}%).",
        )

    def total(k: float) -> float:
        return float((va * np.minimum(p * k, 1.0)).sum())

    base = float((va * p).sum())
    k = goal / base if base > 0 else 0.0
    if (p * k > 1).any():  # some coefficients capped at 1: bisection on the monotone sum
        lo, hi = 0.0, k
        while total(hi) < goal:
            hi *= 2
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if total(mid) < goal else (lo, mid)
        k = hi
    return np.minimum(p * k, 1.0), k


# --- calibration against several published constraints --------------------------------------
#: Kinds of constraint of :func:`calibrate_to_constraints`: ``digitalised`` (Σ d_j·other_j, % of
#: GDP), ``points`` (core + digitalised of a cover, % of GDP; no cover: the DE share itself),
#: ``composition`` (the digital value added of a cover, % of the whole digital value added).
CONSTRAINT_KINDS: tuple[str, ...] = ("digitalised", "points", "composition")
CONSTRAINT_SENSES: tuple[str, ...] = ("=", ">=", "<=")
#: A constraint counts as met when its residual is within this (points of GDP, or percent of DE VA).
MET_TOL = 1e-6
_FEAS_TOL = 1e-9


@dataclass(frozen=True)
class Constraint:
    """One published figure the digital value added must meet (:func:`calibrate_to_constraints`)."""

    id: str
    kind: str                      #: one of :data:`CONSTRAINT_KINDS`
    target: float                  #: % of GDP (digitalised, points) or % of the DE value added (composition)
    cover: tuple[str, ...] = ()    #: section or division keys; () is the whole economy
    sense: str = "="               #: "=", ">=" or "<="
    tolerance: float = 0.0         #: an "=" is met anywhere in target ± tolerance (an approximate figure)
    weight: float = 1.0            #: weight of its squared residual in the least-squares compromise
    precision: float = 0.0         #: half a unit of the published figure's last digit (rounding)
    source: str = ""


@dataclass
class ConstrainedCalibration:
    coefficients: pd.Series        #: d_j by cell (sections; a division a constraint names, with non-core VA, on its own)
    k: float | None                #: the prior's scale (the one-total factor), None without a digitalised total
    table: pd.DataFrame            #: per constraint: target, achieved, residual, met, within_rounding, applied
    cells: pd.DataFrame            #: cell, section, other, core, profile, prior, coefficient
    feasible: bool                 #: every applied constraint met exactly
    warnings: list[dict] = field(default_factory=list)


def _prior(other: pd.Series, p: pd.Series, constraints: Sequence[Constraint],
           denominator: float) -> tuple[pd.Series, float | None]:
    """The scaled profile: today's one-total calibration when a digitalised total is given
    (:func:`calibrate_coefficients`), else the profile capped at 1."""
    total = [c for c in constraints if c.kind == "digitalised" and c.sense == "=" and not c.cover]
    if total:
        try:
            return calibrate_coefficients(other, p, denominator=denominator, target_pct=total[0].target)
        except MethodError as exc:
            if exc.code != "TARGET_UNREACHABLE" or len(constraints) == 1:
                raise
            return (p > 0).astype(float), None  # every profiled cell at its cap; the compromise says the rest
    scale = max(1.0, float(p.max())) if len(p) else 1.0
    return p / scale, None


def calibrate_to_constraints(pieces: pd.DataFrame, profile: pd.Series, constraints: Sequence[Constraint], *,
                             denominator: float) -> ConstrainedCalibration:
    """Coefficients d_j in [0, 1] as close as possible to the scaled profile that meet every
    published constraint on the digital value added (minimum-distance calibration).

    Anchor: Deville & Särndal (1992), *JASA* 87: 376–382, with the chi-square (linear) distance
    Σ_j other_j·(d_j − d⁰_j)² / d⁰_j, d⁰ the prior (:func:`calibrate_coefficients` on the
    digitalised total, else the profile), bounds 0 ≤ d_j ≤ 1. ``pieces``: the industry pieces of
    :func:`measure` (``core``, ``other``, ``section``, ``division``); a cell is a section, or a
    division some constraint names. A constraint's digital value added is
    core_cover + Σ_{j∈cover} d_j·other_j; every constraint is linear in d. Feasible: met exactly
    (SciPy SLSQP on the quadratic programme, then the KKT system on its active set). Not
    feasible: the weighted least-squares compromise (bounded least squares, ``lsq_linear``)
    and the closest coefficients meeting it, with a ``CALIBRATION_COMPROMISE`` warning. With the
    digitalised total alone the result is :func:`calibrate_coefficients`' (same k).
    """
    from scipy.optimize import lsq_linear, minimize  # noqa: PLC0415

    if not denominator > 0:
        raise MethodError("GRDP_NOT_POSITIVE", "GDP không dương.", "GDP is not positive.")
    bad = [c.id for c in constraints if c.kind not in CONSTRAINT_KINDS or c.sense not in CONSTRAINT_SENSES
           or not math.isfinite(c.target) or c.tolerance < 0 or not c.weight > 0
           or (c.kind == "composition" and not (0 <= c.target <= 100 and c.cover))]
    if bad or not constraints:
        raise MethodError("BAD_CONSTRAINT", f"Ràng buộc không hợp lệ hoặc không có: {', '.join(bad) or '—'}.",
                          f"Invalid or no constraints: {', '.join(bad) or '—'}.")
    pc = pieces[["core", "other", "section", "division"]].copy()
    pc[["core", "other"]] = pc[["core", "other"]].astype(float)
    named = {k for c in constraints for k in c.cover}
    div_other = pc.groupby("division").other.sum()
    split = {d for d in (named & set(pc.division)) - set(pc.section) if div_other[d] > 0}  # a division on its own
    pc["cell"] = pc.division.where(pc.division.isin(split), pc.section)
    cells = pc.groupby("cell").agg(section=("section", "first"), other=("other", "sum"), core=("core", "sum"))
    prof = pd.Series({j: profile.get(j, profile.get(cells.section[j], math.nan)) for j in cells.index}, dtype=float)
    if prof.isna().any():
        missing = ", ".join(prof[prof.isna()].index)
        raise MethodError("PROFILE_MISSING", f"Hồ sơ số hóa thiếu các ngành {missing}.",
                          f"The digitalisation profile lacks industries {missing}.")
    if (prof < 0).any():
        raise MethodError("PROFILE_NEGATIVE", "Hồ sơ số hóa có giá trị âm.", "The digitalisation profile has negative values.")
    warnings: list[dict] = []
    scale = 100.0 / denominator                     # value added → points of GDP
    member = {c.id: (pc.section.isin(c.cover) | pc.division.isin(c.cover)) if c.cover else pd.Series(True, index=pc.index)
              for c in constraints}
    applied = [c for c in constraints if member[c.id].any()]
    for c in constraints:
        if c not in applied:
            _warn(warnings, "CONSTRAINT_NOT_APPLICABLE",
                  f"Ràng buộc {c.id}: các ngành {', '.join(c.cover)} không có trong số liệu giá trị tăng thêm; bỏ qua.",
                  f"Constraint {c.id}: industries {', '.join(c.cover)} are not in the value-added data; left out.",
                  constraint=c.id)
    if not applied:
        raise MethodError("NO_CONSTRAINTS", "Không ràng buộc nào áp dụng được cho số liệu này.",
                          "No constraint applies to these data.")
    prior, k = _prior(cells.other, prof, applied, denominator)
    free = cells.index[(cells.other > 0) & (prior > 0)]
    fixed = prior.copy()  # cells without non-core value added, or with a zero profile, keep their prior
    o = cells.other.to_numpy(dtype=float) * scale
    idx = {j: i for i, j in enumerate(cells.index)}
    fi = np.array([idx[j] for j in free], dtype=int)
    fixed_mask = np.ones(len(cells), bool)
    fixed_mask[fi] = False
    core_total = float(pc.core.sum()) * scale

    def cover_parts(c: Constraint) -> tuple[np.ndarray, float]:
        m = member[c.id]
        oc = pc[m].groupby("cell").other.sum().reindex(cells.index, fill_value=0.0).to_numpy(dtype=float) * scale
        return oc, float(pc.core[m].sum()) * scale

    # every constraint as rows a·d (sense) b over all cells; fixed cells move to b below
    rows: list[tuple[str, np.ndarray, float, str, float]] = []  # (id, a, b, sense, weight)
    for c in applied:
        oc, core_c = cover_parts(c)
        bands = ([("=", c.target)] if c.sense == "=" and c.tolerance == 0 else
                 [(">=", c.target - c.tolerance), ("<=", c.target + c.tolerance)] if c.sense == "=" else
                 [(c.sense, c.target)])
        for sense, t in bands:
            if c.kind == "composition":
                s = t / 100.0
                a, b = oc - s * o, s * core_total - core_c
            elif c.kind == "points":
                a, b = oc, t - core_c
            else:
                a, b = oc, t
            rows.append((c.id, a, b, sense, c.weight))
        if c.kind == "points" and c.sense != ">=" and core_c > c.target + c.tolerance + _FEAS_TOL:
            _warn(warnings, "CORE_ABOVE_TARGET",
                  f"Ràng buộc {c.id}: riêng kinh tế số lõi đã là {core_c:.4f} điểm % GDP, lớn hơn số công bố {c.target}.",
                  f"Constraint {c.id}: the core alone is {core_c:.4f} points of GDP, above the published {c.target}.",
                  constraint=c.id)
    A_all = np.array([r[1] for r in rows])
    b_all = np.array([r[2] for r in rows]) - A_all[:, fixed_mask] @ fixed.to_numpy(dtype=float)[fixed_mask]
    A = A_all[:, fi]
    senses = [r[3] for r in rows]
    w = np.sqrt(np.array([r[4] for r in rows]))
    # phase 1: the weighted least-squares compromise over the box (inequalities through slacks ≥ 0)
    ineq = [i for i, s in enumerate(senses) if s != "="]
    S = np.zeros((len(rows), len(ineq)))
    for col, i in enumerate(ineq):
        S[i, col] = -1.0 if senses[i] == ">=" else 1.0
    M = np.hstack([A, S]) * w[:, None]
    lb = np.zeros(M.shape[1])
    ub = np.concatenate([np.ones(len(fi)), np.full(len(ineq), np.inf)])
    if M.shape[1]:
        sol = lsq_linear(M, b_all * w, bounds=(lb, ub), method="bvls", tol=1e-14)
        z = sol.x
    else:
        z = np.zeros(0)
    resid = np.hstack([A, S]) @ z - b_all if M.shape[1] else -b_all
    feasible = bool(np.max(np.abs(resid), initial=0.0) <= _FEAS_TOL)
    b_eff = b_all if feasible else b_all + resid
    x0 = np.clip(z[:len(fi)], 0.0, 1.0)
    # phase 2: the closest coefficients to the prior meeting b_eff (a strictly convex QP)
    p0 = prior.to_numpy(dtype=float)[fi]
    q = o[fi] / p0 if len(fi) else np.zeros(0)
    x = _closest(A, b_eff, senses, p0, q, x0, minimize) if len(fi) else x0
    d = prior.copy()
    d.iloc[fi] = x
    d = d.clip(0.0, 1.0)
    table = _constraint_table(applied, constraints, pc, member, d, denominator)
    unmet = table[table.applied & ~table.met]
    if len(unmet):
        feasible = False
        within = bool(unmet.within_rounding.all())
        listing = "; ".join(f"{r.id}: {r.target:g} → {r.achieved:.4f}" for r in unmet.itertuples())
        _warn(warnings, "CALIBRATION_COMPROMISE",
              f"Các ràng buộc không thỏa mãn đồng thời được với số liệu này; dùng nghiệm bình phương tối thiểu có trọng số "
              f"({listing}){'; mọi sai lệch nằm trong sai số làm tròn của số công bố' if within else ''}.",
              f"The constraints cannot all be met with these data; the weighted least-squares compromise is used "
              f"({listing}){'; every residual is within the rounding of the published figures' if within else ''}.",
              constraints=list(unmet.id), within_rounding=within)
    cells_out = pd.DataFrame({"cell": cells.index, "section": cells.section.values, "other": cells.other.values,
                              "core": cells.core.values, "profile": prof.values, "prior": prior.values,
                              "coefficient": d.values})
    return ConstrainedCalibration(d, k, table, cells_out, feasible, warnings)


def _closest(A: np.ndarray, b: np.ndarray, senses: list[str], p0: np.ndarray, q: np.ndarray, x0: np.ndarray,
             minimize) -> np.ndarray:
    """argmin ½Σ q_j (x_j − p0_j)² over 0 ≤ x ≤ 1 subject to A x (senses) b: SLSQP, then the exact
    solution of the KKT system on the active set SLSQP found (kept when it is feasible and no worse)."""
    eq = [i for i, s in enumerate(senses) if s == "="]
    keep: list[int] = []
    for i in eq:  # independent equations only (a consistent set may repeat one: total = Σ groups)
        if np.linalg.matrix_rank(A[keep + [i]], tol=1e-10) == len(keep) + 1:
            keep.append(i)
    sign = np.array([1.0 if s == ">=" else -1.0 for s in senses])
    cons = []
    if keep:
        cons.append({"type": "eq", "fun": lambda x: A[keep] @ x - b[keep], "jac": lambda x: A[keep]})
    ge = [i for i, s in enumerate(senses) if s != "="]
    if ge:
        cons.append({"type": "ineq", "fun": lambda x: sign[ge] * (A[ge] @ x - b[ge]),
                     "jac": lambda x: sign[ge][:, None] * A[ge]})

    def f(x):
        r = x - p0
        return 0.5 * float(q @ (r * r)), q * r

    res = minimize(f, x0, jac=True, method="SLSQP", bounds=[(0.0, 1.0)] * len(p0), constraints=cons,
                   options={"ftol": 1e-15, "maxiter": 1000})
    xs = np.clip(res.x, 0.0, 1.0)

    def worst(x):
        v = A @ x - b
        return max(np.max(np.abs(v[keep]), initial=0.0), np.max(-sign[ge] * v[ge], initial=0.0) if ge else 0.0)

    # polish: on SLSQP's active set the QP is an equality-constrained least squares, solved exactly
    lo, hi = xs <= 1e-10, xs >= 1 - 1e-10
    fr = ~(lo | hi)
    act = keep + [i for i in ge if abs(A[i] @ xs - b[i]) <= 1e-9]
    xp = np.where(hi, 1.0, np.where(lo, 0.0, xs))
    if fr.any():
        Af = A[act][:, fr]
        rhs = b[act] - A[act][:, hi].sum(axis=1) if act else np.zeros(0)
        xp[fr] = p0[fr]
        if act:
            Q = 1.0 / q[fr]
            lam = np.linalg.lstsq((Af * Q) @ Af.T, rhs - Af @ p0[fr], rcond=None)[0]
            xp[fr] = p0[fr] + Q * (Af.T @ lam)
    ok = (xp >= -1e-12).all() and (xp <= 1 + 1e-12).all()
    xp = np.clip(xp, 0.0, 1.0)
    if ok and worst(xp) <= max(worst(xs), 1e-11) and f(xp)[0] <= f(xs)[0] + 1e-12:
        return xp
    return xs


def _constraint_table(applied, constraints, pc, member, d: pd.Series, denominator: float) -> pd.DataFrame:
    """Each constraint's target, achieved value and residual (its own unit) under coefficients ``d``."""
    dig = pc.other * pc.cell.map(d).astype(float)
    de_total = float(pc.core.sum() + dig.sum())
    out = []
    for c in constraints:
        on = c in applied
        achieved = math.nan
        if on:
            m = member[c.id]
            if c.kind == "digitalised":
                achieved = float(dig[m].sum()) / denominator * 100.0
            elif c.kind == "points":
                achieved = float(pc.core[m].sum() + dig[m].sum()) / denominator * 100.0
            else:
                achieved = float(pc.core[m].sum() + dig[m].sum()) / de_total * 100.0 if de_total > 0 else math.nan
        lo, hi = ((c.target - c.tolerance, c.target + c.tolerance) if c.sense == "=" else
                  (c.target, math.inf) if c.sense == ">=" else (-math.inf, c.target))
        residual = (achieved - hi if achieved > hi else achieved - lo if achieved < lo else 0.0) if on else math.nan
        out.append({"id": c.id, "kind": c.kind, "cover": "+".join(c.cover) or "_T", "sense": c.sense,
                    "target": c.target, "tolerance": c.tolerance,
                    "unit": "PCT_DE" if c.kind == "composition" else "PCT_GDP", "achieved": achieved,
                    "residual": residual, "applied": on,
                    "met": bool(on and abs(residual) <= MET_TOL),
                    "within_rounding": bool(on and abs(residual) <= c.precision + MET_TOL),
                    "weight": c.weight, "source": c.source})
    return pd.DataFrame(out)
