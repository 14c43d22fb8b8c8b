"""Territories: the nation, the 63 provinces (to 30/6/2025) and the 34 units (from 1/7/2025).

Every province key carries its basis, because GSO codes were reused by the 2025 merger
(Nghị quyết 202/2025/QH15; new codes per Quyết định 19/2025/QĐ-TTg): ``63:24`` is Bắc Giang,
``34:24`` is the new Bắc Ninh (Bắc Giang + Bắc Ninh). The nation is ``VN`` (no basis).

Data files (shipped in the package, sources in ``data/territories.SOURCE.md``):

- ``data/territories.csv``: one row per territory;
- ``data/merger_2025.csv``: the 63 → 34 mapping, one row per old province.

>>> get_territory("63:24").name_vi
'Bắc Giang'
>>> successors_of("63:30")
'34:31'
>>> predecessors_of("34:24")
('63:24', '63:27')
>>> normalise_alias("  TP.Hồ  Chí Minh ")
'tp hồ chí minh'
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources

import pandas as pd

from kinhteso.errors import ReferenceDataError

__all__ = [
    "Region",
    "regions",
    "region_of",
    "find_region",
    "REGION_RULES",
    "with_predecessors",
    "nation_key",
    "find_territories",
    "closest_alias",
    "BASES",
    "TERRITORY_TYPES",
    "Territory",
    "territories",
    "territory_table",
    "get_territory",
    "merger_map",
    "successors_of",
    "predecessors_of",
    "territory_aliases",
    "normalise_alias",
    "strip_diacritics",
]

#: Key of the nation.
nation_key = "VN"
#: The two province bases: 63 units (to 2025-06-30) and 34 units (from 2025-07-01).
BASES = (63, 34)
#: Territory types: nation, province (tỉnh), city (thành phố trực thuộc trung ương).
TERRITORY_TYPES = {
    "nation": ("cả nước", "nation"),
    "province": ("tỉnh", "province"),
    "city": ("thành phố trực thuộc trung ương", "centrally-run city"),
}
#: Number of territories expected on each basis (checked when the files are read).
_EXPECTED_COUNT = {63: 63, 34: 34}

_TERRITORIES_FILE = "territories.csv"
_MERGER_FILE = "merger_2025.csv"
_TERRITORY_COLUMNS = (
    "key", "basis", "code", "name_vi", "name_vi_ascii", "name_en", "type", "valid_from", "valid_to",
)
_KEY_RE = re.compile(r"^(?P<basis>\d{2}):(?P<code>\d{2})$")


def _broken(file: str, vi: str, en: str) -> ReferenceDataError:
    return ReferenceDataError(
        "REFERENCE_FILE_BROKEN",
        f"Tệp dữ liệu tham chiếu {file} bị hỏng: {vi}",
        f"Reference data file {file} is broken: {en}",
        file=file,
    )


def _read_data_csv(name: str) -> list[dict[str, str]]:
    """Rows of a CSV shipped in ``kinhteso/reference/data`` (all values as strings)."""
    text = resources.files("kinhteso.reference").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def strip_diacritics(text: str) -> str:
    """Vietnamese text without diacritics: ``'Đắk Lắk'`` → ``'Dak Lak'``."""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


# --- the territory value object -------------------------------------------------------------


@dataclass(frozen=True)
class Territory:
    """One territory: the nation (``VN``) or a province/city on the 63 or the 34 basis."""

    key: str
    basis: int | None
    code: str
    name_vi: str
    name_vi_ascii: str
    name_en: str
    type: str
    valid_from: date | None
    valid_to: date | None

    def __post_init__(self) -> None:
        def bad(vi: str, en: str) -> ReferenceDataError:
            return ReferenceDataError(
                "BAD_TERRITORY",
                f"Địa bàn {self.key!r} không hợp lệ: {vi}",
                f"Territory {self.key!r} is invalid: {en}",
                key=self.key,
            )

        if self.type not in TERRITORY_TYPES:
            raise bad(
                f"loại {self.type!r} không có; cần một trong {sorted(TERRITORY_TYPES)}",
                f"type {self.type!r} is unknown; expected one of {sorted(TERRITORY_TYPES)}",
            )
        if self.type == "nation":
            if self.key != nation_key or self.basis is not None or self.code != nation_key:
                raise bad(
                    f"cả nước phải có khóa và mã {nation_key!r}, không có hệ (basis)",
                    f"the nation must have key and code {nation_key!r} and no basis",
                )
        else:
            if self.basis not in BASES:
                raise bad(f"hệ (basis) phải là 63 hoặc 34, nhận {self.basis!r}",
                          f"basis must be 63 or 34, got {self.basis!r}")
            if not re.fullmatch(r"\d{2}", self.code or ""):
                raise bad(f"mã tỉnh phải gồm 2 chữ số (ví dụ '01'), nhận {self.code!r}",
                          f"a province code must be 2 digits (e.g. '01'), got {self.code!r}")
            if self.key != f"{self.basis}:{self.code}":
                raise bad(f"khóa phải là '{self.basis}:{self.code}'",
                          f"the key must be '{self.basis}:{self.code}'")
        for field in ("name_vi", "name_vi_ascii", "name_en"):
            if not str(getattr(self, field) or "").strip():
                raise bad(f"thiếu {field}", f"{field} is empty")
        if not self.name_vi_ascii.isascii():
            raise bad("name_vi_ascii còn dấu", "name_vi_ascii is not plain ASCII")
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            raise bad("valid_from sau valid_to", "valid_from is after valid_to")

    def valid_on(self, day: date) -> bool:
        """Whether the territory exists on ``day`` (open ends count as valid)."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


