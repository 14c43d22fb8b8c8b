"""The indicator registry: what each indicator code means, its units, range and frequencies.

The shipped registry is ``data/indicators.yaml``; a workspace adds its own indicators with a
YAML file of the same shape (see docs/reference-data.md). A workspace file may add codes but
never redefine a shipped one, and each entry is checked like the shipped ones: known units, a
sensible range, known frequencies, every field present.

>>> reg = load_indicators()
>>> reg["DIGITAL_COEF"].units, reg["DIGITAL_COEF"].max
(('RATIO',), 1.0)
>>> reg["GRDP_VA"].additive
True
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from kinhteso.errors import ReferenceDataError

__all__ = [
    "UNITS",
    "UNIT_PRECISION",
    "unit_precision",
    "FREQUENCIES",
    "SECTOR_KINDS",
    "SECTOR_KIND_FRAMEWORKS",
    "sector_codes",
    "Indicator",
    "load_indicators",
    "indicator_table",
]

#: Unit code → (Vietnamese name, English name).
UNITS: dict[str, tuple[str, str]] = {
    "VND_BN": ("tỷ đồng", "billion đồng"),
    "PCT": ("phần trăm (%)", "percent (%)"),
    "RATIO": ("tỷ lệ (0–1)", "ratio (0–1)"),
    "COUNT": ("số lượng", "count"),
    "PERSONS": ("người", "persons"),
    "TEU": ("TEU (container 20 feet)", "TEU (twenty-foot equivalent units)"),
    "INDEX01": ("điểm chỉ số (0–1)", "index score (0–1)"),
    "INDEX": ("chỉ số (năm gốc = 100)", "index (base year = 100)"),
    "HOURS": ("giờ", "hours"),
    "TEU_H": ("TEU mỗi giờ nằm cầu", "TEU per berth hour"),
}
#: Unit code → decimals shown in CSV/XLSX output (values are rounded to them; JSON keeps full precision).
UNIT_PRECISION: dict[str, int] = {
    "VND_BN": 1, "PCT": 2, "RATIO": 4, "COUNT": 0, "PERSONS": 0, "TEU": 0, "INDEX01": 4, "INDEX": 2, "HOURS": 1, "TEU_H": 1,
}


def unit_precision(unit: str | None) -> int | None:
    """Decimals a value in ``unit`` is written with in CSV/XLSX output; ``None`` (not rounded) for
    an unknown or missing unit.

    >>> unit_precision("PCT"), unit_precision("VND_BN"), unit_precision(None)
    (2, 1, None)
    """
    return UNIT_PRECISION.get(unit) if isinstance(unit, str) else None


#: Units whose values can never leave a fixed interval; an indicator in them must state a range inside it.
_UNIT_BOUNDS: dict[str, tuple[float, float]] = {"RATIO": (0.0, 1.0), "INDEX01": (0.0, 1.0)}
#: Units of shares and scores: an indicator measured in them cannot be additive.
_NON_ADDITIVE_UNITS = frozenset({"PCT", "RATIO", "INDEX01", "INDEX"})
#: Frequency code → (vi, en), in canonical order (SDMX FREQ: annual, quarterly, monthly).
FREQUENCIES: dict[str, tuple[str, str]] = {"A": ("năm", "annual"), "Q": ("quý", "quarterly"), "M": ("tháng", "monthly")}
#: What the sector dimension of an indicator's observations holds.
SECTOR_KINDS: dict[str, tuple[str, str]] = {
    "vsic": ("mã ngành VSIC (2018, hoặc 2025 theo --vsic / cột vsic_version) bất kỳ cấp nào, hoặc '_T' (tổng)",
             "a VSIC code (2018, or 2025 by --vsic / a vsic_version column) at any level, or '_T' (total)"),
    "total": ("chỉ '_T' (tổng, không chia theo ngành)", "'_T' only (total, no industry breakdown)"),
    "dti_main_index": ("mã chỉ số chính của DTI", "a DTI main-index code"),
    "dti_component": ("mã chỉ số thành phần của DTI (theo khung của năm đánh giá)",
                      "a DTI component code (of the assessment year's framework)"),
}
#: Sector kinds whose codes are a closed list, and the frameworks (``data/frameworks/<id>.yaml``)
#: whose indicators make that list: a DTI main index is one of the DTI framework's main indices
#: (the indicator ``DTI_MAIN_INDEX`` stores each in its sector dimension). Add a framework id here
#: when a new DTI year ships with codes of its own. ``vsic`` and ``total`` are checked against
#: the row's VSIC version (2018 or 2025) and ``_T``. ``dti_component`` is open (any code): no shipped framework lists its
#: components yet (the 47 of Decision 405 are not in the sources found); scoring reads only the
#: component codes its framework declares.
SECTOR_KIND_FRAMEWORKS: dict[str, tuple[str, ...]] = {"dti_main_index": ("dti2022", "dti2024")}
#: YAML field → Indicator field (the YAML says ``sector``; the dataclass ``sector_kind``).
_YAML_FIELDS = {
    "code": "code",
    "name_vi": "name_vi",
    "name_en": "name_en",
    "units": "units",
    "additive": "additive",
    "min": "min",
    "max": "max",
    "frequencies": "frequencies",
    "sector": "sector_kind",
    "description_vi": "description_vi",
    "description_en": "description_en",
    "source": "source",
}
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
_SHIPPED = "indicators.yaml"


def _invalid(code: str, what: str, vi: str, en: str) -> ReferenceDataError:
    return ReferenceDataError(code, f"Chỉ tiêu {what}: {vi}", f"Indicator {what}: {en}", indicator=what)


@dataclass(frozen=True)
class Indicator:
    """One indicator of the registry (lists given as lists are stored as tuples)."""

    code: str
    name_vi: str
    name_en: str
    units: tuple[str, ...]
    additive: bool
    min: float | None
    max: float | None
    frequencies: tuple[str, ...]
    sector_kind: str
    description_vi: str
    description_en: str
    source: str

    def __post_init__(self) -> None:
        what = repr(self.code)
        if not isinstance(self.code, str) or not _CODE_RE.match(self.code):
            raise _invalid("INDICATOR_INVALID", what,
                           "mã phải là chữ IN HOA, chữ số hoặc '_' và bắt đầu bằng chữ (ví dụ 'GRDP_VA')",
                           "the code must be UPPER-case letters, digits or '_' starting with a letter (e.g. 'GRDP_VA')")
        for name in ("name_vi", "name_en", "description_vi", "description_en", "source"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise _invalid("INDICATOR_INVALID", what, f"{name} phải là một đoạn chữ không rỗng",
                               f"{name} must be a non-empty text")
        # --- units ---
        units = (self.units,) if isinstance(self.units, str) else tuple(self.units or ())
        if not units:
            raise _invalid("INDICATOR_INVALID", what, "cần ít nhất một đơn vị", "at least one unit is needed")
        unknown = [u for u in units if u not in UNITS]
        if unknown:
            raise _invalid("INDICATOR_UNKNOWN_UNIT", what,
                           f"đơn vị {unknown} không có; dùng một trong {list(UNITS)}",
                           f"unit(s) {unknown} unknown; use one of {list(UNITS)}")
        if len(set(units)) != len(units):
            raise _invalid("INDICATOR_INVALID", what, "đơn vị bị lặp", "a unit is listed twice")
        object.__setattr__(self, "units", units)
        # --- additivity ---
        if not isinstance(self.additive, bool):
            raise _invalid("INDICATOR_INVALID", what, "additive phải là true hoặc false",
                           "additive must be true or false")
        if self.additive and _NON_ADDITIVE_UNITS.intersection(units):
            raise _invalid("INDICATOR_INVALID", what,
                           "tỷ lệ, phần trăm và điểm chỉ số không cộng được; đặt additive: false",
                           "ratios, percentages and index scores cannot be summed; set additive: false")
        # --- range ---
        for name in ("min", "max"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise _invalid("INDICATOR_BAD_RANGE", what, f"{name} phải là một số hữu hạn hoặc null",
                               f"{name} must be a finite number or null")
            object.__setattr__(self, name, float(value))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise _invalid("INDICATOR_BAD_RANGE", what, f"min ({self.min:g}) lớn hơn max ({self.max:g})",
                           f"min ({self.min:g}) is greater than max ({self.max:g})")
        for unit in units:
            if unit in _UNIT_BOUNDS:
                lo, hi = _UNIT_BOUNDS[unit]
                if self.min is None or self.max is None or self.min < lo or self.max > hi:
                    raise _invalid("INDICATOR_BAD_RANGE", what,
                                   f"đơn vị {unit} cần khoảng [min, max] nằm trong [{lo:g}, {hi:g}]",
                                   f"unit {unit} needs a range [min, max] inside [{lo:g}, {hi:g}]")
        # --- frequencies and sector ---
        freqs = (self.frequencies,) if isinstance(self.frequencies, str) else tuple(self.frequencies or ())
        bad = [f for f in freqs if f not in FREQUENCIES]
        if not freqs or bad or len(set(freqs)) != len(freqs):
            raise _invalid("INDICATOR_INVALID", what,
                           f"tần suất phải là một tập con không rỗng, không lặp của {list(FREQUENCIES)}, nhận {list(freqs)}",
                           f"frequencies must be a non-empty subset of {list(FREQUENCIES)} without repeats, got {list(freqs)}")
        object.__setattr__(self, "frequencies", tuple(f for f in FREQUENCIES if f in freqs))
        if self.sector_kind not in SECTOR_KINDS:
            raise _invalid("INDICATOR_INVALID", what,
                           f"sector phải là một trong {list(SECTOR_KINDS)}, nhận {self.sector_kind!r}",
                           f"sector must be one of {list(SECTOR_KINDS)}, got {self.sector_kind!r}")


# --- reading YAML files ---------------------------------------------------------------------


def _file_error(code: str, file: str, vi: str, en: str, **context: Any) -> ReferenceDataError:
    return ReferenceDataError(code, f"Tệp chỉ tiêu {file}: {vi}", f"Indicator file {file}: {en}", file=file, **context)


def _parse(text: str, file: str) -> list[Indicator]:
    """Indicators of one registry text; every error names the file and the entry."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _file_error("INDICATOR_FILE_UNREADABLE", file, f"không đọc được YAML ({exc})",
                          f"not readable as YAML ({exc})") from exc
    entries = doc.get("indicators") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not isinstance(entries, list):
        raise _file_error("INDICATOR_FILE_INVALID", file,
                          "cần một khóa 'indicators:' chứa danh sách các chỉ tiêu",
                          "expected a key 'indicators:' holding a list of indicators")
    out: list[Indicator] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, start=1):
        label = f"mục {i}"
        label_en = f"entry {i}"
        if isinstance(entry, dict) and isinstance(entry.get("code"), str):
            label += f" ({entry['code']})"
            label_en += f" ({entry['code']})"
        if not isinstance(entry, dict):
            raise _file_error("INDICATOR_FILE_INVALID", file, f"{label} không phải một bảng khóa: giá trị",
                              f"{label_en} is not a mapping of key: value", entry=i)
        missing = [k for k in _YAML_FIELDS if k not in entry]
        if missing:
            raise _file_error("INDICATOR_FIELD_MISSING", file, f"{label} thiếu trường {missing}",
                              f"{label_en} lacks the field(s) {missing}", entry=i)
        extra = sorted(str(k) for k in entry if k not in _YAML_FIELDS)
        if extra:
            raise _file_error("INDICATOR_FIELD_UNKNOWN", file,
                              f"{label} có trường không biết {extra}; các trường hợp lệ: {list(_YAML_FIELDS)}",
                              f"{label_en} has unknown field(s) {extra}; valid fields: {list(_YAML_FIELDS)}", entry=i)
        try:
            ind = Indicator(**{attr: entry[key] for key, attr in _YAML_FIELDS.items()})
        except ReferenceDataError as exc:
            raise _file_error(exc.code, file, f"{label}: {exc.vi}", f"{label_en}: {exc.en}", entry=i) from exc
        if ind.code in seen:
            raise _file_error("INDICATOR_DUPLICATE", file, f"{label}: mã {ind.code} xuất hiện hai lần",
                              f"{label_en}: code {ind.code} appears twice", entry=i)
        seen.add(ind.code)
        out.append(ind)
    return out


