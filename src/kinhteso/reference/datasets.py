"""Datasets, sources, UN/LOCODEs and adapters: the registry of record-level data.

- ``data/datasets.yaml``: each dataset an agency owns (its ``owner_kind``: port, customs, tax,
  transport, a sector department), the schema of one record (:class:`Field`), its key (what makes
  two records the same event) and the indicators kinhteso derives from it, with their formulas;
- ``data/sources.yaml``: the registered sources (a workspace's members are registered too);
- ``data/locodes.csv``: the UN/LOCODEs of Viet Nam's container ports and their province;
- ``data/adapters/*.yaml`` (and a workspace's ``adapters/*.yaml``): how an agency's own layout maps
  onto a dataset — its columns, its code words, the row of its header, the zone of times written
  without one (:class:`Adapter`). A new layout needs a mapping file, not code.

>>> ds = datasets()["container_events"]
>>> ds.owner_kind, [f.name for f in ds.fields][:3], [d.code for d in ds.derived][:2]
('port', ['equipment', 'event_type', 'classifier'], ['PORT_IMPORT_DWELL_H', 'PORT_IMPORT_DWELL_P90_H'])
>>> locodes()["VNHPH"]
'34:31'
>>> adapters()["dcsa-equipment-events"].columns["event_at"]
'eventDateTime'
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from kinhteso.errors import ReferenceDataError, UsageError, near_hint

__all__ = ["Field", "Derived", "Dataset", "Source", "Adapter", "Wide", "month_code", "territory_codes", "datasets", "sources", "locodes", "adapters",
           "get_adapter", "FIELD_TYPES", "registered_source"]

FIELD_TYPES = ("text", "code", "timestamp", "locode", "number", "integer", "territory", "month")
_NAME = re.compile(r"^[a-z][a-z0-9\-]{1,60}$")
_OFFSET = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d$")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool
    vi: str
    en: str
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Derived:
    code: str
    formula_vi: str
    formula_en: str
    #: a declarative share: 100 × records whose ``field`` is one of ``values`` / records, by quarter
    #: (with ``share_weight``, a number field: 100 × Σ weight of those records / Σ weight)
    share_field: str | None = None
    share_values: tuple[str, ...] = ()
    share_weight: str | None = None
    #: a declarative ratio: 100 × Σ ``numerator`` / Σ ``denominator`` (number fields), by quarter
    ratio: tuple[str, str] | None = None

    @property
    def declared(self) -> bool:
        """Computed from ``datasets.yaml`` alone (a share or a ratio), with no code of its own."""
        return self.share_field is not None or self.ratio is not None


@dataclass(frozen=True)
class Dataset:
    code: str
    name_vi: str
    name_en: str
    owner_kind: str
    description_vi: str
    description_en: str
    standard: str
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    derived: tuple[Derived, ...]
    #: (earlier, later) timestamp fields: a record whose later time is before its earlier one is set aside
    order: tuple[tuple[str, str], ...] = ()
    #: the timestamp (its quarter in Viet Nam time) or month field whose quarter a record's
    #: declared indicators count in
    period_field: str | None = None
    #: the reporting unit (a terminal, a hospital, a school, an office): the values derived from the
    #: records carry how many distinct units they rest on, for the disclosure rule of what is shared
    unit_field: str | None = None
    #: the file the dataset is declared in
    path: str = ""

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


@dataclass(frozen=True)
class Source:
    code: str
    kind: str
    vi: str
    en: str


@dataclass(frozen=True)
class Wide:
    """Months across columns: ``field`` (a month field) is read from the headers. With two header
    rows, ``columns`` maps fields to the lower header under each month; with one, every column whose
    header reads as a month holds ``value``."""

    field: str
    columns: dict[str, str] = field(default_factory=dict)
    value: str | None = None

    def measures(self) -> list[str]:
        """The fields read under each month."""
        return list(self.columns) if self.columns else [str(self.value)]


@dataclass(frozen=True)
class Adapter:
    """How one agency layout maps onto ``dataset``: ``columns`` (field → the file's column header),
    ``values`` (field → {the file's word: the dataset's code}), ``header_row`` (1-based: the first
    header row), ``header_rows`` (how many; with two, an upper cell merged across columns names each
    of them, ``upper | lower``), ``timezone`` (the offset of times written without one; None: such a
    time is refused), ``sheet`` (XLSX), ``constants`` (field → one value for every record),
    ``wide`` (months across columns, :class:`Wide`)."""

    name: str
    dataset: str
    name_vi: str
    name_en: str
    columns: dict[str, str]
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    header_row: int = 1
    timezone: str | None = None
    sheet: str | int | None = None
    path: str = ""
    header_rows: int = 1
    constants: dict[str, str] = field(default_factory=dict)
    wide: Wide | None = None


def _bad(where: str, vi: str, en: str) -> ReferenceDataError:
    return ReferenceDataError("DATASET_REGISTRY_INVALID", f"{where}: {vi}", f"{where}: {en}")


def _text(name: str) -> str:
    return resources.files("kinhteso.reference").joinpath(f"data/{name}").read_text(encoding="utf-8")


def _dataset_files() -> list[tuple[str, str]]:
    """(name, text) of every shipped ``data/datasets*.yaml`` (the logistics datasets in
    ``datasets.yaml``, the priority sectors' in ``datasets_sectors.yaml``...), by name."""
    folder = resources.files("kinhteso.reference").joinpath("data")
    return [(e.name, e.read_text(encoding="utf-8")) for e in sorted(folder.iterdir(), key=lambda p: p.name)
            if e.name.startswith("datasets") and e.name.endswith(".yaml")]


def _derived(x: dict, fields: list[Field], where: str) -> Derived:
    kinds = {f.name: f.type for f in fields}
    share, ratio = x.get("share") or {}, x.get("ratio") or {}
    if share and ratio:
        raise _bad(where, f"chỉ tiêu {x['code']}: chỉ một trong 'share' hoặc 'ratio'",
                   f"indicator {x['code']}: either 'share' or 'ratio', not both")
    numeric = {n for n, t in kinds.items() if t in ("number", "integer")}
    if share:
        fld = share.get("field")
        codes = next((f.codes for f in fields if f.name == fld and f.type == "code"), None)
        if codes is None or not share.get("values") or not set(share["values"]) <= set(codes):
            raise _bad(where, f"chỉ tiêu {x['code']}: 'share' phải nêu một trường mã và các mã của nó",
                       f"indicator {x['code']}: 'share' must name a code field and some of its codes")
        if share.get("weight") is not None and share["weight"] not in numeric:
            raise _bad(where, f"chỉ tiêu {x['code']}: 'weight' phải là một trường số",
                       f"indicator {x['code']}: 'weight' must be a number field")
    if ratio and not (ratio.get("numerator") in numeric and ratio.get("denominator") in numeric):
        raise _bad(where, f"chỉ tiêu {x['code']}: 'ratio' phải nêu hai trường số (numerator, denominator)",
                   f"indicator {x['code']}: 'ratio' must name two number fields (numerator, denominator)")
    return Derived(x["code"], x["formula_vi"].strip(), x["formula_en"].strip(), share.get("field"),
                   tuple(share.get("values") or ()), share.get("weight"),
                   (str(ratio["numerator"]), str(ratio["denominator"])) if ratio else None)


def _dataset(d: dict, where: str) -> Dataset:
    fields = []
    for f in d.get("fields", []):
        if f.get("type") not in FIELD_TYPES:
            raise _bad(where, f"kiểu trường '{f.get('type')}' không có", f"unknown field type '{f.get('type')}'")
        if f["type"] == "code" and not f.get("codes"):
            raise _bad(where, f"trường {f['name']} thiếu danh sách mã", f"field {f['name']} lists no codes")
        fields.append(Field(f["name"], f["type"], bool(f.get("required", False)), f["vi"], f["en"],
                            tuple(f.get("codes") or ())))
    names = {f.name for f in fields}
    if len(names) != len(fields) or "vintage_id" in names:
        raise _bad(where, "tên trường trùng nhau hoặc là 'vintage_id'", "field names repeat, or one is 'vintage_id'")
    places = [f for f in fields if f.type in ("locode", "territory")]
    if len(places) != 1 or not places[0].required:
        raise _bad(where, "cần đúng một trường bắt buộc kiểu locode hoặc territory (địa bàn của bản ghi)",
                   "exactly one required field of type locode or territory is needed (the record's territory)")
    if any(f.name == "territory" and f.type != "territory" for f in fields):
        raise _bad(where, "trường tên 'territory' phải có kiểu territory", "a field named 'territory' must be of type territory")
    key = tuple(d.get("key") or ())
    if not key or not set(key) <= names:
        raise _bad(where, "khóa phải gồm các trường của bản ghi", "the key must be made of the record's fields")
    derived = tuple(_derived(x, fields, where) for x in d.get("derived", []))
    period_field = d.get("period_field")
    if period_field is not None and period_field not in {f.name for f in fields if f.type in ("timestamp", "month")}:
        raise _bad(where, "'period_field' phải là một trường thời điểm hoặc tháng",
                   "'period_field' must be a timestamp or month field")
    if any(x.declared for x in derived) and period_field is None:
        raise _bad(where, "chỉ tiêu khai báo (share, ratio) cần 'period_field'",
                   "declared indicators (share, ratio) need a 'period_field'")
    order = tuple((str(a), str(b)) for a, b in d.get("order") or ())
    stamps = {f.name for f in fields if f.type == "timestamp"}
    if not all(a in stamps and b in stamps for a, b in order):
        raise _bad(where, "'order' phải nêu các trường thời điểm", "'order' must name timestamp fields")
    unit_field = d.get("unit_field")
    if unit_field is not None and unit_field not in names:
        raise _bad(where, f"'unit_field' {unit_field} không phải một trường", f"'unit_field' {unit_field} is not a field")
    return Dataset(d["code"], d["name_vi"], d["name_en"], d["owner_kind"], d["description_vi"].strip(),
                   d["description_en"].strip(), d.get("standard", ""), key, tuple(fields), derived, order,
                   period_field, unit_field, where.split(":")[0])


@lru_cache(maxsize=1)
def datasets() -> dict[str, Dataset]:
    """The shipped datasets of every ``data/datasets*.yaml``, checked (every field typed, one field
    giving the record's territory, the key made of fields, codes listed, declared indicators over
    fields of the right type); a dataset code or derived indicator declared twice is refused."""
    out: dict[str, Dataset] = {}
    derived_by: dict[str, str] = {}
    for name, text in _dataset_files():
        raw = yaml.safe_load(text) or {}
        for d in raw.get("datasets", []):
            where = f"{name}:{d.get('code', '?')}"
            if not re.match(r"^[a-z][a-z0-9_]{1,40}$", str(d.get("code", ""))):
                raise _bad(where, "mã tập dữ liệu gồm chữ thường, số và '_'", "a dataset code is lower-case letters, digits and '_'")
            if d["code"] in out:
                raise _bad(where, "tập dữ liệu khai báo hai lần", "the dataset is declared twice")
            ds = _dataset(d, where)
            for x in ds.derived:
                if x.code in derived_by:
                    raise _bad(where, f"chỉ tiêu {x.code} đã được tập {derived_by[x.code]} tính",
                               f"the indicator {x.code} is derived by {derived_by[x.code]} already")
                derived_by[x.code] = ds.code
            out[ds.code] = ds
    return out


@lru_cache(maxsize=1)
def sources() -> dict[str, Source]:
    """The shipped registered sources (a workspace's members are registered sources too)."""
    raw = yaml.safe_load(_text("sources.yaml")) or {}
    return {s["code"]: Source(s["code"], s["kind"], s["vi"], s["en"]) for s in raw.get("sources", [])}


def registered_source(code: str, members: dict[str, str] | None = None) -> str:
    """``code`` when it names a registered source (shipped or a member of ``members``: code →
    kind); ``UNKNOWN_SOURCE`` otherwise, naming the nearest registered code."""
    known = {**{c: s.kind for c, s in sources().items()}, **(members or {})}
    if code in known:
        return code
    vi, en = _near(code, known)
    raise UsageError("UNKNOWN_SOURCE",
                     f"Nguồn '{code}' chưa được đăng ký: dùng một nguồn đã đăng ký (reference/data/sources.yaml) hoặc "
                     f"thêm cơ quan bằng `kinhteso member add`.{vi}",
                     f"The source '{code}' is not registered: name a registered source (reference/data/sources.yaml) or "
                     f"add the agency with `kinhteso member add`.{en}", source=code)


def _near(text: str, known) -> tuple[str, str]:
    import difflib  # noqa: PLC0415

    return near_hint(difflib.get_close_matches(str(text), list(known), n=3, cutoff=0.5))


@lru_cache(maxsize=1)
def locodes() -> dict[str, str]:
    """UN/LOCODE → the territory key of the province the port lies in."""
    return {r["locode"]: r["territory"] for r in csv.DictReader(io.StringIO(_text("locodes.csv")))}


def _adapter(raw: dict, where: str) -> Adapter:
    for k in ("name", "dataset", "columns"):
        if k not in raw:
            raise _bad(where, f"thiếu '{k}'", f"'{k}' is missing")
    if not _NAME.match(str(raw["name"])):
        raise _bad(where, "tên bộ chuyển đổi chỉ gồm chữ thường, số và '-'", "an adapter's name is lower-case letters, digits and '-'")
    ds = datasets().get(raw["dataset"])
    if ds is None:
        raise _bad(where, f"không có tập dữ liệu '{raw['dataset']}'", f"no dataset '{raw['dataset']}'")
    cols = {str(k): str(v) for k, v in (raw.get("columns") or {}).items()}
    names = {f.name for f in ds.fields}
    constants = {str(k): str(v) for k, v in (raw.get("constants") or {}).items()}
    wide = _wide(raw.get("wide"), ds, where)
    given = set(cols) | set(constants) | ({wide.field, *wide.measures()} if wide else set())
    extra = (set(cols) | set(constants)) - names
    if extra:
        raise _bad(where, f"trường không có trong {ds.code}: {sorted(extra)}", f"fields not in {ds.code}: {sorted(extra)}")
    twice = (set(cols) & set(constants)) | ((set(cols) | set(constants)) & ({wide.field, *wide.measures()} if wide else set()))
    if twice:
        raise _bad(where, f"trường được đọc hai cách: {sorted(twice)}", f"fields read two ways: {sorted(twice)}")
    missing = [f.name for f in ds.fields if f.required and f.name not in given]
    if missing:
        raise _bad(where, f"thiếu cột cho trường bắt buộc {missing}", f"no column for the required fields {missing}")
    tz = raw.get("timezone")
    if tz is not None and not _OFFSET.match(str(tz)):
        raise _bad(where, f"múi giờ '{tz}' phải có dạng +07:00", f"timezone '{tz}' must look like +07:00")
    values = {str(k): {str(a): str(b) for a, b in (v or {}).items()} for k, v in (raw.get("values") or {}).items()}
    for f, mapping in values.items():
        if f not in names:
            raise _bad(where, f"'values' nêu trường lạ {f}", f"'values' names an unknown field {f}")
        codes = ds.field(f).codes
        if codes and not set(mapping.values()) <= set(codes):
            raise _bad(where, f"mã đích của {f} phải thuộc {list(codes)}", f"the codes of {f} must be among {list(codes)}")
    header_rows = int(raw.get("header_rows", 1))
    if header_rows not in (1, 2):
        raise _bad(where, "'header_rows' là 1 hoặc 2", "'header_rows' is 1 or 2")
    if wide is not None and bool(wide.columns) != (header_rows == 2):
        raise _bad(where, "'wide' có 'columns' khi có hai dòng tiêu đề, 'value' khi có một",
                   "'wide' has 'columns' with two header rows, 'value' with one")
    return Adapter(raw["name"], raw["dataset"], raw.get("name_vi", raw["name"]), raw.get("name_en", raw["name"]), cols,
                   values, int(raw.get("header_row", 1)), str(tz) if tz is not None else None, raw.get("sheet"), where,
                   header_rows, constants, wide)


def _wide(raw: Any, ds: Dataset, where: str) -> Wide | None:
    if raw is None:
        return None
    names = {f.name: f.type for f in ds.fields}
    if not isinstance(raw, dict) or names.get(raw.get("field")) != "month":
        raise _bad(where, "'wide.field' phải là một trường tháng của tập dữ liệu",
                   "'wide.field' must be a month field of the dataset")
    cols = {str(k): str(v) for k, v in (raw.get("columns") or {}).items()}
    value = raw.get("value")
    if bool(cols) == (value is not None):
        raise _bad(where, "'wide' nêu 'columns' hoặc 'value' (một trong hai)", "'wide' names 'columns' or 'value' (one of them)")
    unknown = (set(cols) | ({str(value)} if value is not None else set())) - set(names)
    if unknown:
        raise _bad(where, f"'wide' nêu trường lạ {sorted(unknown)}", f"'wide' names unknown fields {sorted(unknown)}")
    return Wide(str(raw["field"]), cols, None if value is None else str(value))


@lru_cache(maxsize=8)
def _shipped_adapters() -> dict[str, Adapter]:
    out = {}
    folder = resources.files("kinhteso.reference").joinpath("data/adapters")
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            a = _adapter(yaml.safe_load(entry.read_text(encoding="utf-8")) or {}, f"adapters/{entry.name}")
            out[a.name] = a
    return out


def adapters(workspace: Path | None = None) -> dict[str, Adapter]:
    """The shipped adapters and the workspace's own (``W/adapters/*.yaml``; a workspace adapter may
    not take a shipped one's name)."""
    out = dict(_shipped_adapters())
    folder = Path(workspace) / "adapters" if workspace is not None else None
    if folder is not None and folder.is_dir():
        for path in sorted(folder.glob("*.yaml")):
            try:
                raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise _bad(str(path), f"YAML không đọc được: {exc}", f"the YAML cannot be read: {exc}") from exc
            a = _adapter(raw, str(path))
            if a.name in out:
                raise _bad(str(path), f"bộ chuyển đổi '{a.name}' đã có sẵn", f"the adapter '{a.name}' is shipped already")
            out[a.name] = a
    return out


def get_adapter(name: str, workspace: Path | None = None) -> Adapter:
    """The adapter called ``name`` (``UNKNOWN_ADAPTER`` naming the nearest)."""
    found = adapters(workspace)
    if name in found:
        return found[name]
    vi, en = _near(name, found)
    raise UsageError("UNKNOWN_ADAPTER", f"Không có bộ chuyển đổi '{name}'; có: {', '.join(sorted(found))} "
                     f"(`kinhteso adapters`).{vi}",
                     f"No adapter '{name}'; there are: {', '.join(sorted(found))} (`kinhteso adapters`).{en}",
                     adapter=name)


# --- the values of month and territory fields ------------------------------------------------
_MONTH_T = re.compile(r"^\s*(?:t|th|thg)\.?\s*(\d{1,2})\s*[/\-.]\s*(\d{4})\s*$", re.IGNORECASE)


def month_code(text: object) -> str | None:
    """The month ``text`` names, as ``YYYY-MM`` (every form of :mod:`kinhteso.periods`, and the
    ``T7/2025``, ``Thg 7/2025`` of Vietnamese sheets); None when it names no month.

    >>> [month_code(t) for t in ("2025-07", "07/2025", "T7/2025", "Tháng 7/2025", "2025-Q3", "x")]
    ['2025-07', '2025-07', '2025-07', '2025-07', None, None]
    """
    from kinhteso.periods import parse_period  # noqa: PLC0415

    m = _MONTH_T.match(str(text))
    found = parse_period(f"{m.group(1)}/{m.group(2)}" if m else text)
    return found.code if found is not None and found.freq == "M" else None


def territory_codes(texts) -> dict[str, str]:
    """The 34-province key of each province ``texts`` names (a key, a code or a name, as
    kinhteso reads provinces in any file; a province of the 63 that merged is given the province it
    became); a text naming none (or the nation) is left out.

    >>> territory_codes(["Hải Phòng", "34:31", "Hải Dương", "Atlantis"])
    {'Hải Phòng': '34:31', '34:31': '34:31', 'Hải Dương': '34:31'}
    """
    from kinhteso.reference import territories as terr  # noqa: PLC0415

    t = terr.territory_aliases()
    index = {(a, int(b)): k for a, b, k in zip(t["alias"], t["basis"], t["key"])}
    out = {}
    for text in texts:
        alias = terr.normalise_alias(str(text))
        key = index.get((alias, 34))
        if key is None and (alias, 63) in index:
            key = terr.successors_of(index[(alias, 63)]) if index[(alias, 63)] != terr.nation_key else None
        if key is not None and key != terr.nation_key:
            out[str(text)] = key
    return out
