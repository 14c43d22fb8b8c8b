"""VSIC, the Vietnamese classification of economic activities, in its two versions: VSIC 2018
(Quyết định 27/2018/QĐ-TTg, ISIC Rev.4) and VSIC 2025 (Quyết định 36/2025/QĐ-TTg, in force from
15/11/2025, ISIC Rev.5): sectors, their tree, and the 2018 → 2025 correspondence.

``data/vsic2018.csv`` holds all 21 sections (A–U), all 88 divisions, and the groups and classes
that the digital-economy definitions use (26 and its classes, 465/4651/4652, 479/4791, 582/5820,
61, 62, 63, 641/6419, 951/9511/9512); ``data/vsic2025.csv`` all 22 sections (A–V), all 87
divisions, all 258 groups and the classes the definitions use; ``data/vsic2018_2025.csv`` the
correspondence. Sources in the ``*.SOURCE.md`` files beside them. The total of the economy,
``_T``, is added here (level ``"total"``), the root of every section, the same in both versions.

Every function takes ``version`` (2018 by default, so that VSIC 2018 code keeps its meaning).
In the store a VSIC 2025 code carries its version as a prefix (:func:`key`: ``v2025:K``), as a
territory key carries its basis; VSIC 2018 codes and ``_T`` are written as they are.

Levels: ``total`` → ``section`` (a letter) → ``division`` (2 digits) → ``group`` (3 digits)
→ ``class`` (4 digits).

>>> get_sector("4651").parent
'465'
>>> ancestors("4651")
('465', '46', 'G', '_T')
>>> section_of("6312"), division_of("6312")
('J', '63')
>>> section_of("62", version=2025), key("62", 2025), split_key("v2025:62")
('K', 'v2025:62', (2025, '62'))
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

from kinhteso.errors import ReferenceDataError, UsageError, near_hint

__all__ = [
    "TOTAL",
    "LEVELS",
    "LEVELS_BY_VERSION",
    "VERSIONS",
    "DEFAULT_VERSION",
    "Sector",
    "sectors",
    "sector_table",
    "get_sector",
    "children",
    "ancestors",
    "section_of",
    "division_of",
    "version_of",
    "key",
    "split_key",
    "parse_version",
    "correspondence",
    "CORRESPONDENCE_FILE",
]

#: Code of the total of all sectors (the same in every version).
TOTAL = "_T"
#: The versions kinhteso ships, and the one a code without a version is read in.
VERSIONS: tuple[int, ...] = (2018, 2025)
DEFAULT_VERSION = 2018
#: Level → (code pattern, level of the parent), VSIC 2018 (sections A–U). One table drives every
#: structural check.
LEVELS: dict[str, tuple[str, str | None]] = {
    "total": (r"_T", None),
    "section": (r"[A-U]", "total"),
    "division": (r"\d{2}", "section"),
    "group": (r"\d{3}", "division"),
    "class": (r"\d{4}", "group"),
}
#: The same table for each version: VSIC 2025 has the sections A–V.
LEVELS_BY_VERSION: dict[int, dict[str, tuple[str, str | None]]] = {
    2018: LEVELS,
    2025: {**LEVELS, "section": (r"[A-V]", "total")},
}
_FILES = {2018: "vsic2018.csv", 2025: "vsic2025.csv"}
_COLUMNS = ("code", "level", "parent", "name_vi", "name_en")
#: Extra columns a version's file may have (VSIC 2025: where each Vietnamese name comes from).
_EXTRA = {2018: (), 2025: ("name_vi_source",)}
#: The file of the 2018 → 2025 correspondence (in the package, or a workspace's override).
CORRESPONDENCE_FILE = "vsic2018_2025.csv"
_CORR_COLUMNS = ("code_2018", "code_2025", "weight", "link", "note")
_PREFIX = "v{version}:"


@dataclass(frozen=True)
class Sector:
    """One VSIC item: section, division, group or class (or the total ``_T``), of ``version``.
    ``name_vi_source`` (VSIC 2025): ``vsic2018`` (the 2018 wording of the same item) or
    ``kinhteso`` (kinhteso's translation of the ISIC Rev.5 title, pending the decision's text)."""

    code: str
    level: str
    parent: str | None
    name_vi: str
    name_en: str
    version: int = DEFAULT_VERSION
    name_vi_source: str = ""

    def __post_init__(self) -> None:
        def bad(vi: str, en: str) -> ReferenceDataError:
            return ReferenceDataError(
                "BAD_SECTOR", f"Ngành {self.code!r} không hợp lệ: {vi}", f"Sector {self.code!r} is invalid: {en}",
                sector=self.code,
            )

        levels = LEVELS_BY_VERSION.get(self.version)
        if levels is None:
            raise bad(f"phiên bản VSIC {self.version!r} không có", f"VSIC version {self.version!r} is unknown")
        if self.level not in levels:
            raise bad(f"cấp {self.level!r} không có; cần một trong {list(levels)}",
                      f"level {self.level!r} is unknown; expected one of {list(levels)}")
        pattern, parent_level = levels[self.level]
        if not re.fullmatch(pattern, self.code or ""):
            raise bad(f"mã không đúng dạng của cấp {self.level}", f"the code does not fit level {self.level}")
        if parent_level is None and self.parent is not None:
            raise bad("tổng không có ngành cha", "the total has no parent")
        if parent_level is not None and not self.parent:
            raise bad("thiếu ngành cha", "the parent is missing")
        if self.level in ("group", "class") and not self.code.startswith(str(self.parent)):
            raise bad(f"mã phải bắt đầu bằng mã ngành cha {self.parent!r}",
                      f"the code must start with its parent's code {self.parent!r}")
        if not self.name_vi.strip() or not self.name_en.strip():
            raise bad("thiếu tên tiếng Việt hoặc tiếng Anh", "the Vietnamese or English name is empty")


def parse_version(value: object) -> int:
    """A VSIC version from ``2018``, ``"2025"``, ``"VSIC 2025"`` or ``"vsic2025"``; anything
    else is the usage error ``BAD_VSIC_VERSION``.

    >>> parse_version("VSIC 2025"), parse_version(2018)
    (2025, 2018)
    """
    text = re.sub(r"(?i)^\s*vsic\s*", "", str(value)).strip()
    text = text[:-2] if text.endswith(".0") else text  # an Excel number cell
    if text.isdigit() and int(text) in VERSIONS:
        return int(text)
    raise UsageError(
        "BAD_VSIC_VERSION",
        f"Phiên bản VSIC '{value}' không có; dùng một trong {', '.join(map(str, VERSIONS))}.",
        f"VSIC version '{value}' is unknown; use one of {', '.join(map(str, VERSIONS))}.",
        value=str(value),
    )


def key(code: str, version: int = DEFAULT_VERSION) -> str:
    """The store's sector key of ``code`` in ``version``: VSIC 2018 codes and ``_T`` as they are,
    other versions' codes with their prefix (``v2025:K``)."""
    if version == DEFAULT_VERSION or code == TOTAL:
        return code
    return _PREFIX.format(version=version) + code


