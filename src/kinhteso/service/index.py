"""Scoring the provinces with a composite-index framework: the service behind ``kinhteso index``.

:func:`score_index` checks the request (the period, the ``--as-of`` moment), calls
:func:`kinhteso.pipeline.index.score_index` (the framework's inputs read from the store, put on
the basis asked for, scored with the pure composite methods) and returns the table with its
provenance. Nothing is stored.

>>> IndexRequest("2024").framework, IndexRequest("2023").framework, IndexRequest("2024").n
('dti2024', 'dti2022', 200)
>>> res = score_index(ws, IndexRequest("2024", basis=34, n=50, seed=1))   # doctest: +SKIP
>>> res.table[["territory", "score", "rank", "rank_low", "rank_high"]]    # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kinhteso.periods import period as parse_strict

if TYPE_CHECKING:
    import pandas as pd

    from kinhteso.methods.composite import Coin
    from kinhteso.methods.uncertainty import UncertaintyResult
    from kinhteso.progress import Progress
    from kinhteso.reference.frameworks import Framework
    from kinhteso.workspace import Workspace

__all__ = ["IndexRequest", "IndexResult", "score_index"]


@dataclass(frozen=True)
class IndexRequest:
    """One scoring: ``framework`` (:data:`kinhteso.pipeline.index.FRAMEWORK_INPUTS`; None: the DTI
    framework in force for the period's year, :func:`kinhteso.pipeline.index.default_framework`,
    ``dti2022`` before 2024 and ``dti2024`` from 2024) for ``period``; ``basis`` 63 or 34 (None: 34 when the period has 34-basis data, else 63); ``n``
    uncertainty replications (0: no rank intervals) with ``seed``; ``as_of`` a past moment (a
    datetime, or text such as ``2026-11-26T10:00``). Checked when made: the period becomes its
    SDMX code (``BAD_PERIOD``), a text moment a datetime (``BAD_AS_OF``)."""

    period: str
    framework: str | None = None
    basis: int | None = None
    n: int = 200
    seed: int = 0
    as_of: dt.datetime | str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "period", parse_strict(self.period.strip()).code)
        if not self.framework:
            from kinhteso.pipeline.index import default_framework  # noqa: PLC0415

            object.__setattr__(self, "framework", default_framework(self.period))
        if isinstance(self.as_of, str):
            from kinhteso.pipeline.observations import parse_as_of  # noqa: PLC0415

            object.__setattr__(self, "as_of", parse_as_of(self.as_of))


@dataclass(frozen=True)
class IndexResult:
    """The scores (``table``: :data:`kinhteso.pipeline.index.TABLE_COLUMNS`, best first), the
    framework, the provenance (framework, period, basis, input vintages, method, parameters,
    code version, illustrative), notes (vi, en), and the coin and uncertainty analysis behind
    them."""

    framework: Framework
    table: pd.DataFrame
    provenance: dict[str, Any]
    notes: list[tuple[str, str]] = field(default_factory=list)
    coin: Coin | None = None
    uncertainty: UncertaintyResult | None = None

    @property
    def illustrative(self) -> bool:
        return bool(self.provenance["illustrative"])

    def as_json(self) -> dict[str, Any]:
        """``{"provenance": ..., "scores": [...]}`` with missing values (NA, NaN) as null, as
        ``kinhteso index --format json`` gives it."""
        import pandas as pd  # noqa: PLC0415

        def plain(v: Any) -> Any:
            return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v

        return {"provenance": self.provenance,
                "scores": [{k: plain(v) for k, v in rec.items()} for rec in self.table.to_dict(orient="records")]}


def score_index(ws: Workspace, req: IndexRequest, *, progress: Progress | None = None) -> IndexResult:
    """Score the provinces of ``ws``; an unknown framework (``UNKNOWN_FRAMEWORK``) or basis
    (``INDEX_BASIS``), or missing inputs (``INDEX_NO_DATA``...) raise bilingual errors.
    ``progress``: :mod:`kinhteso.progress`."""
    from kinhteso.pipeline.index import IndexSettings  # noqa: PLC0415
    from kinhteso.pipeline.index import score_index as score  # noqa: PLC0415

    s = IndexSettings(framework=req.framework, period=req.period, basis=req.basis, n=req.n, seed=req.seed,
                      as_of=req.as_of)  # type: ignore[arg-type]  # a datetime once made
    res = score(ws, s, progress=progress)
    return IndexResult(res.framework, res.table, res.provenance, list(res.notes), res.coin, res.uncertainty)
