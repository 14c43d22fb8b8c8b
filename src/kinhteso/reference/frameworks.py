"""Indicator frameworks (composite-index hierarchies) as YAML, loaded to COINr ``iMeta`` form.

A framework file (``data/frameworks/<id>.yaml``; format in docs/composite.md) describes a tree
of any depth, index → … → indicator, each node with a code, vi/en names, a weight (or DTI-style
``points``), and for indicators a direction, unit, goalposts (``min``/``max``), target,
denominator; plus the method (normalisation, aggregation) and, for merged provinces, the
publisher's merger rule. :func:`load_framework` turns it into the same internal metadata that a
COINr ``iMeta`` table gives (:func:`framework_from_imeta`), checked by
:func:`kinhteso.methods.composite.check_imeta`.

The root's children are the framework's **main indices** (the DTI's 8); anything below a main
index is a **component** (the DTI's 47 under Decision 405, when they are known), rolled up to its
main index where a unit has component data. A framework may also carry ``pillars`` (a parallel
view, not a level of the tree), a ``bridge`` from its predecessor (which main index became
which), stated ``assumptions`` (what the sources did not give and what kinhteso uses instead) and
``published`` aggregates. A framework announced but not published ships as a file with
``status: not_published``: loading it raises ``FRAMEWORK_NOT_PUBLISHED`` with the file's message.

>>> fw = load_framework("dti2022")
>>> fw.index, fw.merger_rule["rule"]
('PDTI', 'mean_of_main_indices')
>>> fw.meta.set_index("iCode").loc["hd_chinh_quyen_so", "Weight"]
np.float64(200.0)
>>> fw24 = load_framework("dti2024")
>>> len(fw24.main_indices), [p["code"] for p in fw24.pillars], fw24.bridge["from"]
(8, ['chinh_quyen_so', 'kinh_te_so', 'xa_hoi_so'], 'dti2022')
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from kinhteso.errors import InputRejected, ReferenceDataError
from kinhteso.methods import composite as C

__all__ = ["BRIDGE_RELATIONS", "Framework", "available_frameworks", "load_framework", "framework_from_dict",
           "framework_from_imeta"]

_DIR = ("data", "frameworks")
_NODE_KEYS = {"code", "name", "weight", "points", "direction", "unit", "target", "min", "max", "denominator",
              "group", "children", "source", "scored", "note", "sub_indicators"}
#: How a predecessor's main index relates to this framework's (``bridge.map[].relation``).
BRIDGE_RELATIONS = ("same_name", "renamed", "split", "merged", "dropped", "new")


@dataclass(frozen=True)
class Framework:
    """A framework: identity, method, merger rule and its ``iMeta`` (COINr columns + extras)."""

    id: str
    name: dict[str, str]
    meta: pd.DataFrame
    method: dict[str, Any] = field(default_factory=dict)
    merger_rule: dict[str, Any] | None = None
    scores: dict[str, float] | None = None
    source: str = ""
    #: the pillars (``code``, ``name``, ``members``: main-index codes or None when not published)
    pillars: tuple[dict[str, Any], ...] = ()
    #: ``{"vi", "en", "source"}`` about the pillars (e.g. why they are not a level of the tree)
    pillars_note: dict[str, Any] | None = None
    #: ``{"from": framework id, "map": [{"from", "to", "relation"}], "vi", "en", "source"}``
    bridge: dict[str, Any] | None = None
    #: stated assumptions, each ``{"code", "vi", "en", "source"}``: repeated by every scoring run
    assumptions: tuple[dict[str, Any], ...] = ()
    #: published aggregates that are not a territory's value (averages), with their source
    published: dict[str, Any] | None = None

    @property
    def index(self) -> str:
        """The root aggregate's code."""
        roots = self.meta[(self.meta["Type"] == "Aggregate") & self.meta["Parent"].isna()]
        return str(roots.sort_values("Level")["iCode"].iloc[-1])

    @property
    def indicators(self) -> list[str]:
        return self.meta.loc[self.meta["Type"] == "Indicator", "iCode"].tolist()

    @property
    def main_indices(self) -> list[str]:
        """The root's children, in the file's order (the DTI's main indices)."""
        return self.meta.loc[self.meta["Parent"] == self.index, "iCode"].tolist()

    @property
    def components(self) -> dict[str, list[str]]:
        """Main index → its component indicators (the leaves below it); only main indices that have some."""
        parent = dict(zip(self.meta["iCode"], self.meta["Parent"]))
        mains = set(self.main_indices)
        out: dict[str, list[str]] = {}
        for code in self.indicators:
            top = code
            while parent.get(top) is not None and top not in mains:
                top = parent[top]
            if top in mains and top != code:
                out.setdefault(top, []).append(code)
        return out

    @property
    def main_meta(self) -> pd.DataFrame:
        """The ``iMeta`` cut at the main indices (each one an indicator): the tree scored once
        components have been rolled up to their main index. Equal to ``meta`` without components."""
        if not self.components:
            return self.meta
        keep = self.meta["iCode"].isin([self.index, *self.main_indices])
        m = self.meta[keep].copy()
        main = m["iCode"].isin(self.main_indices)
        m.loc[main, "Type"] = "Indicator"
        m.loc[main, "Level"] = 1
        m.loc[~main, "Level"] = 2
        return C.check_imeta(m.reset_index(drop=True))

    def assumption_notes(self) -> list[tuple[str, str]]:
        """The stated assumptions as (vi, en) notes."""
        return [(str(a.get("vi", "")).strip(), str(a.get("en", "")).strip()) for a in self.assumptions]

    def __repr__(self) -> str:
        return f"<Framework {self.id} ({len(self.indicators)} indicators, index {self.index})>"


