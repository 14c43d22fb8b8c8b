"""VSIC 2018 (Hệ thống ngành kinh tế Việt Nam, Quyết định 27/2018/QĐ-TTg): sectors and their tree.

The shipped file ``data/vsic2018.csv`` holds all 21 sections (A–U), all 88 divisions, and the
groups and classes that the digital-economy definitions use (26 and its classes, 465/4651/4652,
479/4791, 582/5820, 61, 62, 63, 641/6419, 951/9511/9512); sources in ``data/vsic2018.SOURCE.md``.
The total of the economy, ``_T``, is added here (level ``"total"``), the root of every section.

Levels: ``total`` → ``section`` (a letter) → ``division`` (2 digits) → ``group`` (3 digits)
→ ``class`` (4 digits).

>>> get_sector("4651").parent
'465'
>>> ancestors("4651")
('465', '46', 'G', '_T')
>>> section_of("6312"), division_of("6312")
('J', '63')
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd

from kinhteso.errors import ReferenceDataError

__all__ = [
    "TOTAL",
    "LEVELS",
    "Sector",
    "sectors",
    "sector_table",
    "get_sector",
    "children",
    "ancestors",
    "section_of",
    "division_of",
]

#: Code of the total of all sectors.
TOTAL = "_T"
#: Level → (code pattern, level of the parent). One table drives every structural check.
LEVELS: dict[str, tuple[str, str | None]] = {
    "total": (r"_T", None),
    "section": (r"[A-U]", "total"),
    "division": (r"\d{2}", "section"),
    "group": (r"\d{3}", "division"),
    "class": (r"\d{4}", "group"),
}
_FILE = "vsic2018.csv"
_COLUMNS = ("code", "level", "parent", "name_vi", "name_en")


@dataclass(frozen=True)
class Sector:
    """One VSIC 2018 item: section, division, group or class (or the total ``_T``)."""

    code: str
    level: str
    parent: str | None
    name_vi: str
    name_en: str

    def __post_init__(self) -> None:
        def bad(vi: str, en: str) -> ReferenceDataError:
            return ReferenceDataError(
                "BAD_SECTOR", f"Ngành {self.code!r} không hợp lệ: {vi}", f"Sector {self.code!r} is invalid: {en}",
                sector=self.code,
            )

        if self.level not in LEVELS:
            raise bad(f"cấp {self.level!r} không có; cần một trong {list(LEVELS)}",
                      f"level {self.level!r} is unknown; expected one of {list(LEVELS)}")
        pattern, parent_level = LEVELS[self.level]
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


@lru_cache(maxsize=1)
def sectors() -> tuple[Sector, ...]:
    """All sectors: ``_T`` first, then the file's rows (sections, divisions, groups and classes)."""
    text = resources.files("kinhteso.reference").joinpath("data", _FILE).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or tuple(rows[0].keys()) != _COLUMNS:
        raise _broken(f"cần các cột {list(_COLUMNS)}", f"expected the columns {list(_COLUMNS)}")
    out = [Sector(TOTAL, "total", None, "Tổng số (toàn bộ nền kinh tế)", "Total (all activities)")]
    for r in rows:
        parent = r["parent"] or (TOTAL if r["level"] == "section" else None)
        out.append(Sector(r["code"], r["level"], parent, r["name_vi"], r["name_en"]))
    by_code: dict[str, Sector] = {}
    for s in out:
        if s.code in by_code:
            raise _broken(f"mã trùng {s.code!r}", f"duplicate code {s.code!r}")
        by_code[s.code] = s
    for s in out:
        parent_level = LEVELS[s.level][1]
        if parent_level is None:
            continue
        parent = by_code.get(str(s.parent))
        if parent is None or parent.level != parent_level:
            raise _broken(
                f"ngành {s.code} ({s.level}) cần ngành cha cấp {parent_level}, nhận {s.parent!r}",
                f"sector {s.code} ({s.level}) needs a parent at level {parent_level}, got {s.parent!r}",
            )
    return tuple(out)


