"""Indicator sheets ("phiếu chỉ tiêu"): the metadata the statistical law asks of each indicator.

Decree 94/2022/NĐ-CP (Article 2(1)) lists what the content of a statistical indicator is: its
concept and method of calculation, main breakdowns, periodicity, data sources and the agency
responsible for collecting and compiling it. ``data/indicator_sheets.yaml`` holds one sheet per
indicator of the registry (``data/indicators.yaml``) and per derived indicator
(:data:`kinhteso.reference.targets.DERIVED`), with the publishing agency, the release calendar,
the legal documents (each with its number and date) and the sources of the sheet; the list of
Decision 1354/QĐ-BTTTT (6 national, 5 ministry, 12 provincial indicators) is kept there once, and
each sheet shows its places in it. What the sources do not say is written as such.

A registry indicator without a sheet (a workspace's own, or one added to the registry before its
sheet is written) still gets a :class:`Sheet`, with its name and unit and every other field listed
in :attr:`Sheet.missing`; ``tests/test_indicator_sheets.py`` requires every shipped indicator's
sheet to be complete.

>>> s = load_sheets()["DE_SHARE"]
>>> s.periodicity.en, s.breakdowns[:4], [r.doc.number for r in s.legal_basis][:3]
('Annual.', ('industry', 'ownership', 'province', 'region'), ['01/2021/QH15', '13/2021/TT-BKHĐT', '94/2022/NĐ-CP'])
>>> [(e.level, e.no) for e in s.decision_1354]
[('national', 1), ('provincial', 1)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from kinhteso.errors import ReferenceDataError
from kinhteso.reference.indicators import UNITS, Indicator, load_indicators

__all__ = ["BREAKDOWNS", "TEXT_FIELDS", "LEVELS", "Text", "Document", "LegalRef", "ListEntry", "Sheet",
           "load_sheets", "documents", "decision_1354", "decision_1354_levels"]

_FILE = "indicator_sheets.yaml"

#: Breakdown code → (vi, en): the dimensions an indicator is published or stored by.
BREAKDOWNS: dict[str, tuple[str, str]] = {
    "industry": ("ngành kinh tế (VSIC)", "industry (VSIC)"),
    "ownership": ("loại hình kinh tế (nhà nước, ngoài nhà nước, có vốn đầu tư nước ngoài)",
                  "type of ownership (state, non-state, foreign-invested)"),
    "province": ("tỉnh, thành phố trực thuộc trung ương", "province or centrally-run city"),
    "region": ("vùng kinh tế - xã hội", "socio-economic region"),
    "component": ("thành phần (kinh tế số lõi, số hóa các ngành khác)",
                  "component (core digital economy, digitalisation of other industries)"),
    "price_basis": ("giá hiện hành, giá so sánh", "current prices, constant prices"),
    "dti_main_index": ("chỉ số chính của DTI", "DTI main index"),
    "dti_component": ("chỉ số thành phần của DTI", "DTI component index"),
    "sex": ("giới tính", "sex"),
    "urban_rural": ("thành thị, nông thôn", "urban, rural"),
}
#: The bilingual text fields every sheet must fill, in the order a sheet shows them.
TEXT_FIELDS = ("definition", "formula", "periodicity", "source_agency", "responsible_unit", "release_calendar",
               "data_sources", "notes")
_LIST_FIELDS = ("breakdowns", "legal_basis", "sources")
_OPTIONAL_FIELDS = ("kinhteso_formula",)
#: Levels of the Decision 1354/QĐ-BTTTT list, in its order.
LEVELS = ("national", "ministry", "provincial")
_STATUSES = ("identified", "not_retrievable")
#: Units of derived indicators that are not registry units.
_EXTRA_UNITS = {"PER_1000": ("trên 1.000 dân", "per 1,000 people")}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Text:
    """A text in Vietnamese and English."""

    vi: str
    en: str

    def get(self, lang: str) -> str:
        return self.vi if lang == "vi" else self.en

    def as_dict(self) -> dict[str, str]:
        return {"vi": self.vi, "en": self.en}


_EMPTY = Text("", "")


@dataclass(frozen=True)
class Document:
    """A legal document: its number (``94/2022/NĐ-CP``), date (ISO), issuer, title and source."""

    id: str
    number: str
    date: str
    issuer: Text
    title: Text
    url: str

    def label(self) -> str:
        """``94/2022/NĐ-CP (07/11/2022)``."""
        y, m, d = self.date.split("-")
        return f"{self.number} ({d}/{m}/{y})"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "number": self.number, "date": self.date, "issuer": self.issuer.as_dict(),
                "title": self.title.as_dict(), "url": self.url}


@dataclass(frozen=True)
class LegalRef:
    """One item of a sheet's legal basis: a document (or None when none applies) and what of it applies."""

    doc: Document | None
    applies: Text

    def as_dict(self) -> dict[str, Any]:
        return {"document": self.doc.as_dict() if self.doc else None, "applies": self.applies.as_dict()}


