"""The workspace services called directly (:mod:`kinhteso.service.targets`, ``.nowcast``,
``.index``): each returns the numbers its command prints (the layers agree), reads store
nothing unless asked, and a bad request raises the bilingual error with its code.

Small workspaces built here: a province's annual accounts with a target (gaps, plan, scenario),
four 34-basis provinces (peers), quarterly accounts with monthly indicators (nowcast), DTI main
indices (index), an empty one (the target registry).
"""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from conftest import accounts_rows, ingest_rows
from kinhteso.cli import main
from kinhteso.errors import KinhtesoError, UsageError
from kinhteso.service import (
    GapsRequest,
    IndexRequest,
    NowcastRequest,
    PeersRequest,
    PlanRequest,
    ScenarioRequest,
    TargetAddRequest,
    TargetListRequest,
    add_target,
    gaps,
    list_targets,
    peers,
    plan,
    run_nowcast,
    scenario,
    score_index,
)
from kinhteso.workspace import Workspace


def cli(*args) -> object:
    """``kinhteso --lang en …`` with ``--format json``: the parsed output."""
    r = CliRunner().invoke(main, ["--lang", "en", *map(str, args), "--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def agree(got, shown, path: str = "") -> None:
    """``got`` (the service's value) holds the numbers ``shown`` (the CLI's JSON): the same keys
    and items, floats to 1e-9 (relative), NaN and NA shown as null."""
    if isinstance(shown, dict):
        assert isinstance(got, dict) and set(got) == set(shown), path
        for k in shown:
            agree(got[k], shown[k], f"{path}.{k}")
    elif isinstance(shown, list):
        got = list(got)
        assert len(got) == len(shown), path
        for i, (a, b) in enumerate(zip(got, shown)):
            agree(a, b, f"{path}[{i}]")
    elif shown is None:
        assert got is None or (not isinstance(got, str) and got != got), path  # None, NaN or NA
    elif isinstance(shown, float):
        assert float(got) == pytest.approx(shown, rel=1e-9, abs=1e-12), path
    else:
        assert got == shown, path


def refused(exc: pytest.ExceptionInfo, code: str) -> None:
    """The error has ``code`` and a message in both languages."""
    e = exc.value
    assert isinstance(e, KinhtesoError) and e.code == code, repr(e)
    assert e.vi and e.en and e.vi != e.en


def stored(ws: Workspace) -> tuple[int, int]:
    """How many vintages and result runs the store holds."""
    return len(ws.store.vintages()), len(ws.store.result_runs())


# --- gaps, plan, scenario: one province's annual accounts and a target -----------------------------
@pytest.fixture(scope="module")
def acc(tmp_path_factory):
    d = tmp_path_factory.mktemp("acc")
    w = Workspace.init(d / "ws")
    rows = accounts_rows()
    ingest_rows(w, d / "in.csv", rows)
    (w.root / "targets.yaml").write_text(
        "targets:\n  - {territory: '63:31', indicator: DE_SHARE, year: 2027, value: 20, unit: PCT, comparison: '>=',"
        " direction: higher, source: test plan, url: '-', confidence: low}\n", encoding="utf-8")
    w.close()
    return d / "ws"


def test_gaps_service_gives_the_cli_rows_and_stores_nothing(acc):
    with Workspace.open(acc) as ws:
        before = stored(ws)
        res = gaps(ws, GapsRequest(territory="63:31", indicator="DE_SHARE"))
        assert stored(ws) == before
    (row,) = res.rows
    assert res.territory == "63:31" and row["source"].startswith("computed") and res.sources == [row["source"]]
    assert row["latest_period"] == "2024" and row["target_value"] == 20 and not res.illustrative
    agree(res.rows, cli("gaps", "--territory", "63:31", "--indicator", "DE_SHARE", "--workspace", acc))


def test_gaps_service_refusals(acc):
    with Workspace.open(acc) as ws:
        with pytest.raises(UsageError) as exc:
            gaps(ws, GapsRequest(territory="Atlantis"))
        refused(exc, "UNKNOWN_TERRITORY")
        with pytest.raises(UsageError) as exc:
            gaps(ws, GapsRequest(territory="63:31", indicator="NOPE"))
        refused(exc, "NO_TARGET_FOR_INDICATOR")
        with pytest.raises(UsageError) as exc:
            gaps(ws, GapsRequest(territory="63:01", indicator="DE_SHARE"))
        refused(exc, "NO_TARGET")
        assert "63:01" in exc.value.en and "DE_SHARE" in exc.value.vi


def test_plan_service_gives_the_cli_plan(acc):
    with Workspace.open(acc) as ws:
        before = stored(ws)
        res = plan(ws, PlanRequest("63:31", "DE_SHARE", 2027, growth=0.05))
        assert stored(ws) == before
    assert res.territory == "63:31" and len(res.milestones) == 12 and res.sectors
    assert res.milestones[-1]["value"] == pytest.approx(20.0) and res.growth == {"rate": 0.05, "basis": "given"}
    assert sum(x["contribution_pp"] for x in res.sectors) == pytest.approx(res.sector_summary["required_pp"])
    agree(res.as_dict(), cli("plan", "--territory", "63:31", "--indicator", "DE_SHARE", "--target-year", 2027,
                             "--growth", 0.05, "--workspace", acc))


def test_plan_service_refusals(acc):
    with Workspace.open(acc) as ws:
        with pytest.raises(UsageError) as exc:
            plan(ws, PlanRequest("Atlantis", "DE_SHARE", 2027))
        refused(exc, "UNKNOWN_TERRITORY")
        with pytest.raises(UsageError) as exc:
            plan(ws, PlanRequest("63:31", "NOPE", 2027))
        refused(exc, "NO_TARGET")


def test_scenario_service_gives_the_cli_path(acc):
    sets = ("DIGITAL_COEF:C=+0.1", "GRDP_VA:62=growth:0.15")
    with Workspace.open(acc) as ws:
        before = stored(ws)
        res = scenario(ws, ScenarioRequest("63:31", until=2026, sets=sets, growth=0.0))
        assert stored(ws) == before
    assert res.path.year.tolist() == [2024, 2025, 2026] and res.path.baseline_share.nunique() == 1
    assert [s["op"] for s in res.sets] == ["add", "growth"] and res.grdp_growth == {"rate": 0.0, "basis": "given"}
    shown = cli("scenario", "--territory", "63:31", "--set", sets[0], "--set", sets[1], "--until", 2026,
                "--growth", 0.0, "--workspace", acc)
    assert list(shown) == list(res.as_dict())
    agree(res.as_dict(), shown)


@pytest.mark.parametrize(("sets", "territory", "code"), [
    (("DIGITAL_COEF:52=up",), "63:31", "BAD_SET_CHANGE"),
    (("GRDP:_T=+1",), "Atlantis", "BAD_SET_INDICATOR"),  # the changes are checked first
    ((), "Atlantis", "UNKNOWN_TERRITORY"),
])
def test_scenario_service_refusals(acc, sets, territory, code):
    with Workspace.open(acc) as ws, pytest.raises(UsageError) as exc:
        scenario(ws, ScenarioRequest(territory, until=2026, sets=sets))
    refused(exc, code)


def test_scenario_until_before_the_base_year(acc):
    with Workspace.open(acc) as ws, pytest.raises(UsageError) as exc:
        scenario(ws, ScenarioRequest("63:31", until=2024))
    refused(exc, "BAD_UNTIL")


# --- peers: four provinces on the 34 basis -----------------------------------------------------------
@pytest.fixture(scope="module")
def p34(tmp_path_factory):
    d = tmp_path_factory.mktemp("peers")
    rows = []
    for i, code in enumerate(["01", "31", "24", "79", "48"]):
        rows += [["GRDP", code, "34", "_T", "2025", str(1000 * (i + 1)), "VND_BN"],
                 ["POPULATION", code, "34", "_T", "2025", str(1_000_000 + 300_000 * i), "PERSONS"],
                 ["ECOMMERCE_RETAIL", code, "34", "_T", "2025", str(10 + 7 * i), "VND_BN"],
                 ["RETAIL_SALES", code, "34", "_T", "2025", str(200 + 10 * i), "VND_BN"]]
    with Workspace.init(d / "ws") as w:
        ingest_rows(w, d / "in.csv", rows)
    return d / "ws"


def test_peers_service_gives_the_cli_table(p34):
    with Workspace.open(p34) as ws:
        before = stored(ws)
        every = peers(ws, PeersRequest())
        res = peers(ws, PeersRequest(territory="34:31"))
        assert stored(ws) == before
    assert set(every.table.territory) == {"34:01", "34:31", "34:24", "34:79", "34:48"}
    assert res.territory == "34:31" and set(res.table.territory) == {"34:31"}
    assert res.table.set_index("indicator").loc["ECOMMERCE_SHARE", "value"] == pytest.approx(17 / 210 * 100)
    agree(res.table.to_dict(orient="records"), cli("peers", "--territory", "34:31", "--workspace", p34))


def test_peers_service_refusals(p34, acc):
    with Workspace.open(p34) as ws, pytest.raises(UsageError) as exc:
        peers(ws, PeersRequest(territory="Atlantis"))
    refused(exc, "UNKNOWN_TERRITORY")
    with Workspace.open(p34) as ws, pytest.raises(UsageError) as exc:
        peers(ws, PeersRequest(territory="Hải Phòng"))  # 63:31 and 34:31
    refused(exc, "AMBIGUOUS_TERRITORY")
    with Workspace.open(acc) as ws, pytest.raises(UsageError) as exc:
        peers(ws, PeersRequest())
    refused(exc, "NO_34_DATA")


# --- the target registry -----------------------------------------------------------------------------
def test_target_add_and_list_services_agree_with_the_cli(tmp_path):
    root = tmp_path / "ws"
    with Workspace.init(root) as ws:
        out = add_target(ws, TargetAddRequest("34:31", "ECOMMERCE_SHARE", 2030, 25.0, source="KH test"))
        assert out.path == ws.root / "targets.yaml" and out.path.exists()
        assert (out.target.territory, out.target.unit, out.target.direction) == ("34:31", "PCT", "higher")
        res = list_targets(ws, TargetListRequest(territory="34:31"))
    assert out.target in res.targets and {t.territory for t in res.targets} == {"34:31"}
    assert [t for t in res.targets if t.origin == "workspace"] == [out.target]
    agree(res.records(), cli("target", "list", "--territory", "34:31", "--workspace", root))


@pytest.mark.parametrize(("patch", "code"), [
    ({"territory": "Atlantis"}, "UNKNOWN_TERRITORY"),
    ({"territory": "Hải Phòng"}, "AMBIGUOUS_TERRITORY"),
    ({"indicator": "NOPE"}, "UNKNOWN_INDICATOR"),
    ({"unit": "VND_BN"}, "TARGET_UNIT_MISMATCH"),
    ({"comparison": "=="}, "TARGET_BAD_COMPARISON"),
    ({"value": 120.0}, "TARGET_BAD_VALUE"),
])
def test_target_add_service_refusals_write_nothing(tmp_path, patch, code):
    args = {"territory": "34:31", "indicator": "ECOMMERCE_SHARE", "year": 2030, "value": 25.0, **patch}
    with Workspace.init(tmp_path / "ws") as ws:
        with pytest.raises(UsageError) as exc:
            add_target(ws, TargetAddRequest(**args))
        refused(exc, code)
        assert not exc.value.en.startswith("Target file")
        assert not (ws.root / "targets.yaml").exists()
        with pytest.raises(UsageError) as exc:
            list_targets(ws, TargetListRequest(territory="Atlantis"))
        refused(exc, "UNKNOWN_TERRITORY")


# --- nowcast: quarterly accounts and two monthly indicators ------------------------------------------
@pytest.fixture(scope="module")
def nc(tmp_path_factory):
    """63:31: 24 quarters of value added (2018–2023) and monthly indicators to 2024-01, so the
    quarter to nowcast is 2024-Q1 with one month published."""
    d = tmp_path_factory.mktemp("nowcast")
    rows = []
    for i, p in enumerate(f"{y}-Q{q}" for y in range(2018, 2024) for q in range(1, 5)):
        g = 1.02 ** i * (1 + 0.03 * math.sin(i))
        rows += [["GRDP_VA", "31", "63", "62", p, f"{5 * g * 1.03 ** i:.6f}", "VND_BN"],
                 ["GRDP_VA", "31", "63", "10", p, f"{75 * g:.6f}", "VND_BN"],
                 ["GRDP_VA", "31", "63", "47", p, f"{25 * g:.6f}", "VND_BN"],
                 ["GRDP", "31", "63", "_T", p, f"{115 * g:.6f}", "VND_BN"]]
    for y in range(2018, 2025):
        rows += [["DIGITAL_COEF", "VN", "", "C", str(y), "0.05", "RATIO"],
                 ["DIGITAL_COEF", "VN", "", "G", str(y), "0.2", "RATIO"]]
    for k in range(6 * 12 + 1):
        month = f"{2018 + k // 12}-{k % 12 + 1:02d}"
        g = 1.02 ** (k / 3) * (1 + 0.03 * math.sin(k / 3)) * (1 + 0.01 * math.cos(k))
        rows += [["EINVOICE_REVENUE", "31", "63", "_T", month, f"{40 * g:.6f}", "VND_BN"],
                 ["RETAIL_SALES", "31", "63", "_T", month, f"{30 * g * (1 + 0.02 * math.sin(2 * k)):.6f}", "VND_BN"]]
    with Workspace.init(d / "ws") as w:
        ingest_rows(w, d / "in.csv", rows)
    return d / "ws"


def test_nowcast_service_gives_the_cli_nowcast_and_stores_only_when_asked(nc):
    with Workspace.open(nc) as ws:
        before = stored(ws)
        res = run_nowcast(ws, NowcastRequest("63:31", engine="bridge", save=False))
        assert stored(ws) == before and res.run_id is None
    assert (res.territory, res.period, res.engine, res.level) == ("63:31", "2024-Q1", "bridge", 0.9)
    assert res.de_va_interval[0] < res.de_va < res.de_va_interval[1] and res.engine_label["en"].startswith("Bridge")
    assert res.months_published == {"EINVOICE_REVENUE": ["2024-01"], "RETAIL_SALES": ["2024-01"]}
    shown = cli("nowcast", "--territory", "63:31", "--engine", "bridge", "--dry-run", "--workspace", nc)
    agree(res.as_json(), shown)
    with Workspace.open(nc) as ws:
        kept = run_nowcast(ws, NowcastRequest("63:31", engine="bridge"))
        assert kept.run_id and len(ws.store.result_runs(kind="nowcast")) == 1
        values = ws.store.results(indicator="DE_SHARE", territory="63:31", period="2024-Q1", kind="nowcast")
    assert kept.de_share == pytest.approx(res.de_share) and kept.source == "kinhteso:nowcast"
    assert values.value.tolist() == pytest.approx([res.de_share])


@pytest.mark.parametrize(("req", "code"), [
    (NowcastRequest("Atlantis"), "UNKNOWN_TERRITORY"),
    (NowcastRequest("63:31", engine="lstm"), "UNKNOWN_ENGINE"),
    (NowcastRequest("63:31", backtest=True, origins=2), "BAD_ORIGINS"),
])
def test_nowcast_service_refusals_store_nothing(nc, req, code):
    with Workspace.open(nc) as ws:
        before = stored(ws)
        with pytest.raises(UsageError) as exc:
            run_nowcast(ws, req)
        refused(exc, code)
        assert stored(ws) == before


# --- index: DTI main indices -------------------------------------------------------------------------
DTI = ["nhan_thuc_so", "the_che_so", "ha_tang_so", "nhan_luc_so", "an_toan_thong_tin_mang", "hd_chinh_quyen_so",
       "hd_kinh_te_so", "hd_xa_hoi_so"]


@pytest.fixture(scope="module")
def dti(tmp_path_factory):
    d = tmp_path_factory.mktemp("dti")
    scores = {"01": 0.8, "30": 0.5, "31": 0.7, "24": 0.4}
    rows = [["DTI_MAIN_INDEX", code, "63", c, "2024", f"{v + 0.01 * j:.4f}", "INDEX01"]
            for code, v in scores.items() for j, c in enumerate(DTI)]
    with Workspace.init(d / "ws") as w:
        ingest_rows(w, d / "dti.csv", rows, source="bo-khcn")
    return d / "ws"


def test_index_service_gives_the_cli_scores(dti):
    with Workspace.open(dti) as ws:
        before = stored(ws)
        res = score_index(ws, IndexRequest("2024", basis=63, n=30, seed=3, as_of="2100-01-01"))
        assert stored(ws) == before
    assert res.table.territory.tolist() == ["63:01", "63:31", "63:30", "63:24"]
    assert res.provenance["basis"] == 63 and res.provenance["parameters"]["n"] == 30 and not res.illustrative
    # no framework named: the one in force for 2024 (dti2024, Decision 405; issue 14)
    assert res.framework.id == "dti2024" and res.provenance["as_of"].startswith("2100-01-01T23:59")
    shown = cli("index", "--period", "2024", "--basis", 63, "--n", 30, "--seed", 3, "--as-of", "2100-01-01",
                "--workspace", dti)
    agree(res.as_json(), shown)
    assert [s["score"] for s in shown["scores"]] == pytest.approx(res.table.score.tolist())


@pytest.mark.parametrize(("kw", "code"), [
    ({"period": "2024", "framework": "desi2022"}, "UNKNOWN_FRAMEWORK"),
    ({"period": "2024", "basis": 12}, "INDEX_BASIS"),
    ({"period": "2024", "n": -1}, "INDEX_SETTINGS"),
    ({"period": "2019"}, "INDEX_NO_DATA"),
])
def test_index_service_refusals(dti, kw, code):
    with Workspace.open(dti) as ws, pytest.raises(KinhtesoError) as exc:
        score_index(ws, IndexRequest(**kw))
    refused(exc, code)


@pytest.mark.parametrize(("kw", "code"), [({"period": "2024-13"}, "BAD_PERIOD"),
                                          ({"period": "2024", "as_of": "yesterday"}, "BAD_AS_OF")])
def test_index_request_is_checked_when_made(kw, code):
    with pytest.raises(UsageError) as exc:
        IndexRequest(**kw)
    refused(exc, code)


def test_workspace_services_import_neither_click_nor_heavy_libraries():
    import subprocess
    import sys

    code = ("import sys, kinhteso.service.targets, kinhteso.service.nowcast, kinhteso.service.index\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'click', 'pandas', 'numpy', 'scipy', 'statsmodels', 'duckdb'}))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