def _broken(vi: str, en: str) -> ReferenceDataError:
    return ReferenceDataError(
        "REFERENCE_FILE_BROKEN", f"Tệp dữ liệu tham chiếu {_FILE} bị hỏng: {vi}",
        f"Reference data file {_FILE} is broken: {en}", file=_FILE,
    )


@lru_cache(maxsize=1)
def _by_code() -> dict[str, Sector]:
    return {s.code: s for s in sectors()}


@lru_cache(maxsize=1)
def _children_index() -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for s in sectors():
        if s.parent is not None:
            index.setdefault(s.parent, []).append(s.code)
    return {k: tuple(v) for k, v in index.items()}


@lru_cache(maxsize=1)
def _frame() -> pd.DataFrame:
    df = pd.DataFrame([s.__dict__ for s in sectors()], columns=list(_COLUMNS))
    return df.astype({c: "string" for c in _COLUMNS})


def sector_table() -> pd.DataFrame:
    """All sectors as a data frame (a fresh copy): code, level, parent (``<NA>`` for ``_T``),
    name_vi, name_en; codes are strings (``"01"`` keeps its leading zero)."""
    return _frame().copy()


def get_sector(code: str) -> Sector:
    """The sector with this code; ``ReferenceDataError`` ``UNKNOWN_SECTOR`` (with near codes) if none.

    Only the groups and classes listed in the shipped file are known; every section and
    division is.
    """
    key = str(code).strip()
    key = key if key.isdigit() else key.upper()
    found = _by_code().get(key)
    if found is not None:
        return found
    near = difflib.get_close_matches(key, list(_by_code()), n=3, cutoff=0.6)
    if key.isdigit() and len(key) in (1, 3) and "0" + key in _by_code():  # a leading zero lost
        near = ["0" + key, *[c for c in near if c != "0" + key]][:3]
    # a deeper code that is not shipped: point at its nearest shipped ancestor
    for n in range(len(key) - 1, 1, -1):
        if key[:n] in _by_code() and key.isdigit():
            near = [key[:n], *[c for c in near if c != key[:n]]][:3]
            break
    hint_vi = f" Mã gần nhất: {', '.join(near)}." if near else ""
    hint_en = f" Nearest codes: {', '.join(near)}." if near else ""
    raise ReferenceDataError(
        "UNKNOWN_SECTOR",
        f"Không có ngành VSIC 2018 với mã {code!r} trong danh mục đi kèm (ngành cấp 1 là chữ A–U, "
        f"cấp 2 có 2 chữ số, cấp 3 có 3, cấp 4 có 4; tổng là '_T').{hint_vi}",
        f"No VSIC 2018 sector with code {code!r} in the shipped list (sections are letters A–U, "
        f"divisions 2 digits, groups 3, classes 4; the total is '_T').{hint_en}",
        sector=code,
        suggestions=near,
    )


def children(code: str) -> tuple[str, ...]:
    """Codes of the direct children of ``code`` that are in the shipped list, in file order."""
    return _children_index().get(get_sector(code).code, ())


def ancestors(code: str) -> tuple[str, ...]:
    """Codes from the parent up to ``_T``: ``ancestors('4651') == ('465', '46', 'G', '_T')``."""
    out: list[str] = []
    s = get_sector(code)
    while s.parent is not None:
        out.append(s.parent)
        s = _by_code()[s.parent]
    return tuple(out)


def section_of(code: str) -> str:
    """The section letter of a sector (the section itself for a section).

    Raises ``ReferenceDataError`` ``NO_SECTION`` for ``_T``, which is above every section.
    """
    s = get_sector(code)
    if s.level == "section":
        return s.code
    for a in ancestors(s.code):
        if _by_code()[a].level == "section":
            return a
    raise ReferenceDataError(
        "NO_SECTION",
        f"Mã {code!r} là tổng của mọi ngành, không thuộc ngành cấp 1 nào.",
        f"Code {code!r} is the total of all sectors and belongs to no section.",
        sector=code,
    )


def division_of(code: str) -> str | None:
    """The 2-digit division of a division, group or class; ``None`` for a section or ``_T``."""
    s = get_sector(code)
    if s.level in ("total", "section"):
        return None
    return s.code[:2]