@dataclass(frozen=True)
class ListEntry:
    """One indicator of the Decision 1354/QĐ-BTTTT list."""

    level: str
    no: int
    indicator: str | None
    status: str
    name: Text

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "no": self.no, "indicator": self.indicator, "status": self.status,
                "name": self.name.as_dict()}


@dataclass(frozen=True)
class Sheet:
    """The sheet of one indicator (``kind``: ``registry`` or ``derived``)."""

    code: str
    kind: str
    name: Text
    units: tuple[tuple[str, Text], ...]
    definition: Text
    formula: Text
    kinhteso_formula: str
    breakdowns: tuple[str, ...]
    periodicity: Text
    source_agency: Text
    responsible_unit: Text
    release_calendar: Text
    legal_basis: tuple[LegalRef, ...]
    data_sources: Text
    notes: Text
    sources: tuple[str, ...]
    decision_1354: tuple[ListEntry, ...]
    missing: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.missing

    def unit_text(self, lang: str) -> str:
        return "; ".join(f"{label.get(lang)} [{code}]" for code, label in self.units)

    def breakdown_text(self, lang: str) -> str:
        return "; ".join(BREAKDOWNS[b][0 if lang == "vi" else 1] for b in self.breakdowns)

    def as_dict(self) -> dict[str, Any]:
        """The sheet as JSON-ready data, every text in both languages."""
        out: dict[str, Any] = {"code": self.code, "kind": self.kind, "name": self.name.as_dict(),
                               "unit": [{"code": c, **t.as_dict()} for c, t in self.units]}
        for f in ("definition", "formula"):
            out[f] = getattr(self, f).as_dict()
        out["kinhteso_formula"] = self.kinhteso_formula or None
        out["breakdowns"] = [{"code": b, "vi": BREAKDOWNS[b][0], "en": BREAKDOWNS[b][1]} for b in self.breakdowns]
        for f in TEXT_FIELDS[2:6]:
            out[f] = getattr(self, f).as_dict()
        out["legal_basis"] = [r.as_dict() for r in self.legal_basis]
        out["data_sources"] = self.data_sources.as_dict()
        out["notes"] = self.notes.as_dict()
        out["decision_1354"] = [{"level": e.level, "no": e.no, "name": e.name.as_dict()} for e in self.decision_1354]
        out["sources"] = list(self.sources)
        out["complete"] = self.complete
        out["missing"] = list(self.missing)
        return out


# --- reading the file ---------------------------------------------------------------------------


