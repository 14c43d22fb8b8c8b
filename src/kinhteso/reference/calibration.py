"""The published constraints the calibration of ``DIGITAL_COEF`` meets: the digitalised share,
the sector split and the composition of the digital value added, by year, each with its source
(``data/published/calibration_constraints.yaml``), and a user's own file of constraints (YAML or
CSV). The method is :func:`kinhteso.methods.accounts.calibrate_to_constraints`; the pipeline
:func:`kinhteso.pipeline.coefficients.estimate_calibration`.

>>> [(c.id, c.target) for c in published_constraints(2025)]
[('digitalised', 5.6), ('agriculture', 0.13), ('industry_construction', 6.67), ('services', 7.22)]
>>> published_constraints(2025)[1].cover[2018], published_constraints(2025)[1].url[:30]
(('A',), 'https://thoibaotaichinhvietnam')
>>> [c.id for c in published_constraints(2021)]
[]
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from kinhteso.errors import KinhtesoError, ReferenceDataError, UsageError, file_error

__all__ = ["ConstraintSpec", "groups", "published_constraints", "published_years", "read_constraints",
           "FILE_COLUMNS", "KINDS", "SENSES"]

KINDS = ("digitalised", "points", "composition")
SENSES = ("=", ">=", "<=")
#: The columns of a CSV file of constraints (``id``, ``kind``, ``target`` required).
FILE_COLUMNS = ("id", "kind", "target", "cover", "sense", "tolerance", "weight", "precision", "source", "url", "note")
_PUBLISHED = "data/published/calibration_constraints.yaml"


@dataclass(frozen=True)
class ConstraintSpec:
    """One constraint as published or written by a user, its cover in each VSIC version."""

    id: str
    kind: str
    target: float
    cover: dict[int, tuple[str, ...]] = field(default_factory=dict)  #: VSIC version → store keys; {} = the economy
    cover_label: str = ""          #: the group's name or the codes as written
    sense: str = "="
    tolerance: float = 0.0
    weight: float = 1.0
    precision: float = 0.0
    source: str = ""               #: the source's id (published) or what the user wrote
    publisher: str = ""
    release: str = ""
    url: str = ""
    year: int | None = None
    default: bool = True
    note: str = ""

    def keys(self, version: int) -> tuple[str, ...] | None:
        """The cover's store keys in ``version``; () for the whole economy; None when the cover has
        no codes in that version (the constraint does not apply to such accounts)."""
        if not self.cover:
            return ()
        return self.cover.get(version)


@lru_cache(maxsize=1)
def _raw() -> dict:
    text = resources.files("kinhteso.reference").joinpath(_PUBLISHED).read_text(encoding="utf-8")
    return yaml.safe_load(text) or {}


@lru_cache(maxsize=1)
def groups() -> dict[str, dict]:
    """The sector groups (agriculture, industry_construction, services): vi, en, and their
    sections in each VSIC version as store keys."""
    from kinhteso.reference import vsic  # noqa: PLC0415

    out = {}
    for name, g in (_raw().get("groups") or {}).items():
        secs = {int(v): tuple(vsic.key(str(s), int(v)) for s in codes) for v, codes in g["sections"].items()}
        out[str(name)] = {"vi": str(g["vi"]), "en": str(g["en"]), "sections": secs}
    return out


def _cover(value, problems: list[str], where: str) -> tuple[dict[int, tuple[str, ...]], str]:
    """A cover as written (a group name, codes or store keys, or {version: [codes]}) → store keys by version."""
    from kinhteso.reference import vsic  # noqa: PLC0415

    if value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, float) and math.isnan(value)):
        return {}, ""
    if isinstance(value, str) and value.strip() in groups():
        name = value.strip()
        return dict(groups()[name]["sections"]), name
    if isinstance(value, dict):
        pairs = [(str(c), int(v)) for v, codes in value.items() for c in (codes or [])]
    else:
        items = value if isinstance(value, list) else re.split(r"[\s+;|]+", str(value).strip())
        pairs = [(str(c), vsic.version_of(str(c)) or vsic.DEFAULT_VERSION) for c in items if str(c)]
        pairs = [(vsic.split_key(c)[1] if v != vsic.DEFAULT_VERSION else c, v) for c, v in pairs]
    out: dict[int, list[str]] = {}
    for code, version in pairs:
        try:
            s = vsic.get_sector(code, version=version)
        except KinhtesoError:
            problems.append(f"{where}: '{code}' is not a VSIC {version} code")
            continue
        if s.level not in ("section", "division"):
            problems.append(f"{where}: '{code}' is a {s.level}; a cover is made of sections or divisions")
            continue
        out.setdefault(version, []).append(vsic.key(s.code, version))
    label = "+".join(c for c, _ in pairs)
    return {v: tuple(c) for v, c in out.items()}, label


def _number(x, name: str, default: float | None, problems: list[str], where: str) -> float:
    if x is None or (isinstance(x, str) and not x.strip()) or (isinstance(x, float) and math.isnan(x)):
        if default is None:
            problems.append(f"{where}: {name} is missing")
            return math.nan
        return default
    try:
        v = float(x)
    except (TypeError, ValueError):
        problems.append(f"{where}: {name} '{x}' is not a number")
        return math.nan
    if not math.isfinite(v):
        problems.append(f"{where}: {name} is not finite")
    return v


def _spec(d: dict, problems: list[str], where: str, sources: dict | None = None) -> ConstraintSpec | None:
    cid = str(d.get("id") or "").strip()
    kind = str(d.get("kind") or "").strip()
    sense = str(d.get("sense") or "=").strip()
    where = f"{where} ({cid or '?'})"
    n = len(problems)
    if not cid:
        problems.append(f"{where}: id is missing")
    if kind not in KINDS:
        problems.append(f"{where}: kind '{kind}' is not one of {', '.join(KINDS)}")
    if sense not in SENSES:
        problems.append(f"{where}: sense '{sense}' is not one of {', '.join(SENSES)}")
    target = _number(d.get("target"), "target", None, problems, where)
    tol = _number(d.get("tolerance"), "tolerance", 0.0, problems, where)
    weight = _number(d.get("weight"), "weight", 1.0, problems, where)
    precision = _number(d.get("precision"), "precision", 0.0, problems, where)
    cover, label = _cover(d.get("cover"), problems, where)
    if tol < 0 or precision < 0 or not weight > 0:
        problems.append(f"{where}: tolerance and precision must be ≥ 0, weight > 0")
    if kind == "composition" and not 0 <= target <= 100:
        problems.append(f"{where}: a composition share must be within 0–100")
    if kind == "digitalised" and cover:
        problems.append(f"{where}: the digitalised total covers the whole economy (no cover)")
    if kind == "composition" and not cover and len(problems) == n:
        problems.append(f"{where}: a composition constraint needs a cover (a group or VSIC codes)")
    if len(problems) > n:
        return None
    src_id = str(d.get("source") or "").strip()
    src = (sources or {}).get(src_id, {})
    year = d.get("year")
    return ConstraintSpec(cid, kind, target, cover, label, sense, tol, weight, precision, src_id,
                          str(src.get("publisher", "")), str(src.get("release", "")), str(src.get("url") or d.get("url") or ""),
                          int(year) if year not in (None, "") else None, bool(d.get("default", True)), str(d.get("note") or ""))


@lru_cache(maxsize=1)
def _published() -> tuple[ConstraintSpec, ...]:
    raw = _raw()
    problems: list[str] = []
    sources = raw.get("sources") or {}
    out = []
    for i, d in enumerate(raw.get("constraints") or []):
        if str(d.get("source", "")) not in sources:
            problems.append(f"constraint {i + 1}: unknown source '{d.get('source')}'")
        s = _spec(d, problems, f"constraint {i + 1}", sources)
        if s is not None:
            out.append(s)
    seen = set()
    for s in out:
        if (s.year, s.id) in seen:
            problems.append(f"{s.year} {s.id} is declared twice")
        seen.add((s.year, s.id))
    if problems:
        raise ReferenceDataError("CALIBRATION_CONSTRAINTS_INVALID", f"calibration_constraints.yaml: {'; '.join(problems)}",
                                 f"calibration_constraints.yaml: {'; '.join(problems)}")
    return tuple(out)


def published_years() -> list[int]:
    """The years with published constraints."""
    return sorted({s.year for s in _published() if s.year is not None})


def published_constraints(year: int, *, include_all: bool = False) -> list[ConstraintSpec]:
    """The constraints published for ``year`` (the ``default: false`` ones, multi-year averages,
    only with ``include_all``)."""
    return [s for s in _published() if s.year == int(year) and (s.default or include_all)]


def read_constraints(path: str | Path) -> list[ConstraintSpec]:
    """A user's constraints: YAML (a list, or ``constraints:`` a list, of mappings with the keys of
    :data:`FILE_COLUMNS`) or CSV with those columns. Refused whole (``BAD_CONSTRAINTS``) at the
    first file with any problem, every problem listed."""
    import pandas as pd  # noqa: PLC0415

    p = Path(path)
    try:
        if p.suffix.lower() in (".yaml", ".yml"):
            doc = yaml.safe_load(p.read_text(encoding="utf-8"))
            items = doc.get("constraints") if isinstance(doc, dict) else doc
        else:
            f = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            missing = {"id", "kind", "target"} - set(f.columns)
            if missing:
                raise UsageError("BAD_CONSTRAINTS", f"Tệp ràng buộc {p.name} thiếu cột {', '.join(sorted(missing))}.",
                                 f"Constraints file {p.name} lacks columns {', '.join(sorted(missing))}.", path=str(p))
            items = f.to_dict(orient="records")
    except OSError as exc:
        raise file_error(exc) from None
    except (yaml.YAMLError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise UsageError("BAD_CONSTRAINTS", f"Không đọc được tệp ràng buộc {p.name}: {exc}",
                         f"Cannot read constraints file {p.name}: {exc}", path=str(p)) from None
    if not isinstance(items, list) or not items or not all(isinstance(d, dict) for d in items):
        raise UsageError("BAD_CONSTRAINTS", f"Tệp ràng buộc {p.name} không có danh sách ràng buộc nào.",
                         f"Constraints file {p.name} holds no list of constraints.", path=str(p))
    problems: list[str] = []
    out = [s for i, d in enumerate(items) if (s := _spec(d, problems, f"row {i + 1}")) is not None]
    ids = [str(d.get("id") or "").strip() for d in items]
    problems += [f"id '{i}' appears twice" for i in sorted({i for i in ids if i and ids.count(i) > 1})]
    if problems:
        text = "; ".join(problems)
        raise UsageError("BAD_CONSTRAINTS", f"Tệp ràng buộc {p.name} bị từ chối: {text}",
                         f"Constraints file {p.name} refused: {text}", path=str(p), problems=problems)
    return out
