"""The monthly indicators the nowcast reads, per territory: the declared sets of
``data/nowcast_indicators.yaml`` (a default and sets for territories), overridden by a workspace's
``[nowcast.indicators]`` table in ``kinhteso.toml`` or by a list given on the command line.

>>> s = indicator_set("34:31")
>>> s.labels, s.origin
(('ONLINE_REVENUE', 'IIP_YOY:26', 'EXPORTS:26', 'PORT_TEU'), 'shipped')
>>> indicator_set("34:01").territory, indicator_set("34:31", override=["PORT_TEU"]).labels
('default', ('PORT_TEU',))
>>> parse_label("iip_yoy:26")
('IIP_YOY', '26')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from kinhteso.errors import KinhtesoError, ReferenceDataError, UsageError, WorkspaceError
from kinhteso.reference.indicators import Indicator, load_indicators

__all__ = ["TRANSFORMS", "NowcastIndicator", "IndicatorSet", "parse_label", "shipped_sets", "indicator_set",
           "DEFAULT"]

DEFAULT = "default"
#: Transform name → (vi, en): how a monthly indicator becomes year-on-year log growth in percent.
TRANSFORMS: dict[str, tuple[str, str]] = {
    "yoy_log": ("tăng trưởng log so với cùng kỳ 100·ln(v_m/v_{m−12})", "year-on-year log growth 100·ln(v_m/v_{m−12})"),
    "growth_pct": ("tốc độ tăng so với cùng kỳ (%) đổi sang log 100·ln(1 + v/100)",
                   "growth over the same month a year before (%) as log growth 100·ln(1 + v/100)"),
}
_TOTAL = "_T"


@dataclass(frozen=True)
class NowcastIndicator:
    """One monthly indicator of a set: its code, the sector read, the transform and why it is there."""

    code: str
    sector: str
    transform: str
    why_vi: str
    why_en: str
    sum_sectors: bool = False  #: ``_T`` only: sum one VSIC level for a month without a total

    @property
    def label(self) -> str:
        """``CODE`` for the total, ``CODE:SECTOR`` otherwise: the column name in the nowcast."""
        return self.code if self.sector == _TOTAL else f"{self.code}:{self.sector}"

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "code": self.code, "sector": self.sector, "transform": self.transform,
                "sum_sectors": self.sum_sectors, "why": {"vi": self.why_vi, "en": self.why_en}}


@dataclass(frozen=True)
class IndicatorSet:
    """The indicators of one territory's nowcast; ``territory`` is the key the set is declared for
    (``default`` for the default set), ``origin`` where it comes from: ``shipped``, ``workspace``
    (kinhteso.toml) or ``option`` (the command line)."""

    territory: str
    indicators: tuple[NowcastIndicator, ...]
    why_vi: str
    why_en: str
    origin: str

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(i.label for i in self.indicators)

    def as_dict(self) -> dict[str, Any]:
        return {"declared_for": self.territory, "origin": self.origin, "why": {"vi": self.why_vi, "en": self.why_en},
                "indicators": [i.as_dict() for i in self.indicators]}


def _bad(vi: str, en: str) -> ReferenceDataError:
    return ReferenceDataError("NOWCAST_SETS_INVALID", f"nowcast_indicators.yaml: {vi}", f"nowcast_indicators.yaml: {en}")


def parse_label(text: str) -> tuple[str, str]:
    """``CODE`` or ``CODE:SECTOR`` → (code, sector); the sector is ``_T`` when not given."""
    code, _, sector = str(text).strip().partition(":")
    return code.strip().upper(), (sector.strip() or _TOTAL)


def _check(code: str, sector: str, registry: Mapping[str, Indicator], make) -> None:
    """``make(vi, en)`` builds the error: the code must be a monthly indicator of ``registry`` and
    the sector ``_T`` or a VSIC code of an indicator broken down by VSIC."""
    from kinhteso.reference import vsic  # noqa: PLC0415

    ind = registry.get(code)
    if ind is None:
        raise make(f"không có chỉ tiêu {code} trong danh mục", f"no indicator {code} in the registry")
    if "M" not in ind.frequencies:
        raise make(f"{code} không có số liệu tháng (tần suất {', '.join(ind.frequencies)})",
                   f"{code} is not monthly (frequencies {', '.join(ind.frequencies)})")
    if sector == _TOTAL:
        return
    if ind.sector_kind != "vsic":
        raise make(f"{code} không chia theo ngành VSIC; chỉ dùng '_T'", f"{code} has no VSIC breakdown; use '_T' only")
    try:
        vsic.get_sector(sector)
    except KinhtesoError:
        raise make(f"ngành '{sector}' của {code} không phải mã VSIC", f"sector '{sector}' of {code} is not a VSIC code") from None


@lru_cache(maxsize=1)
def shipped_sets() -> dict[str, IndicatorSet]:
    """The declared sets by territory key (``default`` included), each entry checked against
    the shipped registry."""
    text = resources.files("kinhteso.reference").joinpath("data/nowcast_indicators.yaml").read_text(encoding="utf-8")
    raw = (yaml.safe_load(text) or {}).get("sets") or {}
    if DEFAULT not in raw:
        raise _bad("thiếu bộ 'default'", "the 'default' set is missing")
    registry = load_indicators()
    out: dict[str, IndicatorSet] = {}
    for key, body in raw.items():
        entries = []
        for e in body.get("indicators") or []:
            try:
                ind = NowcastIndicator(str(e["code"]), str(e.get("sector", _TOTAL)), str(e["transform"]),
                                       str(e["why_vi"]), str(e["why_en"]), bool(e.get("sum_sectors", False)))
            except (KeyError, TypeError) as exc:
                raise _bad(f"bộ {key}: mục thiếu trường {exc}", f"set {key}: an entry lacks the field {exc}") from None
            if ind.transform not in TRANSFORMS:
                raise _bad(f"bộ {key}: phép biến đổi '{ind.transform}' không có",
                           f"set {key}: unknown transform '{ind.transform}'")
            if ind.sum_sectors and ind.sector != _TOTAL:
                raise _bad(f"bộ {key}: sum_sectors chỉ dùng với '_T'", f"set {key}: sum_sectors goes with '_T' only")
            _check(ind.code, ind.sector, registry, lambda vi, en, k=key: _bad(f"bộ {k}: {vi}", f"set {k}: {en}"))
            entries.append(ind)
        if not entries or len({i.label for i in entries}) != len(entries):
            raise _bad(f"bộ {key}: danh sách rỗng hoặc trùng", f"set {key}: empty or repeated indicators")
        out[str(key)] = IndicatorSet(str(key), tuple(entries), str(body.get("why_vi", "")),
                                     str(body.get("why_en", "")), "shipped")
    return out


def _named(labels: Sequence[str], origin: str, territory: str, registry: Mapping[str, Indicator], make) -> IndicatorSet:
    """A set from a list of labels: a shipped entry of the same code and sector lends its
    transform and reason; otherwise ``_T``'s rules, ``yoy_log`` and "named by …"."""
    known = {i.label: i for s in shipped_sets().values() for i in s.indicators}
    why = {"workspace": ("do không gian làm việc chọn (kinhteso.toml)", "named by the workspace (kinhteso.toml)"),
           "option": ("do người dùng chọn (--indicators)", "named on the command line (--indicators)")}[origin]
    out: list[NowcastIndicator] = []
    for text in labels:
        code, sector = parse_label(text)
        _check(code, sector, registry, make)
        label = code if sector == _TOTAL else f"{code}:{sector}"
        ind = known.get(label) or NowcastIndicator(code, sector, "yoy_log", why[0], why[1], sector == _TOTAL)
        if ind.label not in {i.label for i in out}:
            out.append(ind)
    if not out:
        raise make("danh sách chỉ báo rỗng", "the list of indicators is empty")
    return IndicatorSet(territory, tuple(out), why[0], why[1], origin)