def _error(where: str, vi: str, en: str, code: str = "INDICATOR_SHEET_INVALID") -> ReferenceDataError:
    """``INDICATOR_SHEET_INVALID`` (a bad entry) or ``INDICATOR_SHEET_UNKNOWN`` (a code that is
    neither a registry nor a derived indicator), naming the file and the entry."""
    if code == "INDICATOR_SHEET_UNKNOWN":
        return ReferenceDataError("INDICATOR_SHEET_UNKNOWN", f"Tệp phiếu chỉ tiêu {_FILE}, {where}: {vi}",
                                  f"Indicator sheet file {_FILE}, {where}: a code that is neither a registry nor a "
                                  f"derived indicator: {en}", file=_FILE, where=where)
    return ReferenceDataError("INDICATOR_SHEET_INVALID", f"Tệp phiếu chỉ tiêu {_FILE}, {where}: {vi}",
                              f"Indicator sheet file {_FILE}, {where}: {en}", file=_FILE, where=where)


def _text(value: Any, where: str, shared: dict[str, Text] | None = None, *, allow_empty: bool = False) -> Text:
    if isinstance(value, str) and value.startswith("=") and shared is not None:
        if value[1:] not in shared:
            raise _error(where, f"không có đoạn chung '{value[1:]}' trong text:",
                         f"no shared text '{value[1:]}' under text:")
        return shared[value[1:]]
    if not isinstance(value, dict) or set(value) != {"vi", "en"}:
        raise _error(where, "cần một bảng {vi: ..., en: ...}", "expected a mapping {vi: ..., en: ...}")
    vi, en = value["vi"], value["en"]
    if not isinstance(vi, str) or not isinstance(en, str) or (not allow_empty and not (vi.strip() and en.strip())):
        raise _error(where, "vi và en phải là đoạn chữ không rỗng", "vi and en must be non-empty texts")
    return Text(" ".join(vi.split()), " ".join(en.split()))


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    text = resources.files("kinhteso.reference").joinpath("data", _FILE).read_text(encoding="utf-8")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _error("YAML", f"không đọc được ({exc})", f"not readable ({exc})") from exc
    if not isinstance(doc, dict) or not {"documents", "decision_1354", "text", "sheets"} <= set(doc):
        raise _error("top", "cần các khóa documents, decision_1354, text, sheets",
                     "expected the keys documents, decision_1354, text, sheets")
    return doc


@lru_cache(maxsize=1)
def documents() -> dict[str, Document]:
    """The legal documents the sheets cite, by id (``ND94_2022``)."""
    out: dict[str, Document] = {}
    for key, d in (_raw()["documents"] or {}).items():
        where = f"documents.{key}"
        if not isinstance(d, dict) or set(d) != {"number", "date", "issuer", "title", "url"}:
            raise _error(where, "cần đúng các trường number, date, issuer, title, url",
                         "expected exactly the fields number, date, issuer, title, url")
        if not _ISO_DATE.match(str(d["date"])):
            raise _error(where, "date phải có dạng YYYY-MM-DD", "date must read YYYY-MM-DD")
        if not str(d["number"]).strip() or not str(d["url"]).strip():
            raise _error(where, "number và url không được rỗng", "number and url must not be empty")
        out[key] = Document(key, str(d["number"]), str(d["date"]), _text(d["issuer"], f"{where}.issuer"),
                            _text(d["title"], f"{where}.title"), str(d["url"]))
    return out