def split_key(sector_key: str) -> tuple[int, str]:
    """(version, code) of a store sector key: ``v2025:K`` → (2025, 'K'), ``K`` → (2018, 'K')."""
    m = re.fullmatch(r"v(\d{4}):(.+)", str(sector_key))
    if m and int(m.group(1)) in VERSIONS:
        return int(m.group(1)), m.group(2)
    return DEFAULT_VERSION, str(sector_key)


def version_of(sector_key: str) -> int | None:
    """The version a store sector key is coded in; ``None`` for ``_T`` (the same in every version)."""
    if sector_key == TOTAL:
        return None
    return split_key(sector_key)[0]


def _check_version(version: int) -> int:
    if version not in _FILES:
        return parse_version(version)
    return version


@lru_cache(maxsize=None)
def sectors(version: int = DEFAULT_VERSION) -> tuple[Sector, ...]:
    """All sectors of ``version``: ``_T`` first, then the file's rows (sections, divisions,
    groups and classes)."""
    version = _check_version(version)
    file = _FILES[version]
    text = resources.files("kinhteso.reference").joinpath("data", file).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    columns = _COLUMNS + _EXTRA[version]
    if not rows or tuple(rows[0].keys()) != columns:
        raise _broken(file, f"cần các cột {list(columns)}", f"expected the columns {list(columns)}")
    out = [Sector(TOTAL, "total", None, "Tổng số (toàn bộ nền kinh tế)", "Total (all activities)", version)]
    for r in rows:
        parent = r["parent"] or (TOTAL if r["level"] == "section" else None)
        out.append(Sector(r["code"], r["level"], parent, r["name_vi"], r["name_en"], version,
                          r.get("name_vi_source", "")))
    by_code: dict[str, Sector] = {}
    for s in out:
        if s.code in by_code:
            raise _broken(file, f"mã trùng {s.code!r}", f"duplicate code {s.code!r}")
        by_code[s.code] = s
    levels = LEVELS_BY_VERSION[version]
    for s in out:
        parent_level = levels[s.level][1]
        if parent_level is None:
            continue
        parent = by_code.get(str(s.parent))
        if parent is None or parent.level != parent_level:
            raise _broken(
                file,
                f"ngành {s.code} ({s.level}) cần ngành cha cấp {parent_level}, nhận {s.parent!r}",
                f"sector {s.code} ({s.level}) needs a parent at level {parent_level}, got {s.parent!r}",
            )
    return tuple(out)