def _status(name: str) -> str:
    f = resources.files("kinhteso.reference").joinpath(*_DIR, f"{name}.yaml")
    doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
    return str(doc.get("status", "published")) if isinstance(doc, dict) else "published"


def available_frameworks(*, include_unpublished: bool = False) -> list[str]:
    """Ids of the frameworks shipped with kinhteso (with ``include_unpublished``, also those
    announced but not published, which cannot be loaded)."""
    d = resources.files("kinhteso.reference").joinpath(*_DIR)
    ids = sorted(p.name[:-5] for p in d.iterdir() if p.name.endswith(".yaml"))
    return ids if include_unpublished else [i for i in ids if _status(i) != "not_published"]


def load_framework(name_or_path: str | Path) -> Framework:
    """A shipped framework by id (``"dti2022"``) or a YAML file by path."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") and p.exists():
        text, where = p.read_text(encoding="utf-8"), str(p)
    else:
        f = resources.files("kinhteso.reference").joinpath(*_DIR, f"{name_or_path}.yaml")
        if not f.is_file():
            raise ReferenceDataError(
                "UNKNOWN_FRAMEWORK",
                f"Không có khung chỉ số '{name_or_path}'; có sẵn: {', '.join(available_frameworks())}.",
                f"No framework '{name_or_path}'; available: {', '.join(available_frameworks())}.")
        text, where = f.read_text(encoding="utf-8"), f"{name_or_path}.yaml"
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ReferenceDataError("FRAMEWORK_YAML", f"{where}: YAML không hợp lệ: {exc}",
                                 f"{where}: invalid YAML: {exc}") from exc
    if isinstance(doc, dict) and doc.get("status") == "not_published":
        ann = _name(doc.get("announced"))
        raise ReferenceDataError(
            "FRAMEWORK_NOT_PUBLISHED",
            f"Khung chỉ số '{doc.get('id', name_or_path)}' chưa được công bố nên kinhteso không có cấu trúc và "
            f"trọng số của nó: {ann['vi'].strip()} Nguồn: {doc.get('source', '')}. Khung có sẵn: "
            f"{', '.join(available_frameworks())}.",
            f"Framework '{doc.get('id', name_or_path)}' has not been published, so kinhteso has no structure "
            f"or weights for it: {ann['en'].strip()} Source: {doc.get('source', '')}. Available: "
            f"{', '.join(available_frameworks())}.", framework=str(doc.get("id", name_or_path)))
    fw = framework_from_dict(doc, where=where)
    if fw.bridge and fw.bridge.get("from"):
        _check_bridge_from(fw, load_framework(str(fw.bridge["from"])), where)
    return fw


def _name(v: Any) -> dict[str, str]:
    if isinstance(v, dict):
        return {"vi": str(v.get("vi", v.get("en", ""))), "en": str(v.get("en", v.get("vi", "")))}
    return {"vi": str(v or ""), "en": str(v or "")}


def framework_from_dict(doc: dict[str, Any], *, where: str = "") -> Framework:
    """Build a :class:`Framework` from a parsed YAML document (see docs/composite.md)."""
    if not isinstance(doc, dict) or "index" not in doc or "id" not in doc:
        raise ReferenceDataError("FRAMEWORK_FORMAT", f"{where}: cần các khóa 'id' và 'index'.",
                                 f"{where}: the keys 'id' and 'index' are required.")
    rows: list[dict[str, Any]] = []

    def walk(node: dict[str, Any], parent: str | None) -> int:
        if not isinstance(node, dict) or "code" not in node:
            raise ReferenceDataError("FRAMEWORK_NODE", f"{where}: mỗi nút cần khóa 'code' (dưới '{parent}').",
                                     f"{where}: every node needs a 'code' key (under '{parent}').")
        unknown = set(node) - _NODE_KEYS
        if unknown:
            raise ReferenceDataError("FRAMEWORK_KEY", f"{where}: nút '{node['code']}' có khóa lạ {sorted(unknown)}.",
                                     f"{where}: node '{node['code']}' has unknown keys {sorted(unknown)}.")
        kids = node.get("children") or []
        nm = _name(node.get("name"))
        weight = node.get("weight", node.get("points", 1))
        row = {"iCode": str(node["code"]), "iName": nm["vi"], "iName_en": nm["en"],
               "Direction": node.get("direction", 1), "Weight": weight, "Unit": node.get("unit"),
               "Target": node.get("target"), "Denominator": node.get("denominator"), "Parent": parent,
               "Type": "Aggregate" if kids else "Indicator", "Min": node.get("min"), "Max": node.get("max"),
               "Points": node.get("points"), "Group": node.get("group"), "Scored": node.get("scored", True),
               "Source": node.get("source")}
        rows.append(row)
        height = 0
        for k in kids:
            height = max(height, 1 + walk(k, row["iCode"]))
        row["Level"] = height + 1
        return height

    walk(doc["index"], None)
    meta = pd.DataFrame(rows)
    cols = list(C.META_COLUMNS) + [c for c in meta.columns if c not in C.META_COLUMNS]
    meta = meta[cols]
    try:
        meta = C.check_imeta(meta, file=where)
    except InputRejected as exc:
        raise ReferenceDataError("FRAMEWORK_INVALID",
                                 f"{where}: khung không hợp lệ: " + "; ".join(p.vi for p in exc.problems),
                                 f"{where}: invalid framework: " + "; ".join(p.en for p in exc.problems)) from exc
    fw = Framework(id=str(doc["id"]), name=_name(doc.get("name")), meta=meta, method=dict(doc.get("method") or {}),
                   merger_rule=doc.get("merger_rule"), scores=doc.get("scores"), source=str(doc.get("source", "")),
                   assumptions=tuple(doc.get("assumptions") or ()), published=doc.get("published"))
    pillars = doc.get("pillars") or {}
    if pillars:
        fw = _with_pillars(fw, pillars, where)
    if doc.get("bridge"):
        fw = _with_bridge(fw, doc["bridge"], where)
    return fw


def _bad(where: str, vi: str, en: str) -> ReferenceDataError:
    return ReferenceDataError("FRAMEWORK_FORMAT", f"{where}: {vi}", f"{where}: {en}")


def _with_pillars(fw: Framework, pillars: Any, where: str) -> Framework:
    """Pillars: ``{note, source, list: [{code, name, members, source}]}``; members are main-index
    codes or null (not published)."""
    items = pillars.get("list") if isinstance(pillars, dict) else None
    if not isinstance(items, list) or not all(isinstance(p, dict) and "code" in p for p in items):
        raise _bad(where, "'pillars' cần 'list' gồm các mục có 'code'.", "'pillars' needs a 'list' of items with a 'code'.")
    mains = set(fw.main_indices)
    out = []
    for p in items:
        members = p.get("members")
        if members is not None:
            unknown = [m for m in members if m not in mains]
            if unknown:
                raise _bad(where, f"trụ cột '{p['code']}' nêu chỉ số chính không có: {unknown}.",
                           f"pillar '{p['code']}' names main indices that do not exist: {unknown}.")
            members = list(members)
        out.append({"code": str(p["code"]), "name": _name(p.get("name")), "members": members,
                    "source": str(p.get("source", ""))})
    note = {k: pillars.get(k) for k in ("note", "source") if pillars.get(k) is not None}
    return replace(fw, pillars=tuple(out), pillars_note=note or None)


def _with_bridge(fw: Framework, bridge: Any, where: str) -> Framework:
    """The bridge from the predecessor: every ``to`` is one of this framework's main indices (or null
    for ``dropped``), every relation one of :data:`BRIDGE_RELATIONS`."""
    rows = bridge.get("map") if isinstance(bridge, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise _bad(where, "'bridge' cần 'from' và 'map' (danh sách).", "'bridge' needs 'from' and a 'map' list.")
    mains = set(fw.main_indices)
    for r in rows:
        rel, to = r.get("relation"), r.get("to")
        if rel not in BRIDGE_RELATIONS:
            raise _bad(where, f"bridge: quan hệ '{rel}' không hợp lệ; chọn một trong {', '.join(BRIDGE_RELATIONS)}.",
                       f"bridge: relation '{rel}' is not valid; choose one of {', '.join(BRIDGE_RELATIONS)}.")
        if (to is None) != (rel == "dropped") or (to is not None and to not in mains):
            raise _bad(where, f"bridge: '{r.get('from')}' → '{to}' ({rel}): đích phải là một chỉ số chính "
                              "(hoặc null khi 'dropped').",
                       f"bridge: '{r.get('from')}' → '{to}' ({rel}): the target must be a main index "
                       "(or null when 'dropped').")
    return replace(fw, bridge=dict(bridge))


def _check_bridge_from(fw: Framework, predecessor: Framework, where: str) -> None:
    """Every ``from`` of the bridge is a main index of the predecessor, and every one of them is mapped."""
    given = [r.get("from") for r in fw.bridge["map"] if r.get("relation") != "new"]  # type: ignore[index]
    unknown = sorted(set(given) - set(predecessor.main_indices))
    unmapped = sorted(set(predecessor.main_indices) - set(given))
    if unknown or unmapped:
        raise _bad(where, f"bridge từ '{predecessor.id}': mã lạ {unknown}, chưa nối {unmapped}.",
                   f"bridge from '{predecessor.id}': unknown codes {unknown}, unmapped {unmapped}.")


def framework_from_imeta(imeta: pd.DataFrame, *, id: str = "imeta", name: str = "") -> Framework:
    """A :class:`Framework` from a COINr ``iMeta`` table (read unchanged; optional ``Min``, ``Max``)."""
    return Framework(id=id, name=_name(name or id), meta=C.check_imeta(imeta))