@lru_cache(maxsize=1)
def _decision() -> tuple[dict[str, tuple[int, Text]], tuple[ListEntry, ...], Text]:
    raw = _raw()["decision_1354"]
    levels = {}
    for level in LEVELS:
        spec = (raw.get("levels") or {}).get(level)
        if not isinstance(spec, dict) or not isinstance(spec.get("count"), int):
            raise _error(f"decision_1354.levels.{level}", "cần count, vi, en", "needs count, vi, en")
        levels[level] = (spec["count"], _text({"vi": spec.get("vi"), "en": spec.get("en")}, f"decision_1354.levels.{level}"))
    absent = _text(raw.get("not_retrievable"), "decision_1354.not_retrievable")
    entries: list[ListEntry] = []
    for i, e in enumerate(raw.get("entries") or [], start=1):
        where = f"decision_1354.entries[{i}]"
        if (not isinstance(e, dict) or set(e) != {"level", "number", "indicator", "status", "vi", "en"}
                or e["level"] not in LEVELS or e["status"] not in _STATUSES or not isinstance(e["number"], int)):
            raise _error(where, f"cần level (một trong {list(LEVELS)}), number, indicator, status (một trong "
                         f"{list(_STATUSES)}), vi, en",
                         f"expected level (one of {list(LEVELS)}), number, indicator, status (one of "
                         f"{list(_STATUSES)}), vi, en")
        found = e["status"] == "identified"
        name = _text({"vi": e.get("vi"), "en": e.get("en")}, where, allow_empty=not found)
        if not found and (name.vi or name.en or e.get("indicator") is not None):
            raise _error(where, "một mục not_retrievable không có tên và không có chỉ tiêu",
                         "a not_retrievable entry has neither a name nor an indicator")
        entries.append(ListEntry(e["level"], e["number"], e.get("indicator"), e["status"], name if found else absent))
    for level, (count, _) in levels.items():
        nos = [e.no for e in entries if e.level == level]
        if nos != list(range(1, count + 1)):
            raise _error("decision_1354.entries", f"cấp {level} phải có các số 1..{count} theo thứ tự, có {nos}",
                         f"level {level} must hold the numbers 1..{count} in order, has {nos}")
    return levels, tuple(entries), absent


def decision_1354_levels() -> dict[str, tuple[int, Text]]:
    """Level → (how many indicators the decision lists at that level, its name)."""
    return dict(_decision()[0])


def decision_1354(level: str | None = None) -> tuple[ListEntry, ...]:
    """The Decision 1354/QĐ-BTTTT list (one level, or all), in the decision's order; entries the
    sources do not name have status ``not_retrievable``."""
    return tuple(e for e in _decision()[1] if level is None or e.level == level)


def _units(code: str, unit_codes: tuple[str, ...]) -> tuple[tuple[str, Text], ...]:
    labels = {**UNITS, **_EXTRA_UNITS}
    return tuple((u, Text(*labels.get(u, (u, u)))) for u in unit_codes)


def _sheet(code: str, kind: str, name: Text, units, raw: dict | None, shared: dict[str, Text],
           generated_formula: str, places: tuple[ListEntry, ...]) -> Sheet:
    where = f"sheets.{code}"
    if raw is None:
        return Sheet(code, kind, name, units, _EMPTY, _EMPTY, generated_formula, (), _EMPTY, _EMPTY, _EMPTY,
                     _EMPTY, (), _EMPTY, _EMPTY, (), places,
                     missing=("definition", "formula", "breakdowns", "periodicity", "source_agency",
                              "responsible_unit", "release_calendar", "legal_basis", "data_sources", "notes",
                              "sources"))
    if not isinstance(raw, dict):
        raise _error(where, "cần một bảng trường: giá trị", "expected a mapping of field: value")
    allowed = {*TEXT_FIELDS, *_LIST_FIELDS, *_OPTIONAL_FIELDS}
    unknown, absent = sorted(set(raw) - allowed), [f for f in (*TEXT_FIELDS, *_LIST_FIELDS) if f not in raw]
    if unknown or absent:
        raise _error(where, f"trường không biết {unknown}, thiếu {absent}", f"unknown field(s) {unknown}, missing {absent}")
    texts = {f: _text(raw[f], f"{where}.{f}", shared) for f in TEXT_FIELDS}
    breakdowns = raw["breakdowns"]
    if not isinstance(breakdowns, list) or not breakdowns or any(b not in BREAKDOWNS for b in breakdowns):
        raise _error(where, f"breakdowns phải là danh sách không rỗng các mã {list(BREAKDOWNS)}",
                     f"breakdowns must be a non-empty list of codes of {list(BREAKDOWNS)}")
    docs, legal = documents(), []
    for j, item in enumerate(raw["legal_basis"] or [], start=1):
        w = f"{where}.legal_basis[{j}]"
        if not isinstance(item, dict) or set(item) != {"doc", "vi", "en"}:
            raise _error(w, "cần {doc, vi, en}", "expected {doc, vi, en}")
        if item["doc"] is not None and item["doc"] not in docs:
            raise _error(w, f"không có văn bản '{item['doc']}' trong documents:", f"no document '{item['doc']}' under documents:")
        legal.append(LegalRef(docs.get(item["doc"]) if item["doc"] else None,
                              _text({"vi": item["vi"], "en": item["en"]}, w)))
    if not legal:
        raise _error(where, "legal_basis cần ít nhất một mục (doc: null kèm lý do khi không có văn bản)",
                     "legal_basis needs at least one item (doc: null with the reason when no document applies)")
    sources = raw["sources"]
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) and s.strip() for s in sources):
        raise _error(where, "sources phải là danh sách nguồn không rỗng", "sources must be a non-empty list")
    own = raw.get("kinhteso_formula")
    if own is not None and (not isinstance(own, str) or not own.strip() or generated_formula):
        raise _error(where, "kinhteso_formula phải là một đoạn chữ, và không ghi cho chỉ tiêu dẫn xuất (tự sinh)",
                     "kinhteso_formula must be a text, and is not given for a derived indicator (it is generated)")
    return Sheet(code, kind, name, units, texts["definition"], texts["formula"], generated_formula or (own or ""),
                 tuple(breakdowns), texts["periodicity"], texts["source_agency"], texts["responsible_unit"],
                 texts["release_calendar"], tuple(legal), texts["data_sources"], texts["notes"], tuple(sources), places)


