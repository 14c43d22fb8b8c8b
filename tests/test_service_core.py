"""The service core: submissions never shadowed by kinhteso's results, one figure per quarter,
reads that store nothing, the official-figure rule.

The demo workspace is built once per session (``demo_run``); tests that write work on a copy.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write_long_csv
from kinhteso.cli import main


def _cli(*args: str, ok: bool = True):
    r = CliRunner().invoke(main, ["--lang", "en", *args])
    if ok:
        assert r.exit_code == 0, r.output
    return r


@pytest.fixture
def demo_copy(demo_run, tmp_path) -> Path:
    root, result = demo_run
    assert result.exit_code == 0, result.output
    dest = tmp_path / "ws"
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns("tmp", "*.lock", "*.intent"))
    return dest


def _digest(root: Path) -> dict[str, str]:
    """SHA-256 of every file of the workspace's store (the file, its WAL if any)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.glob("kinhteso.duckdb*"))
            if not p.name.endswith((".lock", ".intent"))}


def test_an_official_quarterly_figure_is_never_shadowed_by_kinhteso(demo_copy, tmp_path):
    ws = str(demo_copy)
    f = write_long_csv(tmp_path / "de_share_q.csv",
                       [["DE_SHARE", "31", "34", "_T", "2022-Q1", "21.5", "PCT"]])
    _cli("ingest", str(f), "--source", "cuc-thong-ke-hai-phong", "--workspace", ws)
    _cli("quarterly", "--territory", "34:31", "--workspace", ws)
    obs = json.loads(_cli("observations", "--indicator", "DE_SHARE", "--territory", "34:31", "--period", "2022-Q1",
                          "--format", "json", "--workspace", ws).stdout)
    assert [(o["value"], o["source"], o["status"]) for o in obs] == [(21.5, "cuc-thong-ke-hai-phong", "A")]
    fig = json.loads(_cli("figure", "--territory", "34:31", "--indicator", "DE_SHARE", "--period", "2022-Q1",
                          "--format", "json", "--workspace", ws).stdout)
    assert fig["value"] == 21.5 and fig["basis"] == "published" and fig["source"] == "cuc-thong-ke-hai-phong"
    assert fig["vintage"] is not None
    assert any(a["basis"] == "benchmarked" and a["source"] == "kinhteso:quarterly" for a in fig["alternatives"])
    res = json.loads(_cli("results", "--indicator", "DE_SHARE", "--territory", "34:31", "--period", "2022-Q1",
                          "--kind", "quarterly", "--format", "json", "--workspace", ws).stdout)
    assert len(res) == 1
    r = res[0]
    assert r["value"] != 21.5 and r["status"] == "E" and r["basis"] == "benchmarked" and r["kind"] == "quarterly"
    assert r["run_id"] and r["method"] == "denton-cholette" and r["computed_at"] and r["inputs"]["vintages"]


def test_a_quarter_without_a_submission_reports_kinhtesos_benchmarked_figure(demo_run):
    root, _ = demo_run
    fig = json.loads(_cli("figure", "--territory", "34:31", "--period", "2025-Q2", "--format", "json",
                          "--workspace", str(root)).stdout)
    assert fig["basis"] in ("benchmarked", "estimated") and fig["source"] == "kinhteso:quarterly"
    assert fig["status"] == "E" and fig["view"] == "gso"
    annual = json.loads(_cli("figure", "--territory", "VN", "--period", "2024", "--format", "json",
                             "--workspace", str(root)).stdout)
    assert annual["basis"] == "published"  # the NSO's published national share wins over kinhteso's


def test_measure_of_a_quarter_and_quarterly_agree_for_every_territory(demo_copy):
    ws = str(demo_copy)
    m = json.loads(_cli("measure", "--all", "--period", "2025-Q3", "--format", "json", "--workspace", ws).stdout)
    q = json.loads(_cli("quarterly", "--all", "--year", "2025", "--format", "json", "--workspace", ws).stdout)
    q = {x["territory"]: x for x in q if x["period"] == "2025-Q3"}
    assert len(m) == 35 and set(q) == {x["territory"] for x in m}
    for x in m:
        assert x["de_share"] == pytest.approx(q[x["territory"]]["de_share"], rel=1e-12), x["territory"]
        assert x["grdp"] == pytest.approx(q[x["territory"]]["grdp"], rel=1e-12)
        assert x["basis"] == q[x["territory"]]["basis"]
    one = json.loads(_cli("measure", "--territory", "Hải Phòng", "--period", "Q3/2025", "--format", "json",
                          "--workspace", ws).stdout)
    assert one["de_share"] == pytest.approx(q["34:31"]["de_share"], rel=1e-12)
    # its breakdown is scaled to the quarterly totals: the components add up to the share
    assert sum(c["share"] for c in one["components"].values()) == pytest.approx(one["de_share"], rel=1e-9)


def test_three_identical_reads_leave_the_store_unchanged(demo_copy):
    ws = str(demo_copy)
    before = _digest(demo_copy)
    runs = None
    for _ in range(3):
        _cli("measure", "--territory", "34:31", "--period", "2025", "--workspace", ws)
        _cli("measure", "--all", "--period", "2024", "--format", "csv", "--workspace", ws)
        _cli("gaps", "--workspace", ws)
        _cli("observations", "--indicator", "DE_SHARE", "--workspace", ws)
        _cli("figure", "--territory", "34:79", "--period", "2025-Q1", "--workspace", ws)
        _cli("results", "--indicator", "DE_SHARE", "--workspace", ws)
        _cli("vintages", "--workspace", ws)
    assert _digest(demo_copy) == before
    # asked to, measure stores one run, and the same inputs again store nothing new
    first = _cli("measure", "--territory", "34:31", "--period", "2025", "--save", "--workspace", ws).stdout
    again = _cli("measure", "--territory", "34:31", "--period", "2025", "--save", "--workspace", ws).stdout
    assert "run" in first and first.splitlines()[-1] == again.splitlines()[-1]
    runs = json.loads(_cli("results", "--kind", "accounts", "--territory", "34:31", "--period", "2025",
                           "--format", "json", "--workspace", ws).stdout)
    assert len({r["run_id"] for r in runs}) == 1


def test_results_are_never_submissions(demo_run):
    root, _ = demo_run
    obs = json.loads(_cli("observations", "--format", "json", "--workspace", str(root)).stdout)
    assert not any(str(o["source"]).startswith("kinhteso:") for o in obs)
    res = json.loads(_cli("results", "--sector", "*", "--format", "json", "--workspace", str(root)).stdout)
    assert res and {r["status"] for r in res} <= {"E", "F"}
    assert {r["kind"] for r in res} >= {"quarterly", "coef"}
