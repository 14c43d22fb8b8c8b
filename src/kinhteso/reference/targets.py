"""The target registry: published digital-economy targets, each with its source and confidence.

The shipped registry is ``data/targets.yaml`` (national: Decision 411/QĐ-TTg, Resolution
57-NQ/TW, Resolution 71/NQ-CP; Ho Chi Minh City; Hải Phòng's Plan 106/KH-UBND). A workspace adds
its own with a ``targets.yaml`` of the same shape (or ``kinhteso target add``); a workspace
target with the same (territory, indicator, year) as a shipped one replaces it and is marked
``origin = workspace``.

An indicator of a target is either a registry code (``DE_SHARE``, ``SME_PLATFORM_SHARE``) or a
*derived* indicator of :data:`DERIVED` (a ratio of two registry indicators), declared once here.

Every target also carries the series it was set on (docs/targets.md, "Basis and boundary"):
``basis``, the indicator whose figures the administration had in view (``DE_SHARE``, the NSO
statistic; ``DE_SHARE_MIC``, the ministry's published estimates; or a province's own series
declared in the workspace), and ``boundary``, the territory key of that series (``63:79``, the
city before the 2025 merger). Both default to the target's own indicator and territory. A
boundary other than the territory is a target carried over across the merger
(``carried_over: true``), measured on its successor only through the explicit conversion of
:data:`BOUNDARY_CONVERSION`.

>>> t = [x for x in load_targets() if x.territory == "63:79" and x.year == 2025 and x.indicator == "DE_SHARE"][0]
>>> t.value, t.unit, t.comparison, t.direction, t.basis, t.boundary
(25.0, 'PCT', '>=', 'higher', 'DE_SHARE_MIC', '63:79')
>>> DERIVED["ECOMMERCE_SHARE"].numerator, DERIVED["ECOMMERCE_SHARE"].scale
('ECOMMERCE_RETAIL', 100.0)
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from kinhteso.errors import ReferenceDataError
from kinhteso.reference import territories as terr
from kinhteso.reference.indicators import Indicator, load_indicators

__all__ = ["Derived", "DERIVED", "Target", "COMPARISONS", "DIRECTIONS", "CONFIDENCE", "load_targets",
           "indicator_unit", "indicator_bounds", "indicator_name", "write_workspace_target", "WORKSPACE_FILE",
           "BASIS_LABELS", "basis_label", "BOUNDARY_CONVERSION", "SECTORAL", "EACH_SECTION", "section_name"]

_SHIPPED = "targets.yaml"
WORKSPACE_FILE = "targets.yaml"


@dataclass(frozen=True)
class Derived:
    """A derived indicator: ``numerator / denominator × scale`` of two registry indicators,
    computed per period from their totals (flows summed over the months of a year)."""

    code: str
    numerator: str
    denominator: str
    scale: float
    unit: str
    name_vi: str
    name_en: str
    min: float | None
    max: float | None


#: Derived indicators, the one place they are declared (QĐ 1354/QĐ-BTTTT and QĐ 411/QĐ-TTg name
#: them; MIC publishes digital-technology firms per 1,000 people).
DERIVED: dict[str, Derived] = {
    "ECOMMERCE_SHARE": Derived("ECOMMERCE_SHARE", "ECOMMERCE_RETAIL", "RETAIL_SALES", 100.0, "PCT",
                               "Tỷ trọng thương mại điện tử trong tổng mức bán lẻ",
                               "E-commerce share of total retail sales", 0.0, 100.0),
    "DIGITAL_FIRMS_PER_1000": Derived("DIGITAL_FIRMS_PER_1000", "DIGITAL_FIRMS", "POPULATION", 1000.0, "PER_1000",
                                      "Số doanh nghiệp công nghệ số trên 1.000 dân",
                                      "Digital-technology enterprises per 1,000 people", 0.0, None),
}
#: comparison → (direction it implies, vi, en)
COMPARISONS: dict[str, tuple[str, str, str]] = {
    ">=": ("higher", "tối thiểu", "at least"),
    ">": ("higher", "trên", "above"),
    "<=": ("lower", "tối đa", "at most"),
    "<": ("lower", "dưới", "below"),
}
DIRECTIONS = ("higher", "lower")
CONFIDENCE = ("high", "medium", "low")
_FIELDS = ("territory", "indicator", "year", "value", "unit", "comparison", "direction", "source", "url",
           "confidence")
_OPTIONAL = ("carried_over", "note", "basis", "boundary", "sector")

#: Indicators measured within each VSIC section (one series per section): a target on one of
#: them names its ``sector``: a section letter, or :data:`EACH_SECTION` (``*``: the same figure
#: for every section, as Decision 411/QĐ-TTg's "≥ 10% in each sector"). Every other target is
#: on the whole economy (``_T``).
SECTORAL: dict[str, str] = {"DE_SHARE_SECTOR": "section"}
EACH_SECTION = "*"

#: What each digital-economy basis is (vi, en): the label every cross-basis warning names.
BASIS_LABELS: dict[str, tuple[str, str]] = {
    "DE_SHARE": ("số thống kê chính thức của Cục Thống kê (GSO/NSO): lõi + số hóa các ngành khác",
                 "the official statistic of the statistics office (GSO/NSO): core + digitalisation of other industries"),
    "DE_SHARE_MIC": ("ước tính do Bộ TT&TT (nay Bộ KH&CN) công bố: KTS ICT + nền tảng + ngành, từ doanh thu thuế và mô hình",
                     "the estimates published by MIC (now MOST): ICT + platform + sectoral, from tax revenue and a model"),
}

#: The one conversion of a target across the 2025 merger (docs/targets.md, "Boundary
#: conversion"): the value set for the old boundary is carried over, unchanged, to the territory
#: that holds the target now, and measured on that territory's series. It is a policy reading
#: (the new administration holds itself to the old figure), not a statistical equivalence:
#: a share on a larger area is a value-added-weighted mean of its parts.
BOUNDARY_CONVERSION = ("carry_over",
                       ("giữ nguyên giá trị mục tiêu của ranh giới cũ và đo trên chuỗi của địa bàn mới "
                        "(cách đọc chính sách, không phải quy đổi thống kê)"),
                       ("the old boundary's target value carried over unchanged and measured on the new territory's "
                        "series (a policy reading, not a statistical equivalence)"))


def basis_label(code: str, lang: str = "en") -> str:
    """What the basis ``code`` is, in ``lang`` (a code without a label: the code itself)."""
    vi, en = BASIS_LABELS.get(code, (f"chuỗi {code}", f"the series {code}"))
    return vi if lang == "vi" else en


@dataclass(frozen=True)
class Target:
    """One target: ``indicator`` of ``territory`` should be ``comparison value`` in ``year``."""

    territory: str
    indicator: str
    year: int
    value: float
    unit: str
    comparison: str
    direction: str
    source: str
    url: str
    confidence: str
    carried_over: bool = False
    note: str = ""
    basis: str = ""       #: the indicator of the series the target was set on (default: ``indicator``)
    boundary: str = ""    #: the territory key of that series (default: ``territory``)
    origin: str = field(default="shipped", compare=False)
    #: the section the target is for: ``*`` (each section) or a section letter for a
    #: :data:`SECTORAL` indicator (default ``*``), ``_T`` (the whole economy) for any other
    sector: str = ""

    def __post_init__(self) -> None:
        if not self.basis:
            object.__setattr__(self, "basis", self.indicator)
        if not self.boundary:
            object.__setattr__(self, "boundary", self.territory)
        if not self.sector:
            object.__setattr__(self, "sector", EACH_SECTION if self.indicator in SECTORAL else "_T")

    @property
    def key(self) -> tuple:
        """(territory, indicator, year, basis): one target per basis, so that a territory may hold
        a figure on the official statistic beside one set on another series; a target within
        sections adds its ``sector`` (one for each section beside one for a single section)."""
        base = (self.territory, self.indicator, self.year, self.basis)
        return base if self.sector == "_T" else (*base, self.sector)

    @property
    def converted(self) -> bool:
        """True when the target was set on another boundary than the territory holding it."""
        return self.boundary != self.territory

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def indicator_unit(code: str, indicators: dict[str, Indicator] | None = None) -> tuple[str, ...]:
    """The units an indicator (registry or derived) is measured in; raises ``UNKNOWN_INDICATOR``."""
    if code in DERIVED:
        return (DERIVED[code].unit,)
    reg = indicators if indicators is not None else load_indicators()
    if code in reg:
        return reg[code].units
    known = sorted([*reg, *DERIVED])
    raise ReferenceDataError(
        "UNKNOWN_INDICATOR",
        f"Chỉ tiêu '{code}' không có trong danh mục hay trong các chỉ tiêu dẫn xuất; dùng một trong {known}.",
        f"Indicator '{code}' is neither in the registry nor a derived indicator; use one of {known}.",
        indicator=code)


def indicator_bounds(code: str, indicators: dict[str, Indicator] | None = None) -> tuple[float | None, float | None]:
    if code in DERIVED:
        return DERIVED[code].min, DERIVED[code].max
    reg = indicators if indicators is not None else load_indicators()
    return reg[code].min, reg[code].max


def indicator_name(code: str, lang: str, indicators: dict[str, Indicator] | None = None) -> str:
    if code in DERIVED:
        d = DERIVED[code]
        return d.name_vi if lang == "vi" else d.name_en
    reg = indicators if indicators is not None else load_indicators()
    ind = reg.get(code)
    if ind is None:
        return code
    return ind.name_vi if lang == "vi" else ind.name_en


def section_name(code: str, lang: str = "vi") -> str:
    """The name of the VSIC section ``code`` in ``lang`` (``*``: "each section")."""
    if code == EACH_SECTION:
        return "mỗi ngành (cấp 1)" if lang == "vi" else "each section"
    from kinhteso.reference import vsic  # noqa: PLC0415

    s = vsic.get_sector(code)
    return s.name_vi if lang == "vi" else s.name_en


def _sections() -> tuple[str, ...]:
    from kinhteso.reference import vsic  # noqa: PLC0415

    return tuple(s.code for s in vsic.sectors() if s.level == "section")


def _bad(file: str, entry: int, vi: str, en: str, code: str = "TARGET_INVALID") -> ReferenceDataError:
    return ReferenceDataError(code, f"Tệp mục tiêu {file}, mục {entry}: {vi}", f"Target file {file}, entry {entry}: {en}",
                              file=file, entry=entry)


def make_target(entry: dict[str, Any], *, file: str = "-", index: int = 1, origin: str = "shipped",
                indicators: dict[str, Indicator] | None = None) -> Target:
    """Validate one entry (a dict of the YAML fields) and return the :class:`Target`.

    Checks: every field present, no unknown field; a known territory key; a known indicator;
    the unit is the indicator's; the comparison is one of ``>=, >, <=, <`` and agrees with the
    direction; the value is finite and inside the indicator's range; the year is 2000–2100.
    """
    if not isinstance(entry, dict):
        raise _bad(file, index, "không phải một bảng khóa: giá trị", "is not a mapping of key: value")
    missing = [k for k in _FIELDS if k not in entry or entry[k] is None or entry[k] == ""]
    if missing:
        raise _bad(file, index, f"thiếu trường {missing}", f"lacks the field(s) {missing}", "TARGET_FIELD_MISSING")
    extra = sorted(str(k) for k in entry if k not in (*_FIELDS, *_OPTIONAL))
    if extra:
        raise _bad(file, index, f"trường không biết {extra}; hợp lệ: {[*_FIELDS, *_OPTIONAL]}",
                   f"unknown field(s) {extra}; valid: {[*_FIELDS, *_OPTIONAL]}", "TARGET_FIELD_UNKNOWN")
    key = str(entry["territory"]).strip()
    try:
        terr.get_territory(key)
    except ReferenceDataError as exc:
        raise _bad(file, index, exc.vi, exc.en, "UNKNOWN_TERRITORY") from exc
    ind = str(entry["indicator"]).strip()
    try:
        units = indicator_unit(ind, indicators)
    except ReferenceDataError as exc:
        raise _bad(file, index, exc.vi, exc.en, "UNKNOWN_INDICATOR") from exc
    unit = str(entry["unit"]).strip()
    if unit not in units:
        raise _bad(file, index, f"đơn vị {unit} khác đơn vị của chỉ tiêu {ind} ({', '.join(units)}); "
                   "hãy đổi mục tiêu sang đơn vị của chỉ tiêu",
                   f"unit {unit} is not the unit of {ind} ({', '.join(units)}); express the target in the "
                   "indicator's unit", "TARGET_UNIT_MISMATCH")
    comp = str(entry["comparison"]).strip().replace("≥", ">=").replace("≤", "<=")
    if comp not in COMPARISONS:
        raise _bad(file, index, f"phép so sánh '{comp}' không có; dùng một trong {list(COMPARISONS)}",
                   f"comparison '{comp}' is unknown; use one of {list(COMPARISONS)}", "TARGET_BAD_COMPARISON")
    direction = str(entry["direction"]).strip()
    if direction not in DIRECTIONS:
        raise _bad(file, index, f"hướng '{direction}' không có; dùng higher hoặc lower",
                   f"direction '{direction}' is unknown; use higher or lower", "TARGET_BAD_DIRECTION")
    if COMPARISONS[comp][0] != direction:
        raise _bad(file, index, f"phép so sánh '{comp}' mâu thuẫn với hướng '{direction}' (cao hơn là tốt cần >= hoặc >; "
                   "thấp hơn là tốt cần <= hoặc <)",
                   f"comparison '{comp}' contradicts direction '{direction}' (higher is better needs >= or >; "
                   "lower is better needs <= or <)", "TARGET_BAD_DIRECTION")
    value = entry["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _bad(file, index, f"giá trị phải là một số hữu hạn, nhận {value!r}",
                   f"value must be a finite number, got {value!r}", "TARGET_BAD_VALUE")
    lo, hi = indicator_bounds(ind, indicators)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise _bad(file, index, f"giá trị {value:g} nằm ngoài khoảng của {ind} [{lo}, {hi}]",
                   f"value {value:g} is outside the range of {ind} [{lo}, {hi}]", "TARGET_BAD_VALUE")
    year = entry["year"]
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise _bad(file, index, f"năm phải là số nguyên 2000–2100, nhận {year!r}",
                   f"year must be an integer 2000–2100, got {year!r}", "TARGET_BAD_YEAR")
    conf = str(entry["confidence"]).strip()
    if conf not in CONFIDENCE:
        raise _bad(file, index, f"độ tin cậy '{conf}' không có; dùng {list(CONFIDENCE)}",
                   f"confidence '{conf}' is unknown; use {list(CONFIDENCE)}")
    carried = entry.get("carried_over", False)
    if not isinstance(carried, bool):
        raise _bad(file, index, "carried_over phải là true hoặc false", "carried_over must be true or false")
    basis = str(entry.get("basis") or ind).strip()
    if basis != ind:
        try:
            basis_units = indicator_unit(basis, indicators)
        except ReferenceDataError as exc:
            raise _bad(file, index, f"cơ sở (basis) {basis}: {exc.vi}", f"basis {basis}: {exc.en}",
                       "TARGET_BAD_BASIS") from exc
        if unit not in basis_units:
            raise _bad(file, index, f"cơ sở {basis} đo bằng {', '.join(basis_units)}, không phải {unit} như mục tiêu",
                       f"the basis {basis} is measured in {', '.join(basis_units)}, not in the target's unit {unit}",
                       "TARGET_BAD_BASIS")
    boundary = str(entry.get("boundary") or key).strip()
    if boundary != key:
        try:
            terr.get_territory(boundary)
        except ReferenceDataError as exc:
            raise _bad(file, index, f"ranh giới (boundary): {exc.vi}", f"boundary: {exc.en}", "TARGET_BAD_BOUNDARY") from exc
        related = key.startswith("34:") and boundary in terr.predecessors_of(key)
        if not related:
            raise _bad(file, index, f"ranh giới {boundary} không phải một tỉnh cũ (63) hợp thành {key}; một mục tiêu chỉ "
                       "được chuyển qua đợt sáp nhập 2025, từ tỉnh cũ sang tỉnh mới",
                       f"boundary {boundary} is not an old (63-basis) province of {key}; a target moves only across the "
                       "2025 merger, from an old province to its successor", "TARGET_BAD_BOUNDARY")
        if not carried:
            raise _bad(file, index, f"mục tiêu đặt cho {boundary} mà thuộc {key} phải ghi carried_over: true "
                       "(chuyển giữ nguyên giá trị, docs/targets.md)",
                       f"a target set for {boundary} and held by {key} must say carried_over: true "
                       "(carried over unchanged, docs/targets.md)", "TARGET_BAD_BOUNDARY")
    sector = str(entry.get("sector") or (EACH_SECTION if ind in SECTORAL else "_T")).strip()
    if ind in SECTORAL:
        sections = _sections()
        if sector != EACH_SECTION and sector not in sections:
            raise _bad(file, index, f"ngành '{sector}' không hợp lệ cho {ind}: dùng '*' (mỗi ngành cấp 1) hoặc một mã "
                       f"ngành cấp 1 VSIC 2018 ({', '.join(sections)})",
                       f"sector '{sector}' is not valid for {ind}: use '*' (each section) or a VSIC 2018 section "
                       f"letter ({', '.join(sections)})", "TARGET_BAD_SECTOR")
    elif sector != "_T":
        raise _bad(file, index, f"chỉ tiêu {ind} đo trên toàn nền kinh tế; trường sector chỉ dùng cho "
                   f"{', '.join(SECTORAL)}",
                   f"the indicator {ind} is measured on the whole economy; the sector field is for "
                   f"{', '.join(SECTORAL)} only", "TARGET_BAD_SECTOR")
    return Target(territory=key, indicator=ind, year=int(year), value=float(value), unit=unit, comparison=comp,
                  direction=direction, source=str(entry["source"]).strip(), url=str(entry["url"]).strip(),
                  confidence=conf, carried_over=carried, note=str(entry.get("note") or ""), basis=basis,
                  boundary=boundary, origin=origin, sector=sector)


def _parse(text: str, file: str, origin: str, indicators: dict[str, Indicator] | None) -> list[Target]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ReferenceDataError("TARGET_FILE_UNREADABLE", f"Tệp mục tiêu {file}: không đọc được YAML ({exc})",
                                 f"Target file {file}: not readable as YAML ({exc})", file=file) from exc
    if doc is None:
        return []
    entries = doc.get("targets") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ReferenceDataError("TARGET_FILE_INVALID", f"Tệp mục tiêu {file}: cần khóa 'targets:' chứa một danh sách",
                                 f"Target file {file}: expected a key 'targets:' holding a list", file=file)
    out: list[Target] = []
    seen: set[tuple] = set()
    for i, e in enumerate(entries, start=1):
        t = make_target(e, file=file, index=i, origin=origin, indicators=indicators)
        if t.key in seen:
            raise _bad(file, i, f"mục tiêu {t.key} xuất hiện hai lần", f"target {t.key} appears twice", "TARGET_DUPLICATE")
        seen.add(t.key)
        out.append(t)
    return out


@lru_cache(maxsize=1)
def _shipped() -> tuple[Target, ...]:
    text = resources.files("kinhteso.reference").joinpath("data", _SHIPPED).read_text(encoding="utf-8")
    return tuple(_parse(text, _SHIPPED, "shipped", None))


def load_targets(extra_yaml: Path | None = None, *, indicators: dict[str, Indicator] | None = None) -> list[Target]:
    """Shipped targets, with a workspace file's targets added (a same-key one replaces the shipped).

    Raises ``ReferenceDataError`` naming the file and the entry for an unknown territory or
    indicator, a unit other than the indicator's, a bad comparison, value or year.
    """
    registry = {t.key: t for t in _shipped()}
    if extra_yaml is not None and Path(extra_yaml).exists():
        path = Path(extra_yaml)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ReferenceDataError("TARGET_FILE_UNREADABLE", f"Không mở được tệp mục tiêu {path} ({exc})",
                                     f"Cannot open the target file {path} ({exc})", file=str(path)) from exc
        for t in _parse(text, str(path), "workspace", indicators):
            registry[t.key] = t
    return sorted(registry.values(), key=lambda t: (t.territory != "VN", t.territory, t.indicator, t.year, t.sector))


def write_workspace_target(path: Path, target: Target, *, indicators: dict[str, Indicator] | None = None) -> None:
    """Add (or replace) ``target`` in the workspace file at ``path``; the file is re-validated
    whole and written to a temporary file then renamed, so a failure leaves it as it was."""
    path = Path(path)
    existing: list[dict] = []
    if path.exists():
        for t in _parse(path.read_text(encoding="utf-8"), str(path), "workspace", indicators):
            if t.key != target.key:
                existing.append(_entry(t))
    existing.append(_entry(target))
    text = ("# Mục tiêu của không gian làm việc / workspace targets (format: docs/targets.md)\n"
            + yaml.safe_dump({"targets": existing}, allow_unicode=True, sort_keys=False))
    _parse(text, str(path), "workspace", indicators)  # the file as it will be, checked before writing
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".targets.", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _entry(t: Target) -> dict[str, Any]:
    d = {k: getattr(t, k) for k in _FIELDS}
    if t.carried_over:
        d["carried_over"] = True
    if t.note:
        d["note"] = t.note
    if t.basis != t.indicator:
        d["basis"] = t.basis
    if t.boundary != t.territory:
        d["boundary"] = t.boundary
    if t.sector != "_T":
        d["sector"] = t.sector
    return d