def _build(registry: dict[str, Indicator]) -> dict[str, Sheet]:
    from kinhteso.reference.targets import DERIVED  # noqa: PLC0415 (targets imports the registry)

    raw = _raw()
    shared = {k: _text(v, f"text.{k}") for k, v in (raw["text"] or {}).items()}
    sheets_raw: dict[str, Any] = raw["sheets"] or {}
    known = {*registry, *DERIVED}
    stray = sorted(set(sheets_raw) - known)
    if stray:
        raise _error("sheets", f"phiếu cho mã không có trong danh mục hay chỉ tiêu dẫn xuất: {stray}",
                     f"sheets for codes that are neither registry nor derived indicators: {stray}",
                     "INDICATOR_SHEET_UNKNOWN")
    entries = decision_1354()
    bad = sorted({e.indicator for e in entries if e.indicator is not None and e.indicator not in known})
    if bad:
        raise _error("decision_1354", f"chỉ tiêu không có trong danh mục: {bad}", f"indicators not in the registry: {bad}",
                     "INDICATOR_SHEET_UNKNOWN")
    out: dict[str, Sheet] = {}
    for code, ind in registry.items():
        places = tuple(e for e in entries if e.indicator == code)
        out[code] = _sheet(code, "registry", Text(ind.name_vi, ind.name_en), _units(code, ind.units),
                           sheets_raw.get(code), shared, "", places)
    for code, d in DERIVED.items():
        places = tuple(e for e in entries if e.indicator == code)
        formula = f"{code} = {d.numerator} / {d.denominator} × {d.scale:g}"
        out[code] = _sheet(code, "derived", Text(d.name_vi, d.name_en), _units(code, (d.unit,)),
                           sheets_raw.get(code), shared, formula, places)
    return out


@lru_cache(maxsize=1)
def _shipped_sheets() -> dict[str, Sheet]:
    return _build(load_indicators())


def load_sheets(registry: dict[str, Indicator] | None = None) -> dict[str, Sheet]:
    """Code → :class:`Sheet` for every indicator of ``registry`` (default: the shipped one) and
    every derived indicator, in registry order then derived order. Raises ``ReferenceDataError``
    (``INDICATOR_SHEET_INVALID``, ``INDICATOR_SHEET_UNKNOWN``) naming the entry of a bad file."""
    return dict(_shipped_sheets() if registry is None else _build(registry))