def _broken(file: str, vi: str, en: str) -> ReferenceDataError:
    return ReferenceDataError(
        "REFERENCE_FILE_BROKEN", f"Tệp dữ liệu tham chiếu {file} bị hỏng: {vi}",
        f"Reference data file {file} is broken: {en}", file=file,
    )


@lru_cache(maxsize=None)
def _by_code(version: int = DEFAULT_VERSION) -> dict[str, Sector]:
    return {s.code: s for s in sectors(version)}


@lru_cache(maxsize=None)
def _children_index(version: int = DEFAULT_VERSION) -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for s in sectors(version):
        if s.parent is not None:
            index.setdefault(s.parent, []).append(s.code)
    return {k: tuple(v) for k, v in index.items()}


@lru_cache(maxsize=None)
def _frame(version: int = DEFAULT_VERSION) -> pd.DataFrame:
    columns = list(_COLUMNS + _EXTRA[version])
    df = pd.DataFrame([s.__dict__ for s in sectors(version)], columns=columns)
    return df.astype({c: "string" for c in columns})


def sector_table(version: int = DEFAULT_VERSION) -> pd.DataFrame:
    """All sectors of ``version`` as a data frame (a fresh copy): code, level, parent (``<NA>``
    for ``_T``), name_vi, name_en (and, for VSIC 2025, name_vi_source); codes are strings
    (``"01"`` keeps its leading zero)."""
    return _frame(_check_version(version)).copy()


def _resolve(code: str, version: int) -> tuple[str, int]:
    """A code as given (``K``, ``v2025:K``) → (code, version): a prefix names its version."""
    text = str(code).strip()
    m = re.fullmatch(r"v(\d{4}):(.+)", text)
    if m:
        return m.group(2), parse_version(m.group(1))
    return text, _check_version(version)


def get_sector(code: str, version: int = DEFAULT_VERSION) -> Sector:
    """The sector with this code in ``version`` (a prefixed key ``v2025:K`` names its own
    version); ``ReferenceDataError`` ``UNKNOWN_SECTOR`` (with near codes) if none.

    Only the groups and classes listed in the shipped file are known; every section and
    division is.
    """
    text, version = _resolve(code, version)
    key_ = text if text.isdigit() else text.upper()
    found = _by_code(version).get(key_)
    if found is not None:
        return found
    known = _by_code(version)
    near = difflib.get_close_matches(key_, list(known), n=3, cutoff=0.6)
    if key_.isdigit() and len(key_) in (1, 3) and "0" + key_ in known:  # a leading zero lost
        near = ["0" + key_, *[c for c in near if c != "0" + key_]][:3]
    # a deeper code that is not shipped: point at its nearest shipped ancestor
    for n in range(len(key_) - 1, 1, -1):
        if key_[:n] in known and key_.isdigit():
            near = [key_[:n], *[c for c in near if c != key_[:n]]][:3]
            break
    last = LEVELS_BY_VERSION[version]["section"][0][-2]  # the last section letter: U or V
    hint_vi, hint_en = near_hint(near)
    raise ReferenceDataError(
        "UNKNOWN_SECTOR",
        f"Không có ngành VSIC {version} với mã {code!r} trong danh mục đi kèm (ngành cấp 1 là chữ A–{last}, "
        f"cấp 2 có 2 chữ số, cấp 3 có 3, cấp 4 có 4; tổng là '_T').{hint_vi}",
        f"No VSIC {version} sector with code {code!r} in the shipped list (sections are letters A–{last}, "
        f"divisions 2 digits, groups 3, classes 4; the total is '_T').{hint_en}",
        sector=code,
        suggestions=near,
        version=version,
    )


def children(code: str, version: int = DEFAULT_VERSION) -> tuple[str, ...]:
    """Codes of the direct children of ``code`` that are in the shipped list, in file order."""
    s = get_sector(code, version)
    return _children_index(s.version).get(s.code, ())


def ancestors(code: str, version: int = DEFAULT_VERSION) -> tuple[str, ...]:
    """Codes from the parent up to ``_T``: ``ancestors('4651') == ('465', '46', 'G', '_T')``."""
    out: list[str] = []
    s = get_sector(code, version)
    by_code = _by_code(s.version)
    while s.parent is not None:
        out.append(s.parent)
        s = by_code[s.parent]
    return tuple(out)


