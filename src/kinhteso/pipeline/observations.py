"""Reading observations from a workspace: latest (or as-of) values, optionally on the 34 basis."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from kinhteso.errors import UsageError
from kinhteso.methods.merger import to_basis34
from kinhteso.reference import territories as terr
from kinhteso.workspace import Workspace

__all__ = ["ObservationQuery", "read_observations", "resolve_territories", "parse_as_of", "EXPORT_COLUMNS"]

#: The long-format columns an export carries (an export can be ingested again).
EXPORT_COLUMNS = ["indicator", "territory", "basis", "sector", "period", "value", "unit", "price_basis", "status",
                  "vintage", "source", "illustrative", "backcast", "derived_from"]


@dataclass
class ObservationQuery:
    indicator: list[str] | None = None
    territory: list[str] | None = None
    sector: list[str] | None = None
    period: list[str] | None = None
    as_of: dt.datetime | None = None
    basis: int | None = None
    vsic: int | None = None  #: 2025: VSIC 2018-coded additive series converted on read (pipeline.classification)


@dataclass
class ObservationResult:
    frame: pd.DataFrame
    notes: list[tuple[str, str]] = field(default_factory=list)  # (vi, en)

    @property
    def illustrative(self) -> bool:
        return bool(len(self.frame)) and bool(self.frame["illustrative"].any())


def parse_as_of(text: str | None) -> dt.datetime | None:
    """``2026-11-26``, ``2026-11-26T10:00`` or ``2026-11-26 10:00:00`` (local time)."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            "BAD_AS_OF",
            f"--as-of '{text}' không phải mốc thời gian; dùng 2026-11-26 hoặc 2026-11-26T10:00.",
            f"--as-of '{text}' is not a timestamp; use 2026-11-26 or 2026-11-26T10:00.",
        ) from None
    if len(text.strip()) == 10:  # a date alone means the end of that day
        value = value + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    return value


def resolve_territories(values: list[str], *, basis: int | None) -> list[str]:
    """Territory keys from keys, codes or names (``34:31``, ``31``, ``Hải Phòng``, ``VN``)."""
    out: list[str] = []
    for v in values:
        found = terr.find_territories(v, basis)
        if not found:
            raise UsageError(
                "UNKNOWN_TERRITORY",
                f"Không nhận ra địa bàn '{v}'. Dùng khóa như 34:31, 63:30, VN hoặc tên tỉnh.",
                f"Unknown territory '{v}'. Use a key such as 34:31, 63:30, VN, or a province name.",
            )
        out.extend(found)
    return out


def read_observations(ws: Workspace, q: ObservationQuery) -> ObservationResult:
    """The observations matching ``q``; with ``basis=34`` additive 63-basis series are summed."""
    notes: list[tuple[str, str]] = []
    territories = resolve_territories(q.territory, basis=q.basis) if q.territory else None
    filters = dict(indicator=q.indicator, sector=q.sector, period=q.period)
    if q.basis == 34:
        indicators = ws.indicators()
        if q.indicator:
            refused = [c for c in q.indicator if c in indicators and not indicators[c].additive]
            if refused:
                raise UsageError(
                    "NOT_ADDITIVE",
                    f"Không thể cộng {', '.join(refused)} từ 63 tỉnh sang 34 tỉnh: chỉ tiêu không có tính cộng "
                    "(tỷ lệ, chỉ số). Tỷ lệ phải tính lại từ các thành phần cộng được; chỉ số theo quy tắc của đơn vị công bố.",
                    f"Cannot sum {', '.join(refused)} from the 63 to the 34 provinces: not additive "
                    "(a share or an index). Shares are recomputed from their additive parts; indices follow their publisher's rule.",
                )
        obs = ws.store.observations(as_of=q.as_of, **filters)
        obs, dropped = to_basis34(obs, terr.merger_map(), additive={c: i.additive for c, i in indicators.items()})
        if dropped:
            notes.append((
                f"Bỏ qua số liệu 63 tỉnh của các chỉ tiêu không cộng được: {', '.join(dropped)}.",
                f"Left out the 63-basis values of non-additive indicators: {', '.join(dropped)}.",
            ))
        obs = obs[~obs["territory"].str.startswith("63:")]
    else:
        if territories:  # filtered in the store: a few rows read, not every territory's
            filters["territory"] = territories
        obs = ws.store.observations(as_of=q.as_of, **filters)
        obs = obs.assign(derived_from="")
        if q.basis == 63:
            obs = obs[~obs["territory"].str.startswith("34:")]
    if territories:
        obs = obs[obs["territory"].isin(territories)]
    if q.vsic == 2025:
        from kinhteso.pipeline.classification import to_vsic2025  # noqa: PLC0415

        obs, more = to_vsic2025(ws, obs)
        notes.extend(more)
    return ObservationResult(_export_frame(obs), notes)


def _export_frame(obs: pd.DataFrame) -> pd.DataFrame:
    obs = obs.copy()
    split = obs["territory"].str.split(":", n=1, expand=True) if len(obs) else None
    if split is not None and split.shape[1] == 2:
        obs["basis"] = split[0].where(split[1].notna(), "")
        obs["territory"] = split[1].where(split[1].notna(), split[0])
    else:
        obs["basis"] = ""
    obs = obs.rename(columns={"vintage_id": "vintage"})
    for col in EXPORT_COLUMNS:
        if col not in obs.columns:
            obs[col] = pd.NA
    obs["vintage"] = obs["vintage"].astype("Int64")
    obs["illustrative"] = obs["illustrative"].fillna(False).astype(bool)
    obs["backcast"] = obs["backcast"].fillna(False).astype(bool)
    obs["derived_from"] = obs["derived_from"].fillna("")
    return obs[EXPORT_COLUMNS].reset_index(drop=True)
