"""Shared fixtures: where ../shared is, and a skip with a clear message when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KINHTESO_SHARED", ROOT.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared; the calling test is skipped, saying why, when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"reference data not found at {p}: ../shared is absent (oracle test skipped)")
    return p


@pytest.fixture
def shared():
    return shared_path


#: The long-format header of a submission (docs/data-formats.md).
LONG_HEADER = ["indicator", "territory", "basis", "sector", "period", "value", "unit"]


def write_long_csv(path: Path, rows, header=LONG_HEADER, *, encoding: str = "utf-8", delimiter: str = ",") -> Path:
    """Write a submission file (header + rows) as an agency would."""
    import csv

    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def ingest_rows(ws, path: Path, rows, *, source: str = "test", **kwargs):
    """Write ``rows`` to ``path`` and ingest them into workspace ``ws`` (one vintage)."""
    from kinhteso.ingest.load import ingest_file

    return ingest_file(ws.store, write_long_csv(path, rows), source=source, indicators=ws.indicators(),
                       workdir=ws.tmp, **kwargs)


def ingest_records(ws, path: Path, adapter: str, *, source: str = "minh-hoa", text: str | None = None, **kwargs):
    """Ingest one record file with ``adapter`` (``text`` written to ``path`` first); raise its refusal."""
    from kinhteso.service.data import IngestRequest, ingest

    if text is not None:
        path.write_text(text, encoding="utf-8")
    [out] = ingest(ws, IngestRequest(files=(path,), source=source, adapter=adapter, **kwargs))
    if out.rejected is not None:
        raise out.rejected
    return out.result


def figure_value(ws, indicator: str, period: str, territory: str = "34:31"):
    """The official figure of ``indicator`` (``kinhteso.service.figures.figure``)."""
    from kinhteso.service.figures import FigureRequest, figure

    return figure(ws, FigureRequest(territory, period, indicator=indicator)).value


def accounts_rows() -> list[list[str]]:
    """One province's (63:31) annual accounts 2020–2024: value added of three industries, GRDP, and
    national digital coefficients; enough for measure, gaps, plan and scenario."""
    rows = []
    for i, y in enumerate(range(2020, 2025)):
        g = 1.08 ** i
        rows += [["GRDP_VA", "31", "63", "62", str(y), f"{20 * g * 1.15 ** i:.6f}", "VND_BN"],
                 ["GRDP_VA", "31", "63", "10", str(y), f"{300 * g:.6f}", "VND_BN"],
                 ["GRDP_VA", "31", "63", "47", str(y), f"{100 * g:.6f}", "VND_BN"],
                 ["GRDP", "31", "63", "_T", str(y), f"{460 * g * (1 + 0.01 * i):.6f}", "VND_BN"],
                 ["DIGITAL_COEF", "VN", "", "C", str(y), "0.05", "RATIO"],
                 ["DIGITAL_COEF", "VN", "", "G", str(y), "0.2", "RATIO"]]
    return rows


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """`kinhteso --lang en demo` run once for the session: (workspace path, CliRunner result).
    Tests that use it only read the workspace."""
    from click.testing import CliRunner

    from kinhteso.cli import main

    root = tmp_path_factory.mktemp("demo") / "ws"
    return root, CliRunner().invoke(main, ["--lang", "en", "demo", "--workspace", str(root)])