def _parse_date(text: str, *, file: str, key: str, column: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise _broken(file, f"{key}: {column} {text!r} không phải ngày ISO (YYYY-MM-DD)",
                      f"{key}: {column} {text!r} is not an ISO date (YYYY-MM-DD)") from exc


# --- loaders --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def territories() -> tuple[Territory, ...]:
    """All territories in file order: ``VN``, the 63-basis rows, then the 34-basis rows."""
    rows = _read_data_csv(_TERRITORIES_FILE)
    if not rows or tuple(rows[0].keys()) != _TERRITORY_COLUMNS:
        raise _broken(_TERRITORIES_FILE, f"cần các cột {list(_TERRITORY_COLUMNS)}",
                      f"expected the columns {list(_TERRITORY_COLUMNS)}")
    out: list[Territory] = []
    for r in rows:
        out.append(
            Territory(
                key=r["key"],
                basis=int(r["basis"]) if r["basis"] else None,
                code=r["code"],
                name_vi=r["name_vi"],
                name_vi_ascii=r["name_vi_ascii"],
                name_en=r["name_en"],
                type=r["type"],
                valid_from=_parse_date(r["valid_from"], file=_TERRITORIES_FILE, key=r["key"], column="valid_from"),
                valid_to=_parse_date(r["valid_to"], file=_TERRITORIES_FILE, key=r["key"], column="valid_to"),
            )
        )
    keys = [t.key for t in out]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise _broken(_TERRITORIES_FILE, f"khóa trùng {dupes}", f"duplicate keys {dupes}")
    for basis, n in _EXPECTED_COUNT.items():
        got = sum(t.basis == basis for t in out)
        if got != n:
            raise _broken(_TERRITORIES_FILE, f"hệ {basis} có {got} địa bàn, cần {n}",
                          f"basis {basis} has {got} territories, expected {n}")
    if sum(t.key == nation_key for t in out) != 1:
        raise _broken(_TERRITORIES_FILE, f"cần đúng một dòng {nation_key}", f"expected exactly one {nation_key} row")
    return tuple(out)


@lru_cache(maxsize=1)
def _by_key() -> dict[str, Territory]:
    return {t.key: t for t in territories()}


@lru_cache(maxsize=1)
def _territory_frame() -> pd.DataFrame:
    df = pd.DataFrame([t.__dict__ for t in territories()], columns=list(_TERRITORY_COLUMNS))
    df["basis"] = df["basis"].astype("Int64")
    for col in ("key", "code", "name_vi", "name_vi_ascii", "name_en", "type"):
        df[col] = df[col].astype("string")
    return df


def territory_table() -> pd.DataFrame:
    """All territories as a data frame (a fresh copy): key, basis (nullable int), code (string,
    leading zeros kept), name_vi, name_vi_ascii, name_en, type, valid_from, valid_to (dates or None)."""
    return _territory_frame().copy()


def get_territory(key: str) -> Territory:
    """The territory with this key (``'VN'``, ``'63:24'``, ``'34:24'``).

    Raises ``ReferenceDataError`` ``UNKNOWN_TERRITORY`` with the closest keys when there is none.
    """
    found = _by_key().get(str(key).strip())
    if found is not None:
        return found
    hint = _suggest(str(key))
    hint_vi = f" Có phải ý bạn là: {', '.join(hint)}?" if hint else ""
    hint_en = f" Did you mean: {', '.join(hint)}?" if hint else ""
    raise ReferenceDataError(
        "UNKNOWN_TERRITORY",
        f"Không có địa bàn với khóa {key!r}; khóa có dạng 'VN', '63:NN' (63 tỉnh, đến 30/6/2025) "
        f"hoặc '34:NN' (34 tỉnh, thành phố, từ 1/7/2025).{hint_vi}",
        f"No territory with key {key!r}; keys look like 'VN', '63:NN' (63 provinces, to 2025-06-30) "
        f"or '34:NN' (34 provinces and cities, from 2025-07-01).{hint_en}",
        key=key,
        suggestions=hint,
    )


def _suggest(text: str) -> list[str]:
    """Keys that ``text`` probably meant: a code on both bases, an alias, or a near-miss."""
    m = re.fullmatch(r"\s*(\d{2})\s*:\s*(\d{1,2})\s*", str(text))
    if m and f"{m.group(1)}:{int(m.group(2)):02d}" in _by_key():
        return [_labelled(f"{m.group(1)}:{int(m.group(2)):02d}")]
    norm = normalise_alias(text)
    aliases = _alias_index()
    exact = sorted({key for (alias, _basis), key in aliases.items() if alias == norm})
    if exact:
        return [_labelled(k) for k in exact]
    keys = list(_by_key())
    close = difflib.get_close_matches(str(text).strip(), keys, n=3, cutoff=0.6)
    if not close:
        names = {alias: key for (alias, _basis), key in aliases.items()}
        close = sorted({names[a] for a in difflib.get_close_matches(norm, list(names), n=3, cutoff=0.75)})
    return [_labelled(k) for k in close]


def _labelled(key: str) -> str:
    return f"{key} ({_by_key()[key].name_vi})"


# --- the 2025 merger ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _merger() -> tuple[tuple[str, str], ...]:
    rows = _read_data_csv(_MERGER_FILE)
    if not rows or tuple(rows[0].keys()) != ("old_key", "new_key"):
        raise _broken(_MERGER_FILE, "cần các cột old_key,new_key", "expected the columns old_key,new_key")
    by_key = _by_key()
    pairs = tuple((r["old_key"], r["new_key"]) for r in rows)
    for old, new in pairs:
        if old not in by_key or by_key[old].basis != 63:
            raise _broken(_MERGER_FILE, f"{old!r} không phải địa bàn hệ 63", f"{old!r} is not a 63-basis territory")
        if new not in by_key or by_key[new].basis != 34:
            raise _broken(_MERGER_FILE, f"{new!r} không phải địa bàn hệ 34", f"{new!r} is not a 34-basis territory")
    olds = [o for o, _ in pairs]
    old_keys = {t.key for t in territories() if t.basis == 63}
    if len(olds) != len(set(olds)) or set(olds) != old_keys:
        raise _broken(_MERGER_FILE, "mỗi tỉnh cũ phải xuất hiện đúng một lần",
                      "every old province must appear exactly once")
    new_keys = {t.key for t in territories() if t.basis == 34}
    orphans = sorted(new_keys - {n for _, n in pairs})
    if orphans:
        raise _broken(_MERGER_FILE, f"đơn vị mới không có tỉnh cũ nào: {orphans}",
                      f"new units without any predecessor: {orphans}")
    return pairs


def merger_map() -> pd.DataFrame:
    """The 63 → 34 mapping (Nghị quyết 202/2025/QH15): columns old_key, new_key; 63 rows."""
    return pd.DataFrame(list(_merger()), columns=["old_key", "new_key"], dtype="string")


def successors_of(old_key: str) -> str:
    """The 34-basis unit that a 63-basis province became on 2025-07-01."""
    for old, new in _merger():
        if old == old_key:
            return new
    get_territory(old_key)  # unknown key: raises UNKNOWN_TERRITORY with a suggestion
    raise ReferenceDataError(
        "NOT_A_63_BASIS_KEY",
        f"{old_key!r} không phải tỉnh hệ 63; chỉ tỉnh hệ 63 (khóa '63:NN') mới có đơn vị kế thừa.",
        f"{old_key!r} is not a 63-basis province; only 63-basis keys ('63:NN') have a successor.",
        key=old_key,
    )


@lru_cache(maxsize=1)
def _predecessors() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for old, new in _merger():
        out.setdefault(new, []).append(old)
    return {new: tuple(sorted(olds)) for new, olds in out.items()}


def with_predecessors(keys: Iterable[str]) -> set[str]:
    """``keys`` and the 63-basis provinces merged into any 34-basis unit among them (what a
    read of those units depends on); any other key stands for itself.

    >>> sorted(with_predecessors(["34:31", "VN"]))
    ['34:31', '63:30', '63:31', 'VN']
    """
    table = _predecessors()
    out = set(keys)
    for k in list(out):
        out.update(table.get(k, ()))
    return out


def predecessors_of(new_key: str) -> tuple[str, ...]:
    """The 63-basis provinces merged into a 34-basis unit, in code order."""
    found = tuple(sorted(old for old, new in _merger() if new == new_key))
    if found:
        return found
    get_territory(new_key)
    raise ReferenceDataError(
        "NOT_A_34_BASIS_KEY",
        f"{new_key!r} không phải đơn vị hệ 34; chỉ đơn vị hệ 34 (khóa '34:NN') mới có tỉnh tiền thân.",
        f"{new_key!r} is not a 34-basis unit; only 34-basis keys ('34:NN') have predecessors.",
        key=new_key,
    )


# --- aliases: how a person writes a province in a spreadsheet --------------------------------

_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_DASH_RE = re.compile(rf"\s*[{_DASHES}]\s*")
# Old and new tone placement ("Hòa" / "Hoà", "Thủy" / "Thuỷ") are the same name: the tone mark
# is moved to the first vowel of a syllable-final "oa", "oe" or "uy" (not after "q").
_TONES = {
    "a": "àáảãạ",
    "e": "èéẻẽẹ",
    "y": "ỳýỷỹỵ",
    "o": "òóỏõọ",
    "u": "ùúủũụ",
}
_TONE_RE = re.compile(r"(?<!q)(o)([àáảãạèéẻẽẹ])(?![\wđ])|(?<!q)(u)([ỳýỷỹỵ])(?![\wđ])")


def _old_tone(m: re.Match[str]) -> str:
    first, marked = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    for base, marks in _TONES.items():
        if marked in marks:
            i = marks.index(marked)
            return _TONES[first][i] + base
    return m.group(0)  # pragma: no cover - every marked vowel is in _TONES


def normalise_alias(text: str) -> str:
    """The form under which a territory name is looked up.

    Unicode NFC; lower case; every dash (``-``, ``–``, ``—``...) with any spaces around it
    becomes ``" - "``; dots become spaces (``"TP.HCM"`` = ``"TP HCM"``); the tone mark of a
    word-final ``oa``/``oe``/``uy`` goes on the first vowel (``"hoà"`` = ``"hòa"``); runs of
    white space become one space; ends are trimmed.

    >>> normalise_alias("Bà Rịa–Vũng Tàu")
    'bà rịa - vũng tàu'
    >>> normalise_alias("Khánh Hoà") == normalise_alias("KHÁNH HÒA")
    True
    """
    s = unicodedata.normalize("NFC", str(text)).lower()
    s = _DASH_RE.sub(" - ", s)
    s = s.replace(".", " ")
    s = _TONE_RE.sub(_old_tone, s)
    return " ".join(s.split())


#: Names people use besides the official one, by territory key (applied on that key's basis).
_VARIANTS: dict[str, tuple[str, ...]] = {
    "HCM": (
        "Hồ Chí Minh", "Ho Chi Minh", "TP. Hồ Chí Minh", "TP Hồ Chí Minh", "Thành phố Hồ Chí Minh",
        "Thanh pho Ho Chi Minh", "TP Ho Chi Minh", "Ho Chi Minh City", "HCM City", "HCMC", "HCM",
        "TP.HCM", "TP HCM", "TPHCM", "Sài Gòn", "Sai Gon", "Saigon",
    ),
    "HN": ("Hanoi", "Ha Noi City", "Hanoi City"),
    "HP": ("Haiphong",),
    "DN": ("Danang",),
    "DAKLAK": ("Đắc Lắc", "Daklak", "Dak Lak", "Đăk Lăk", "Đắk Lắc"),
    "63:06": ("Bắc Cạn", "Bac Can"),
    "63:62": ("Kontum",),
    "63:67": ("Đắc Nông", "Daknong", "Đăk Nông"),
    "63:46": (
        "Thừa Thiên Huế", "Thừa Thiên - Huế", "Thua Thien Hue", "Thua Thien - Hue", "TT Huế",
        "Huế", "Hue", "Thành phố Huế", "TP Huế", "TP Hue", "Hue City",
    ),
    "34:46": (
        "Huế", "Hue", "Thành phố Huế", "TP Huế", "TP Hue", "Hue City",
        "Thừa Thiên Huế", "Thừa Thiên - Huế", "Thua Thien Hue", "Thua Thien - Hue",
    ),
    "63:77": (
        "Bà Rịa - Vũng Tàu", "Bà Rịa–Vũng Tàu", "Bà Rịa Vũng Tàu", "Ba Ria - Vung Tau",
        "Ba Ria Vung Tau", "BR-VT", "BRVT",
    ),
}
_VARIANT_KEYS = {
    "HCM": ("63:79", "34:79"),
    "HN": ("63:01", "34:01"),
    "HP": ("63:31", "34:31"),
    "DN": ("63:48", "34:48"),
    "DAKLAK": ("63:66", "34:66"),
}
_NATION_ALIASES = (
    "VN", "Việt Nam", "Viet Nam", "Vietnam", "Cả nước", "Ca nuoc", "Toàn quốc", "Toan quoc",
    "Nation", "National", "Whole country",
)


def _alias_rows() -> list[tuple[str, int, str]]:
    rows: list[tuple[str, int, str]] = []
    variants: dict[str, list[str]] = {}
    for tag, names in _VARIANTS.items():
        for key in _VARIANT_KEYS.get(tag, (tag,)):
            variants.setdefault(key, []).extend(names)
    nation = _by_key()[nation_key]
    for basis in BASES:
        for name in (*_NATION_ALIASES, nation.name_vi, nation.name_vi_ascii, nation.name_en):
            rows.append((name, basis, nation_key))
    for t in territories():
        if t.basis is None:
            continue
        bare_vi = re.sub(r"^TP\.?\s+", "", t.name_vi)
        bare_ascii = strip_diacritics(bare_vi)
        names = [t.key, t.code, str(int(t.code)), t.name_vi, t.name_vi_ascii, t.name_en, bare_vi, bare_ascii]
        if t.type == "city":
            names += [f"Thành phố {bare_vi}", f"TP {bare_vi}", f"Thanh pho {bare_ascii}", f"TP {bare_ascii}"]
            if not t.name_en.endswith("City"):
                names.append(f"{t.name_en} City")
        else:
            names += [f"Tỉnh {bare_vi}", f"Tinh {bare_ascii}", f"{t.name_en} Province"]
        names += variants.get(t.key, [])
        rows.extend((name, t.basis, t.key) for name in names)
    return rows


@lru_cache(maxsize=1)
def _alias_index() -> dict[tuple[str, int], str]:
    index: dict[tuple[str, int], str] = {}
    for name, basis, key in _alias_rows():
        alias = normalise_alias(name)
        prior = index.setdefault((alias, basis), key)
        if prior != key:
            raise _broken(
                _TERRITORIES_FILE,
                f"tên {alias!r} chỉ hai địa bàn khác nhau trong hệ {basis}: {prior} và {key}",
                f"the alias {alias!r} names two territories on basis {basis}: {prior} and {key}",
            )
    return index


def find_territories(text: str, basis: int | None = None) -> tuple[str, ...]:
    """The keys a person means by ``text`` — ``VN``, a full key (``34:31``), or a code or name
    on ``basis`` (both bases when None) — and, when nothing matches, ``()``.

    >>> find_territories("Hải Phòng", 34), find_territories("31")
    (('34:31',), ('34:31', '63:31'))
    """
    t = str(text).strip()
    if t.upper() == nation_key:
        return (nation_key,)
    if ":" in t and t in _by_key():
        return (t,)
    norm = normalise_alias(t)
    return tuple(sorted({k for (a, b), k in _alias_index().items() if a == norm and (basis is None or b == basis)}))


def closest_alias(text: str, basis: int) -> tuple[str, str] | None:
    """The nearest spelling known on ``basis`` and its key, for a "did you mean" hint."""
    names = {a: k for (a, b), k in _alias_index().items() if b == basis}
    close = difflib.get_close_matches(normalise_alias(text), list(names), n=1)
    return (close[0], names[close[0]]) if close else None


def territory_aliases() -> pd.DataFrame:
    """Every way a territory may be written in a spreadsheet, within a basis.

    Columns: ``alias`` (already passed through :func:`normalise_alias`), ``basis`` (63 or 34)
    and ``key``. Unique per (alias, basis). The nation's aliases (``"vn"``, ``"cả nước"``...)
    appear on both bases with key ``VN``. To look up user input, normalise it first:

    >>> t = territory_aliases()
    >>> t[(t.alias == normalise_alias("TP. Hồ Chí Minh")) & (t.basis == 34)].key.item()
    '34:79'
    """
    index = _alias_index()
    df = pd.DataFrame(
        [(alias, basis, key) for (alias, basis), key in index.items()], columns=["alias", "basis", "key"]
    )
    df["alias"] = df["alias"].astype("string")
    df["key"] = df["key"].astype("string")
    df["basis"] = df["basis"].astype("int64")
    return df.sort_values(["basis", "key", "alias"], ascending=[False, True, True], ignore_index=True)


# --- the six socio-economic regions -----------------------------------------------------------

_REGIONS_FILE = "regions.csv"
_REGION_MEMBERS_FILE = "region_members.csv"
#: How a province's region was decided (``data/regions.SOURCE.md``): ``listed`` (the published
#: 63-province list), ``official`` (a published 34-unit list, when one ships), and the rule for
#: the 34 units: ``unchanged``/``same_region`` (every old province in one region),
#: ``straddles_namesake`` (old provinces in two regions: the region of the one whose name it keeps).
REGION_RULES = ("listed", "official", "unchanged", "same_region", "straddles_namesake")


@dataclass(frozen=True)
class Region:
    """One of the six socio-economic regions (vùng kinh tế - xã hội) with its members per basis."""

    key: str
    name_vi: str
    name_en: str
    members: dict  #: basis (63, 34) → tuple of province keys
    straddling: tuple[str, ...] = ()  #: 34-basis members whose old provinces sit in two regions

    def provinces(self, basis: int) -> tuple[str, ...]:
        return self.members.get(basis, ())


@lru_cache(maxsize=1)
def regions() -> tuple[Region, ...]:
    """The six socio-economic regions in the statistics office's order, with their provinces on
    both bases; the 34-basis assignment is re-derived from the 63-basis list and the merger and
    checked (sources and the rule: ``data/regions.SOURCE.md``).

    >>> [r.key for r in regions()]
    ['RRD', 'NMM', 'NCC', 'CH', 'SE', 'MRD']
    >>> region_of("34:31"), region_of("63:24"), region_of("34:24")
    ('RRD', 'NMM', 'RRD')
    """
    heads = _read_data_csv(_REGIONS_FILE)
    if not heads or tuple(heads[0].keys()) != ("region", "name_vi", "name_en"):
        raise _broken(_REGIONS_FILE, "cần các cột region,name_vi,name_en", "expected the columns region,name_vi,name_en")
    if len(heads) != 6 or len({h["region"] for h in heads}) != 6:
        raise _broken(_REGIONS_FILE, "cần đúng 6 vùng khác nhau", "expected exactly six distinct regions")
    rows = _read_data_csv(_REGION_MEMBERS_FILE)
    if not rows or tuple(rows[0].keys()) != ("basis", "key", "region", "rule"):
        raise _broken(_REGION_MEMBERS_FILE, "cần các cột basis,key,region,rule", "expected the columns basis,key,region,rule")
    known = {h["region"] for h in heads}
    of: dict[str, tuple[str, str]] = {}
    for r in rows:
        if r["region"] not in known or r["rule"] not in REGION_RULES:
            raise _broken(_REGION_MEMBERS_FILE, f"{r['key']}: vùng {r['region']!r} hoặc quy tắc {r['rule']!r} không có",
                          f"{r['key']}: unknown region {r['region']!r} or rule {r['rule']!r}")
        t = _by_key().get(r["key"])
        if t is None or str(t.basis) != r["basis"]:
            raise _broken(_REGION_MEMBERS_FILE, f"{r['key']!r} không phải tỉnh hệ {r['basis']}",
                          f"{r['key']!r} is not a province of basis {r['basis']}")
        if r["key"] in of:
            raise _broken(_REGION_MEMBERS_FILE, f"{r['key']} thuộc hai vùng", f"{r['key']} is in two regions")
        of[r["key"]] = (r["region"], r["rule"])
    provinces = {t.key for t in territories() if t.basis is not None}
    if set(of) != provinces:
        missing = sorted(provinces - set(of))
        raise _broken(_REGION_MEMBERS_FILE, f"tỉnh chưa thuộc vùng nào: {missing}", f"provinces in no region: {missing}")
    straddling = []
    for key, (region, rule) in of.items():
        if rule in ("listed", "official"):
            continue
        preds = predecessors_of(key)
        olds = {of[p][0] for p in preds}
        if rule == "straddles_namesake":
            name = _by_key()[key].name_vi
            namesake = [p for p in preds if _by_key()[p].name_vi == name]
            expected = of[namesake[0]][0] if len(olds) > 1 and len(namesake) == 1 else None
            straddling.append(key)
        else:
            expected = olds.pop() if len(olds) == 1 else None
        if expected != region:
            raise _broken(_REGION_MEMBERS_FILE, f"{key}: vùng {region} không theo quy tắc {rule}",
                          f"{key}: region {region} does not follow its rule {rule}")
    return tuple(
        Region(h["region"], h["name_vi"], h["name_en"],
               {b: tuple(sorted(k for k, (reg, _) in of.items() if reg == h["region"] and _by_key()[k].basis == b))
                for b in BASES},
               tuple(sorted(k for k in straddling if of[k][0] == h["region"])))
        for h in heads)


def region_of(key: str) -> str:
    """The region key of a province (either basis)."""
    for r in regions():
        if any(key in r.provinces(b) for b in BASES):
            return r.key
    get_territory(key)
    raise ReferenceDataError("NO_REGION", f"{key!r} không thuộc vùng nào (cả nước không phải một tỉnh).",
                             f"{key!r} belongs to no region (the nation is not a province).", key=key)


def find_region(text: str) -> Region | None:
    """The region a person means: its key (``RRD``) or its name in Vietnamese (with or without
    diacritics) or English; None when nothing matches.

    >>> find_region("dong bang song cuu long").key, find_region("rrd").key
    ('MRD', 'RRD')
    """
    norm = normalise_alias(strip_diacritics(str(text)))
    for r in regions():
        names = (r.key, r.name_vi, r.name_en, f"vùng {r.name_vi}", f"vung {strip_diacritics(r.name_vi)}")
        if norm in {normalise_alias(strip_diacritics(n)) for n in names}:
            return r
    return None
