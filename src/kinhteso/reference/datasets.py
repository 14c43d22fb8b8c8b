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

__all__ = ["Field", "Derived", "Dataset", "Source", "Adapter", "datasets", "sources", "locodes", "adapters",
           "get_adapter", "FIELD_TYPES", "registered_source"]

FIELD_TYPES = ("text", "code", "timestamp", "locode", "number", "integer")
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
    share_field: str | None = None
    share_values: tuple[str, ...] = ()


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
    #: the timestamp whose quarter (Viet Nam time) a record's declarative shares count in
    period_field: str | None = None

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


@dataclass(frozen=True)
class Source:
    code: str
    kind: str
    vi: str
    en: str


@dataclass(frozen=True)
class Adapter:
    """How one agency layout maps onto ``dataset``: ``columns`` (field → the file's column header),
    ``values`` (field → {the file's word: the dataset's code}), ``header_row`` (1-based), ``timezone``
    (the offset of times written without one; None: such a time is refused), ``sheet`` (XLSX)."""

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


def _bad(where: str, vi: str, en: str) -> ReferenceDataError:
    return ReferenceDataError("DATASET_REGISTRY_INVALID", f"{where}: {vi}", f"{where}: {en}")


def _text(name: str) -> str:
    return resources.files("kinhteso.reference").joinpath(f"data/{name}").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def datasets() -> dict[str, Dataset]:
    """The shipped datasets, checked (every field typed, the key made of fields, codes listed)."""
    raw = yaml.safe_load(_text("datasets.yaml")) or {}
    out: dict[str, Dataset] = {}
    for d in raw.get("datasets", []):
        where = f"datasets.yaml:{d.get('code', '?')}"
        fields = []
        for f in d.get("fields", []):
            if f.get("type") not in FIELD_TYPES:
                raise _bad(where, f"kiểu trường '{f.get('type')}' không có", f"unknown field type '{f.get('type')}'")
            if f["type"] == "code" and not f.get("codes"):
                raise _bad(where, f"trường {f['name']} thiếu danh sách mã", f"field {f['name']} lists no codes")
            fields.append(Field(f["name"], f["type"], bool(f.get("required", False)), f["vi"], f["en"],
                                tuple(f.get("codes") or ())))
        names = {f.name for f in fields}
        key = tuple(d.get("key") or ())
        if not key or not set(key) <= names:
            raise _bad(where, "khóa phải gồm các trường của bản ghi", "the key must be made of the record's fields")
        derived = []
        for x in d.get("derived", []):
            share = x.get("share") or {}
            if share and (share.get("field") not in names or not set(share.get("values") or ()) <= set(
                    next(f for f in fields if f.name == share["field"]).codes)):
                raise _bad(where, f"chỉ tiêu {x['code']}: 'share' phải nêu một trường mã và các mã của nó",
                           f"indicator {x['code']}: 'share' must name a code field and some of its codes")
            derived.append(Derived(x["code"], x["formula_vi"].strip(), x["formula_en"].strip(), share.get("field"),
                                   tuple(share.get("values") or ())))
        derived = tuple(derived)
        period_field = d.get("period_field")
        if period_field is not None and period_field not in {f.name for f in fields if f.type == "timestamp"}:
            raise _bad(where, "'period_field' phải là một trường thời điểm", "'period_field' must be a timestamp field")
        order = tuple((str(a), str(b)) for a, b in d.get("order") or ())
        stamps = {f.name for f in fields if f.type == "timestamp"}
        if not all(a in stamps and b in stamps for a, b in order):
            raise _bad(where, "'order' phải nêu các trường thời điểm", "'order' must name timestamp fields")
        out[d["code"]] = Dataset(d["code"], d["name_vi"], d["name_en"], d["owner_kind"], d["description_vi"].strip(),
                                 d["description_en"].strip(), d.get("standard", ""), key, tuple(fields), derived, order,
                                 period_field)
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
    extra = set(cols) - names
    if extra:
        raise _bad(where, f"trường không có trong {ds.code}: {sorted(extra)}", f"fields not in {ds.code}: {sorted(extra)}")
    missing = [f.name for f in ds.fields if f.required and f.name not in cols]
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
    return Adapter(raw["name"], raw["dataset"], raw.get("name_vi", raw["name"]), raw.get("name_en", raw["name"]), cols,
                   values, int(raw.get("header_row", 1)), str(tz) if tz is not None else None, raw.get("sheet"), where)


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