def section_of(code: str, version: int = DEFAULT_VERSION) -> str:
    """The section letter of a sector (the section itself for a section).

    Raises ``ReferenceDataError`` ``NO_SECTION`` for ``_T``, which is above every section.
    """
    s = get_sector(code, version)
    if s.level == "section":
        return s.code
    for a in ancestors(s.code, s.version):
        if _by_code(s.version)[a].level == "section":
            return a
    raise ReferenceDataError(
        "NO_SECTION",
        f"Mã {code!r} là tổng của mọi ngành, không thuộc ngành cấp 1 nào.",
        f"Code {code!r} is the total of all sectors and belongs to no section.",
        sector=code,
    )


def division_of(code: str, version: int = DEFAULT_VERSION) -> str | None:
    """The 2-digit division of a division, group or class; ``None`` for a section or ``_T``."""
    s = get_sector(code, version)
    if s.level in ("total", "section"):
        return None
    return s.code[:2]


# --- the 2018 → 2025 correspondence ------------------------------------------------------------
def correspondence(override: Path | None = None) -> pd.DataFrame:
    """The VSIC 2018 → 2025 correspondence: ``code_2018``, ``code_2025``, ``weight``, ``link``
    (``one-to-one``, ``main``, ``part``), ``note``; one row per pair, the weights of each 2018
    code summing to 1 (see ``data/vsic2018_2025.SOURCE.md``). ``_T`` maps to ``_T``.

    ``override``: a workspace's file of the same columns; for each ``code_2018`` it lists, its
    rows replace all the shipped rows of that code. Codes unknown in their version, weights
    outside 0–1 or not summing to 1 are refused (``BAD_CORRESPONDENCE``, naming the row).

    >>> c = correspondence()
    >>> c[c.code_2018 == "K"][["code_2025", "weight"]].values.tolist()
    [['L', 1.0]]
    """
    text = resources.files("kinhteso.reference").joinpath("data", CORRESPONDENCE_FILE).read_text(encoding="utf-8")
    base = _read_corr(text, CORRESPONDENCE_FILE)
    if override is not None and Path(override).exists():
        extra = _read_corr(Path(override).read_text(encoding="utf-8-sig"), str(override))
        base = pd.concat([base[~base.code_2018.isin(set(extra.code_2018))], extra], ignore_index=True)
    total = pd.DataFrame([{"code_2018": TOTAL, "code_2025": TOTAL, "weight": 1.0, "link": "one-to-one",
                           "note": ""}])
    return pd.concat([total, base], ignore_index=True)


def _read_corr(text: str, name: str) -> pd.DataFrame:
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or tuple(rows[0].keys())[:3] != _CORR_COLUMNS[:3]:
        raise _bad_corr(name, None, f"cần các cột {list(_CORR_COLUMNS)}", f"expected the columns {list(_CORR_COLUMNS)}")
    k18, k25 = _by_code(2018), _by_code(2025)
    out, sums = [], {}
    for i, r in enumerate(rows, start=2):
        c18, c25 = (r.get("code_2018") or "").strip(), (r.get("code_2025") or "").strip()
        try:
            w = float(r.get("weight") or "")
        except ValueError:
            w = float("nan")
        if c18 not in k18 or c18 == TOTAL:
            raise _bad_corr(name, i, f"mã VSIC 2018 '{c18}' không có trong danh mục",
                            f"VSIC 2018 code '{c18}' is not in the list")
        if c25 not in k25:
            raise _bad_corr(name, i, f"mã VSIC 2025 '{c25}' không có trong danh mục",
                            f"VSIC 2025 code '{c25}' is not in the list")
        if not 0.0 <= w <= 1.0:
            raise _bad_corr(name, i, f"trọng số '{r.get('weight')}' phải là số từ 0 đến 1",
                            f"weight '{r.get('weight')}' must be a number from 0 to 1")
        sums[c18] = sums.get(c18, 0.0) + w
        out.append({"code_2018": c18, "code_2025": c25, "weight": w, "link": (r.get("link") or "").strip(),
                    "note": (r.get("note") or "").strip()})
    for c18, s in sums.items():
        if abs(s - 1.0) > 1e-9:
            raise _bad_corr(name, None, f"tổng trọng số của mã 2018 '{c18}' là {s:g}, phải bằng 1",
                            f"the weights of 2018 code '{c18}' sum to {s:g}, not 1")
    return pd.DataFrame(out, columns=list(_CORR_COLUMNS)).astype({"weight": float})


def _bad_corr(name: str, row: int | None, vi: str, en: str) -> ReferenceDataError:
    where_vi = f" (dòng {row})" if row else ""
    where_en = f" (row {row})" if row else ""
    return ReferenceDataError("BAD_CORRESPONDENCE", f"Bảng chuyển đổi VSIC 2018 → 2025 {name}{where_vi}: {vi}.",
                              f"VSIC 2018 → 2025 correspondence {name}{where_en}: {en}.", file=name, row=row)
