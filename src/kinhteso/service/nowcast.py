"""The nowcast of the current quarter: the service behind ``kinhteso nowcast``.

:func:`run_nowcast` checks the request, calls :func:`kinhteso.pipeline.nowcast.run_nowcast`
(the current quarter is the first after the last quarter with ``GRDP_VA``; the monthly
indicators of the territory's set published so far enter, the ragged edge filled by AR(p))
and returns the nowcast with its calibrated interval (and the model's), the engine and why it
was chosen, the indicator set and what of it is missing, and the backtest's coverage. It stores
the nowcast as one result run (kind ``nowcast``, status F) unless ``save=False``, and only after
everything succeeded.

>>> NowcastRequest("34:31").save, NowcastRequest("34:31").origins
(True, 12)
>>> NowcastRequest("34:31", indicators=("PORT_TEU", "IIP_YOY:26")).indicators
('PORT_TEU', 'IIP_YOY:26')
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
    """``territory``: VN, a key (34:31) or a name; ``engine`` None: chosen by the backtest of
    the workspace's own data over the last ``origins`` quarters (the real-data rule when that
    history is too short); ``backtest``: run every engine in that backtest even when one is
    named; ``indicators``: ``CODE[:SECTOR]`` overriding the territory's set; ``save``: store the
    nowcast as a result run."""

    territory: str
    engine: str | None = None
    backtest: bool = False
    origins: int = 12
    save: bool = True
    indicators: tuple[str, ...] | None = None


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
    model_interval: dict = field(default_factory=dict)  #: DE_VA, DE_SHARE → the model's (lower, upper)
    calibration: dict = field(default_factory=dict)  #: how the reported interval was calibrated, its coverage
    choice: dict = field(default_factory=dict)  #: the engine, the rule and the sentence why (vi, en)
    indicators: dict = field(default_factory=dict)  #: the set (why), the indicators used and missing

    @property
    def illustrative(self) -> bool:
        return bool(self.provenance.get("illustrative"))

    def as_json(self) -> dict[str, Any]:
        """The nowcast as ``kinhteso nowcast --format json`` gives it."""
        return {"territory": self.territory, "period": self.period, "engine": self.engine,
                "level": self.level, "de_va": self.de_va, "de_va_interval": list(self.de_va_interval),
                "de_share": self.de_share, "de_share_interval": list(self.de_share_interval),
                "model_interval": {k: list(v) for k, v in self.model_interval.items()},
                "calibration": self.calibration, "choice": self.choice, "indicators": self.indicators,
                "growth": self.growth, "months_published": self.months_published, "news": self.news,
                "backtest": self.backtest, "warnings": self.warnings, "provenance": self.provenance,
                "run_id": self.run_id}


def run_nowcast(ws: Workspace, req: NowcastRequest, *, progress: Progress | None = None) -> NowcastResult:
    """Nowcast the current quarter of ``req.territory``; raises ``UsageError`` for an unknown
    territory, engine or indicator, or a backtest span outside :data:`ORIGINS`, before anything
    is stored. ``progress``: :mod:`kinhteso.progress`."""
    from kinhteso.methods.nowcast import ENGINES  # noqa: PLC0415
    from kinhteso.pipeline import nowcast as P  # noqa: PLC0415

    lo, hi = ORIGINS
    if not lo <= req.origins <= hi:
        raise UsageError("BAD_ORIGINS", f"Số quý kiểm định ngược {req.origins} phải trong {lo}–{hi}.",
                         f"The backtest's quarters, {req.origins}, must be within {lo}–{hi}.")
    if req.engine is not None and req.engine not in ENGINES:
        raise UsageError("UNKNOWN_ENGINE", f"Không có phương pháp dự báo '{req.engine}'; dùng {', '.join(ENGINES)}.",
                         f"Unknown nowcast engine '{req.engine}'; use one of {', '.join(ENGINES)}.")
    out = P.run_nowcast(ws, req.territory, engine=req.engine, write=req.save, origins=req.origins,
                        backtest_origins=req.origins if req.backtest else 0,
                        indicators=list(req.indicators) if req.indicators else None, progress=progress)
    e = ENGINES[out.engine]
    return NowcastResult(out.territory, out.period, out.engine, {"vi": e.label_vi, "en": e.label_en}, P.LEVEL,
                         out.de_va, out.de_va_interval, out.de_share, out.de_share_interval, out.growth,
                         out.months_published, out.news, out.backtest, out.provenance, out.warnings, out.run_id,
                         P.SOURCE, out.model_interval, out.calibration, out.choice, out.indicators)
