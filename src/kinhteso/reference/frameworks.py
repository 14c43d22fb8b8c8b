"""Indicator frameworks (composite-index hierarchies) as YAML, loaded to COINr ``iMeta`` form.

A framework file (``data/frameworks/<id>.yaml``; format in docs/composite.md) describes a tree
of any depth, index → … → indicator, each node with a code, vi/en names, a weight (or DTI-style
``points``), and for indicators a direction, unit, goalposts (``min``/``max``), target,
denominator; plus the method (normalisation, aggregation) and, for merged provinces, the
publisher's merger rule. :func:`load_framework` turns it into the same internal metadata that a
COINr ``iMeta`` table gives (:func:`framework_from_imeta`), checked by
:func:`kinhteso.methods.composite.check_imeta`.

>>> fw = load_framework("dti2022")
>>> fw.index, fw.merger_rule["rule"]
('PDTI', 'mean_of_main_indices')
>>> fw.meta.set_index("iCode").loc["hd_chinh_quyen_so", "Weight"]
np.float64(200.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from kinhteso.errors import InputRejected, ReferenceDataError
from kinhteso.methods import composite as C

__all__ = ["Framework", "available_frameworks", "load_framework", "framework_from_dict", "framework_from_imeta"]

_DIR = ("data", "frameworks")
_NODE_KEYS = {"code", "name", "weight", "points", "direction", "unit", "target", "min", "max", "denominator",
              "group", "children", "source", "scored", "note", "sub_indicators"}


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

    @property
    def index(self) -> str:
        """The root aggregate's code."""
        roots = self.meta[(self.meta["Type"] == "Aggregate") & self.meta["Parent"].isna()]
        return str(roots.sort_values("Level")["iCode"].iloc[-1])

    @property
    def indicators(self) -> list[str]:
        return self.meta.loc[self.meta["Type"] == "Indicator", "iCode"].tolist()

    def __repr__(self) -> str:
        return f"<Framework {self.id} ({len(self.indicators)} indicators, index {self.index})>"


def available_frameworks() -> list[str]:
    """Ids of the frameworks shipped with kinhteso."""
    d = resources.files("kinhteso.reference").joinpath(*_DIR)
    return sorted(p.name[:-5] for p in d.iterdir() if p.name.endswith(".yaml"))


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
    return framework_from_dict(doc, where=where)


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
    return Framework(id=str(doc["id"]), name=_name(doc.get("name")), meta=meta, method=dict(doc.get("method") or {}),
                     merger_rule=doc.get("merger_rule"), scores=doc.get("scores"), source=str(doc.get("source", "")))


def framework_from_imeta(imeta: pd.DataFrame, *, id: str = "imeta", name: str = "") -> Framework:
    """A :class:`Framework` from a COINr ``iMeta`` table (read unchanged; optional ``Min``, ``Max``)."""
    return Framework(id=id, name=_name(name or id), meta=C.check_imeta(imeta))