@lru_cache(maxsize=1)
def _shipped() -> tuple[Indicator, ...]:
    text = resources.files("kinhteso.reference").joinpath("data", _SHIPPED).read_text(encoding="utf-8")
    return tuple(_parse(text, _SHIPPED))


def load_indicators(extra_yaml: Path | None = None) -> dict[str, Indicator]:
    """The registry: shipped indicators, plus those of a workspace YAML file when given.

    **Parameters:**
    - ``extra_yaml``: a YAML file of the same shape as the shipped ``indicators.yaml``.

    **Returns:** a new dict code → Indicator (shipped first, then the file's, in file order).

    Raises ``ReferenceDataError`` naming the file and the entry when the file cannot be read,
    redefines a shipped code (``INDICATOR_REDEFINED``), uses an unknown unit
    (``INDICATOR_UNKNOWN_UNIT``), has a bad range (``INDICATOR_BAD_RANGE``) or lacks a field
    (``INDICATOR_FIELD_MISSING``).
    """
    registry = {ind.code: ind for ind in _shipped()}
    if extra_yaml is None:
        return registry
    path = Path(extra_yaml)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _file_error("INDICATOR_FILE_UNREADABLE", str(path), f"không mở được tệp ({exc})",
                          f"cannot open the file ({exc})") from exc
    for i, ind in enumerate(_parse(text, str(path)), start=1):
        if ind.code in registry:
            raise _file_error(
                "INDICATOR_REDEFINED", str(path),
                f"mục {i} ({ind.code}) trùng mã một chỉ tiêu có sẵn; hãy đặt một mã mới",
                f"entry {i} ({ind.code}) redefines a shipped indicator; choose a new code",
                entry=i,
            )
        registry[ind.code] = ind
    return registry


