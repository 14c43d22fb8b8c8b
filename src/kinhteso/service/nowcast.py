"""The nowcast of the current quarter: the service behind ``kinhteso nowcast``.

:func:`run_nowcast` checks the request, calls :func:`kinhteso.pipeline.nowcast.run_nowcast`
(the current quarter is the first after the last quarter with ``GRDP_VA``; the monthly
indicators published so far enter, the ragged edge filled by AR(p)) and returns the nowcast
with its interval, the engine and its labels. It stores the nowcast as one result run (kind
``nowcast``, status F) unless ``save=False``, and only after everything succeeded.

>>> NowcastRequest("34:31").save, NowcastRequest("34:31").origins
(True, 8)
>>> res = run_nowcast(ws, NowcastRequest("Hải Phòng", engine="bridge", save=False))   # doctest: +SKIP
>>> res.period, res.de_share, res.de_share_interval                                     # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kinhteso.errors import UsageError

if TYPE_CHECKING:
    from kinhteso.progress import Progress
    from kinhteso.workspace import Workspace

__all__ = ["NowcastRequest", "NowcastResult", "run_nowcast", "ORIGINS"]

#: How many quarters a backtest may span (inclusive bounds).
ORIGINS = (4, 40)


@dataclass(frozen=True)
class NowcastRequest:
    """``territory``: VN, a key (34:31) or a name; ``engine`` None: the default engine (one that
    beats the naive forecast on real GSO data); ``backtest``: add a pseudo-real-time backtest
    over the last ``origins`` quarters; ``save``: store the nowcast as a result run."""

    territory: str
    engine: str | None = None
    backtest: bool = False
    origins: int = 8
    save: bool = True


@dataclass(frozen=True)
class NowcastResult:
    """A territory's nowcast: DE value added and share with their ``level`` intervals, the
    growth nowcasts behind them, the months published, the news (dfm), the backtest, the
    provenance and the warnings; ``run_id`` names the stored run (None when not stored)."""

    territory: str
    period: str
    engine: str
    engine_label: dict[str, str]       #: {"vi": ..., "en": ...}
    level: float
    de_va: float
    de_va_interval: tuple[float, float]
    de_share: float
    de_share_interval: tuple[float, float]
    growth: dict
    months_published: dict[str, list[str]]
    news: dict | None
    backtest: list[dict] | None
    provenance: dict
    warnings: list[dict] = field(default_factory=list)
    run_id: str | None = None
    source: str = "kinhteso:nowcast"   #: how the stored nowcast is named where sources are listed

    @property
    def illustrative(self) -> bool:
        return bool(self.provenance.get("illustrative"))

    def as_json(self) -> dict[str, Any]:
        """The nowcast as ``kinhteso nowcast --format json`` gives it."""
        return {"territory": self.territory, "period": self.period, "engine": self.engine,
                "level": self.level, "de_va": self.de_va, "de_va_interval": list(self.de_va_interval),
                "de_share": self.de_share, "de_share_interval": list(self.de_share_interval),
                "growth": self.growth, "months_published": self.months_published, "news": self.news,
                "backtest": self.backtest, "warnings": self.warnings, "provenance": self.provenance,
                "run_id": self.run_id}


def run_nowcast(ws: Workspace, req: NowcastRequest, *, progress: Progress | None = None) -> NowcastResult:
    """Nowcast the current quarter of ``req.territory``; raises ``UsageError`` for an unknown
    territory or engine, or a backtest span outside :data:`ORIGINS`, before anything is stored.
    ``progress``: :mod:`kinhteso.progress`."""
    from kinhteso.methods.nowcast import ENGINES  # noqa: PLC0415
    from kinhteso.pipeline import nowcast as P  # noqa: PLC0415

    lo, hi = ORIGINS
    if req.backtest and not lo <= req.origins <= hi:
        raise UsageError("BAD_ORIGINS", f"Số quý kiểm định ngược {req.origins} phải trong {lo}–{hi}.",
                         f"The backtest's quarters, {req.origins}, must be within {lo}–{hi}.")
    out = P.run_nowcast(ws, req.territory, engine=req.engine, write=req.save,
                        backtest_origins=req.origins if req.backtest else 0, progress=progress)
    e = ENGINES[out.engine]
    return NowcastResult(out.territory, out.period, out.engine, {"vi": e.label_vi, "en": e.label_en}, P.LEVEL,
                         out.de_va, out.de_va_interval, out.de_share, out.de_share_interval, out.growth,
                         out.months_published, out.news, out.backtest, out.provenance, out.warnings, out.run_id,
                         P.SOURCE)
