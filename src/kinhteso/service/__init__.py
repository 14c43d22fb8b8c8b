"""The service layer: one function per capability, typed requests in, typed results out.

Every interface (the CLI, the HTTP API, the dashboard) parses its input into a request, calls
the service and renders the result. A service reads the files and the workspace the request
names, validates (raising :class:`~kinhteso.errors.KinhtesoError` subclasses, in Vietnamese
and English), calls :mod:`kinhteso.pipeline` and :mod:`kinhteso.methods` and returns data:
it prints nothing, never calls click and writes no file the request does not name.

The public names are re-exported here and imported on first use, so that importing one
service module does not import the others.

>>> from kinhteso.service import IORequest, run_io          # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name → the module of this package that defines it
_EXPORTS: dict[str, str] = {
    # file commands: kinhteso io, composite, uncertainty, disaggregate
    "IORequest": "io",
    "IOResult": "io",
    "run_io": "io",
    "CompositeRequest": "composite",
    "CompositeResult": "composite",
    "UncertaintyRequest": "composite",
    "UncertaintyResult": "composite",
    "run_composite": "composite",
    "run_uncertainty": "composite",
    "DisaggregateRequest": "disaggregate",
    "DisaggregateResult": "disaggregate",
    "run_disaggregate": "disaggregate",
    # submissions: kinhteso init, ingest, observations, vintages
    "InitRequest": "workspace",
    "InitResult": "workspace",
    "init": "workspace",
    "load_published": "workspace",
    "IngestRequest": "data",
    "IngestOutcome": "data",
    "ingest": "data",
    "ObservationsRequest": "data",
    "observations": "data",
    "vintages": "data",
    # reference: kinhteso vsic (VSIC 2018 / 2025 and their correspondence)
    "VsicRequest": "vsic",
    "VsicResult": "vsic",
    "vsic_codes": "vsic",
    # the exchange with agencies: members, grants, tokens; the exchange log; refreshing results
    "refresh_after": "refresh",
    "verify_log": "exchange_log",
    "log_entries": "exchange_log",
    # figures: measure, quarterly, results, figure (the official-figure rule)
    "MeasureRequest": "figures",
    "MeasureResponse": "figures",
    "measure": "figures",
    "QuarterlyRequest": "figures",
    "QuarterlyResponse": "figures",
    "quarterly": "figures",
    "ResultsRequest": "figures",
    "results": "figures",
    "FigureRequest": "figures",
    "Figure": "figures",
    "figure": "figures",
    # workspace: gaps, plan, scenario, peers, target list|add, nowcast, index
    "territory_key": "targets",
    "GapsRequest": "targets",
    "GapsResult": "targets",
    "gaps": "targets",
    "PlanRequest": "targets",
    "PlanResult": "targets",
    "plan": "targets",
    "ScenarioRequest": "targets",
    "ScenarioResult": "targets",
    "parse_sets": "targets",
    "scenario": "targets",
    "PeersRequest": "targets",
    "PeersResult": "targets",
    "peers": "targets",
    "TargetListRequest": "targets",
    "TargetListResult": "targets",
    "list_targets": "targets",
    "TargetAddRequest": "targets",
    "TargetAddResult": "targets",
    "add_target": "targets",
    # reference: indicator show|list|export (the indicator sheets)
    "IndicatorShowRequest": "indicators",
    "show_indicator": "indicators",
    "IndicatorListRequest": "indicators",
    "IndicatorListResult": "indicators",
    "list_indicators": "indicators",
    "IndicatorExportRequest": "indicators",
    "IndicatorExportResult": "indicators",
    "export_indicators": "indicators",
    "NowcastRequest": "nowcast",
    "NowcastResult": "nowcast",
    "run_nowcast": "nowcast",
    "IndexRequest": "index",
    "IndexResult": "index",
    "score_index": "index",
    # briefings: kinhteso report (the content; kinhteso.report renders it)
    "ReportRequest": "report",
    "ReportContent": "report",
    "build_report": "report",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from kinhteso.service.composite import (
        CompositeRequest,
        CompositeResult,
        UncertaintyRequest,
        UncertaintyResult,
        run_composite,
        run_uncertainty,
    )
    from kinhteso.service.disaggregate import DisaggregateRequest, DisaggregateResult, run_disaggregate
    from kinhteso.service.data import IngestOutcome, IngestRequest, ObservationsRequest, ingest, observations, vintages
    from kinhteso.service.figures import (
        Figure,
        FigureRequest,
        MeasureRequest,
        MeasureResponse,
        QuarterlyRequest,
        QuarterlyResponse,
        ResultsRequest,
        figure,
        measure,
        quarterly,
        results,
    )
    from kinhteso.service.index import IndexRequest, IndexResult, score_index
    from kinhteso.service.indicators import (
        IndicatorExportRequest,
        IndicatorExportResult,
        IndicatorListRequest,
        IndicatorListResult,
        IndicatorShowRequest,
        export_indicators,
        list_indicators,
        show_indicator,
    )
    from kinhteso.service.io import IORequest, IOResult, run_io
    from kinhteso.service.nowcast import NowcastRequest, NowcastResult, run_nowcast
    from kinhteso.service.report import ReportContent, ReportRequest, build_report
    from kinhteso.service.targets import (
        GapsRequest,
        GapsResult,
        PeersRequest,
        PeersResult,
        PlanRequest,
        PlanResult,
        ScenarioRequest,
        ScenarioResult,
        TargetAddRequest,
        TargetAddResult,
        TargetListRequest,
        TargetListResult,
        add_target,
        gaps,
        list_targets,
        parse_sets,
        peers,
        plan,
        scenario,
        territory_key,
    )
    from kinhteso.service.workspace import InitRequest, InitResult, init, load_published


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kinhteso.service' has no attribute {name!r}")
    return getattr(importlib.import_module(f"kinhteso.service.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