def indicator_set(territory: str, *, override: Sequence[str] | None = None, config: Any = None,
                  registry: Mapping[str, Indicator] | None = None) -> IndicatorSet:
    """The set for ``territory`` (a key): ``override`` (the command line) first, then the
    workspace's ``config`` (the ``[nowcast.indicators]`` table: key or ``default`` → list of
    ``CODE[:SECTOR]``) for that territory, the shipped set of that territory, the workspace's
    default, the shipped default. Bad names are ``NOWCAST_BAD_INDICATORS`` (usage) or
    ``BAD_SETTING`` (kinhteso.toml)."""
    registry = registry if registry is not None else load_indicators()
    if override:
        def usage(vi: str, en: str) -> UsageError:
            return UsageError("NOWCAST_BAD_INDICATORS", f"--indicators: {vi}.", f"--indicators: {en}.")
        return _named(list(override), "option", territory, registry, usage)

    def setting(vi: str, en: str) -> WorkspaceError:
        return WorkspaceError("BAD_SETTING", f"Thiết lập [nowcast.indicators] trong kinhteso.toml không hợp lệ: {vi}.",
                              f"Setting [nowcast.indicators] in kinhteso.toml is not valid: {en}.", setting="nowcast.indicators")

    table = config if config is not None else {}
    if not isinstance(table, Mapping) or any(
            not isinstance(v, list) or not all(isinstance(c, str) for c in v) for v in table.values()):
        raise setting("cần một bảng: khóa địa bàn hoặc \"default\" = [\"MÃ\", \"MÃ:NGÀNH\", …]",
                      'a table is expected: a territory key or "default" = ["CODE", "CODE:SECTOR", …]')
    shipped = shipped_sets()
    if territory in table:
        return _named(table[territory], "workspace", territory, registry, setting)
    if territory in shipped:
        return shipped[territory]
    if DEFAULT in table:
        return _named(table[DEFAULT], "workspace", DEFAULT, registry, setting)
    return shipped[DEFAULT]