@cache
def sector_codes(kind: str) -> tuple[str, ...] | None:
    """The codes a sector of ``kind`` may hold, when ``kind`` is a closed list
    (:data:`SECTOR_KIND_FRAMEWORKS`), else None (``vsic``, ``total``).

    >>> "nhan_thuc_so" in sector_codes("dti_main_index"), sector_codes("vsic")
    (True, None)
    """
    ids = SECTOR_KIND_FRAMEWORKS.get(kind)
    if ids is None:
        return None
    from kinhteso.reference.frameworks import load_framework  # noqa: PLC0415 (frameworks import methods)

    return tuple(dict.fromkeys(code for fid in ids for code in load_framework(fid).main_indices))


def indicator_table(indicators: dict[str, Indicator] | None = None) -> pd.DataFrame:
    """One row per indicator × unit: code, unit, additive, min, max, frequencies (e.g. ``"AQM"``),
    sector_kind. ``indicators`` defaults to the shipped registry."""
    inds = (indicators if indicators is not None else load_indicators()).values()
    rows = [
        (ind.code, unit, ind.additive, ind.min, ind.max, "".join(ind.frequencies), ind.sector_kind)
        for ind in inds
        for unit in ind.units
    ]
    df = pd.DataFrame(rows, columns=["code", "unit", "additive", "min", "max", "frequencies", "sector_kind"])
    return df.astype({"code": "string", "unit": "string", "additive": "bool", "min": "float64",
                      "max": "float64", "frequencies": "string", "sector_kind": "string"})

