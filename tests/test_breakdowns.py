"""Breakdowns of the digital-economy accounts (issue 14 item 4): by ownership type (state,
non-state, FDI) and by the six socio-economic regions."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ingest_rows
from kinhteso.cli import main
from kinhteso.errors import MethodError, ReferenceDataError
from kinhteso.methods import accounts as A
from kinhteso.methods import breakdowns as B
from kinhteso.pipeline import accounts as P
from kinhteso.reference import territories as terr
from kinhteso.service.figures import MeasureRequest, measure
from kinhteso.workspace import Workspace

H = P.hierarchy()
VA = {"26": 100.0, "62": 20.0, "46": 200.0, "10": 300.0, "47": 80.0}


def inputs(va, grdp=900.0, **kw):
    return A.AccountInputs(va=pd.Series(va, dtype=float), grdp=grdp, label="T P",
                           alloc_nat=pd.Series({"4651": 0.05, "4652": 0.10}),
                           coef_nat=pd.Series({"C": 0.05, "G": 0.2}), **kw)


# --- ownership: the method ------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=len(VA), max_size=len(VA)))
def test_ownership_parts_add_up_to_the_total_when_their_value_added_does(splits):
    inp = inputs(VA)
    total = A.measure(inp, H)
    state, fdi, non = {}, {}, {}
    for (code, v), (a, b) in zip(VA.items(), splits):
        state[code] = v * a
        fdi[code] = (v - state[code]) * b
        non[code] = v - state[code] - fdi[code]
    rows, warns = B.ownership(inp, {"state": pd.Series(state), "nonstate": pd.Series(non), "fdi": pd.Series(fdi)},
                              H, total)
    assert [r["ownership"] for r in rows] == ["state", "nonstate", "fdi"] and not warns
    assert sum(r["de_va"] for r in rows) == pytest.approx(total.de_va)
    assert sum(r["share_of_de"] for r in rows) == pytest.approx(100.0)
    assert sum(r["share_of_grdp"] for r in rows) == pytest.approx(total.de_share)
    for k in ("core", "digitalised"):
        assert sum(r["components"][k] for r in rows) == pytest.approx(total.components[k]["va"])


def test_ownership_by_hand_fdi_electronics():
    inp = inputs({"26": 100.0, "10": 300.0})
    total = A.measure(inp, H)  # core 100, digitalised 300 × 0.05 = 15
    rows, _ = B.ownership(inp, {"state": pd.Series({"10": 100.0}), "nonstate": pd.Series({"26": 10.0, "10": 150.0}),
                                "fdi": pd.Series({"26": 90.0, "10": 50.0})}, H, total)
    got = {r["ownership"]: r for r in rows}
    assert got["fdi"]["de_va"] == pytest.approx(90 + 2.5)
    assert got["fdi"]["share_of_de"] == pytest.approx(92.5 / 115 * 100)
    assert got["fdi"]["share_of_grdp"] == pytest.approx(92.5 / 900 * 100)
    assert got["state"]["components"] == {"core": 0.0, "digitalised": pytest.approx(5.0)}


def test_missing_ownership_split_warns_and_guesses_nothing():
    inp = inputs(VA)
    rows, warns = B.ownership(inp, {"state": pd.Series(dtype=float)}, H, A.measure(inp, H))
    assert rows == []
    (w,) = warns
    assert w["code"] == "NO_OWNERSHIP_SPLIT" and "GRDP_VA_FDI" in w["en"] and "không ước đoán" in w["vi"]


def test_partial_split_leaves_an_unassigned_row():
    inp = inputs({"26": 100.0, "10": 300.0})
    total = A.measure(inp, H)
    rows, warns = B.ownership(inp, {"fdi": pd.Series({"26": 90.0, "10": 50.0})}, H, total)
    assert [w["code"] for w in warns] == ["OWNERSHIP_PARTIAL"] and warns[0]["ownership"] == ["state", "nonstate"]
    rest = rows[-1]
    assert rest["ownership"] == "unassigned" and rest["va"] == pytest.approx(260.0)
    assert rest["de_va"] == pytest.approx(total.de_va - 92.5)


def test_parts_below_the_total_warn_naming_the_sections():
    inp = inputs({"26": 100.0, "10": 300.0})
    rows, warns = B.ownership(inp, {"state": pd.Series({"10": 100.0}), "nonstate": pd.Series({"10": 100.0}),
                                    "fdi": pd.Series({"26": 100.0})}, H, A.measure(inp, H))
    (w,) = warns
    assert w["code"] == "OWNERSHIP_BELOW_TOTAL" and w["sections"] == ["C"]
    assert rows[-1]["ownership"] == "unassigned" and rows[-1]["va"] == pytest.approx(100.0)


def test_parts_above_the_total_are_refused():
    inp = inputs({"26": 100.0, "10": 300.0})
    with pytest.raises(MethodError) as e:
        B.ownership(inp, {"state": pd.Series({"10": 200.0}), "nonstate": pd.Series({"10": 150.0}),
                          "fdi": pd.Series({"26": 100.0})}, H, A.measure(inp, H))
    assert e.value.code == "OWNERSHIP_ABOVE_TOTAL" and "C (450.0 > 400.0)" in e.value.en


def test_within_tolerance_the_parts_count_as_adding_up():
    inp = inputs({"10": 1000.0}, grdp=1100.0)
    rows, warns = B.ownership(inp, {"state": pd.Series({"10": 400.0}), "nonstate": pd.Series({"10": 400.0}),
                                    "fdi": pd.Series({"10": 202.0})}, H, A.measure(inp, H))
    assert not warns and [r["ownership"] for r in rows] == ["state", "nonstate", "fdi", "unassigned"]


def test_mic_view_has_no_ownership_split():
    inp = inputs(VA)
    with pytest.raises(MethodError) as e:
        B.ownership(inp, {"state": pd.Series(VA)}, H, A.measure(inp, H, view="mic"), view="mic")
    assert e.value.code == "OWNERSHIP_MIC_VIEW"


# --- regions: the reference data ----------------------------------------------------------------
def test_six_regions_each_province_in_exactly_one():
    regs = terr.regions()
    assert [r.key for r in regs] == ["RRD", "NMM", "NCC", "CH", "SE", "MRD"]
    for basis in (63, 34):
        members = [k for r in regs for k in r.provinces(basis)]
        assert sorted(members) == sorted(t.key for t in terr.territories() if t.basis == basis)
        assert len(members) == len(set(members))
    assert {r.key: len(r.provinces(63)) for r in regs} == {"RRD": 11, "NMM": 14, "NCC": 14, "CH": 5, "SE": 6, "MRD": 13}
    assert {r.key: len(r.provinces(34)) for r in regs} == {"RRD": 6, "NMM": 9, "NCC": 8, "CH": 3, "SE": 3, "MRD": 5}


def test_34_basis_follows_the_merger_and_names_the_straddling_units():
    straddling = sorted(k for r in terr.regions() for k in r.straddling)
    assert straddling == ["34:24", "34:25", "34:51", "34:52", "34:66", "34:68", "34:80"]
    for r in terr.regions():
        for k in r.provinces(34):
            olds = {terr.region_of(p) for p in terr.predecessors_of(k)}
            assert r.key in olds and (len(olds) == 1) == (k not in r.straddling)
    assert terr.region_of("63:22") == "RRD" and terr.region_of("34:31") == "RRD" and terr.region_of("34:80") == "SE"
    with pytest.raises(ReferenceDataError):
        terr.region_of("VN")


def test_region_file_breaking_its_rule_is_refused(monkeypatch):
    real = terr._read_data_csv

    def fake(name):
        rows = real(name)
        if name == "region_members.csv":
            rows = [dict(r, region="NCC") if r["key"] == "34:31" else r for r in rows]
        return rows

    monkeypatch.setattr(terr, "_read_data_csv", fake)
    terr.regions.cache_clear()
    try:
        with pytest.raises(ReferenceDataError) as e:
            terr.regions()
        assert e.value.code == "REFERENCE_FILE_BROKEN" and "34:31" in e.value.en
    finally:
        monkeypatch.undo()
        terr.regions.cache_clear()


def test_find_region_by_key_or_name():
    assert terr.find_region("Đồng bằng sông Hồng").key == "RRD"
    assert terr.find_region("mekong river delta").key == "MRD"
    assert terr.find_region("Vùng Tây Nguyên").key == "CH"
    assert terr.find_region("Atlantis") is None


# --- the pipeline and the CLI -------------------------------------------------------------------
@pytest.fixture
def ws(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    rows = []
    # Red River Delta: Hải Phòng (31) and Hải Dương (30); Northern midlands: Bắc Giang (24)
    for key, c26, c10, grdp in (("31", 60, 100, 200), ("30", 10, 300, 350), ("24", 40, 60, 110)):
        for y, f in (("2024", 1.0),):
            rows += [["GRDP_VA", key, "63", "26", y, str(c26 * f), "VND_BN"],
                     ["GRDP_VA", key, "63", "10", y, str(c10 * f), "VND_BN"],
                     ["GRDP", key, "63", "_T", y, str(grdp * f), "VND_BN"]]
    rows += [["DIGITAL_COEF", "VN", "", "C", "2024", "0.1", "RATIO"],
             ["GRDP_VA_STATE", "31", "63", "10", "2024", "20", "VND_BN"],
             ["GRDP_VA_NONSTATE", "31", "63", "10", "2024", "70", "VND_BN"],
             ["GRDP_VA_NONSTATE", "31", "63", "26", "2024", "6", "VND_BN"],
             ["GRDP_VA_FDI", "31", "63", "26", "2024", "54", "VND_BN"],
             ["GRDP_VA_FDI", "31", "63", "10", "2024", "10", "VND_BN"]]
    ingest_rows(w, tmp_path / "in.csv", rows)
    yield w
    w.close()


def test_region_is_the_sum_of_its_provinces(ws):
    out = measure(ws, MeasureRequest("2024", breakdown="region"))
    regs = {g["region"]: g for g in out.regions}
    rrd = regs["RRD"]
    de = {r.territory: r.result.de_va for r in out.results if r.result}
    assert rrd["de_va"] == pytest.approx(de["63:31"] + de["63:30"]) == pytest.approx(60 + 10 + 10 + 30)
    assert rrd["grdp"] == pytest.approx(550.0)
    assert rrd["de_share"] == pytest.approx(rrd["de_va"] / 550 * 100)  # recomputed, not the mean of the shares
    assert rrd["components"]["core"]["va"] == pytest.approx(70.0)
    assert rrd["provinces"] == list(terr.regions()[0].provinces(63)) and rrd["basis"] == 63
    assert set(rrd["missing"]) == set(rrd["provinces"]) - {"63:30", "63:31"}
    (w,) = rrd["warnings"]
    assert w["code"] == "REGION_INCOMPLETE" and "63:01 Hà Nội" in w["en"] and w["provinces"] == rrd["missing"]
    assert regs["NMM"]["de_va"] == pytest.approx(46.0) and regs["CH"]["de_va"] is None


def test_region_on_the_34_basis_sums_merged_units_and_warns_of_the_rule(ws):
    out = measure(ws, MeasureRequest("2025", ("RRD",), breakdown="region"))
    assert [g["region"] for g in out.regions] == ["RRD"] and out.regions[0]["basis"] == 34
    assert {r.territory for r in out.results} == set(terr.regions()[0].provinces(34))
    codes = [w["code"] for w in out.regions[0]["warnings"]]
    assert "REGION_STRADDLES" in codes and "34:24 Bắc Ninh" in out.regions[0]["warnings"][codes.index("REGION_STRADDLES")]["en"]


def test_cli_by_region_json_table_and_unknown_region(ws):
    run = CliRunner()
    r = run.invoke(main, ["measure", "--all", "--period", "2024", "--by", "region", "--format", "json",
                          "--workspace", str(ws.root)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert len(d) == 6 and d[0]["region"] == "RRD" and d[0]["price_basis"] == "current"
    r = run.invoke(main, ["--lang", "en", "measure", "--territory", "Red River Delta", "--period", "2024", "--by", "region",
                          "--workspace", str(ws.root)])
    assert r.exit_code == 0, r.output
    assert "by socio-economic region" in r.output and "current prices" in r.output and "REGION_INCOMPLETE" in r.output
    r = run.invoke(main, ["--lang", "en", "measure", "--territory", "Atlantis", "--period", "2024", "--by", "region",
                          "--workspace", str(ws.root)])
    assert r.exit_code == 2 and "UNKNOWN_REGION" in r.output and "RRD" in r.output


def test_cli_by_ownership(ws):
    run = CliRunner()
    r = run.invoke(main, ["measure", "--territory", "63:31", "--period", "2024", "--by", "ownership", "--format", "csv",
                          "--workspace", str(ws.root)])
    assert r.exit_code == 0, r.output
    f = pd.read_csv(__import__("io").StringIO(r.stdout))
    assert f.ownership.tolist() == ["state", "nonstate", "fdi"] and set(f.price_basis) == {"current"}
    assert f.de_va.sum() == pytest.approx(60 + 10)  # core 60 + digitalised 100 × 0.1
    assert f.set_index("ownership").de_va["fdi"] == pytest.approx(54 + 1)
    r = run.invoke(main, ["measure", "--territory", "63:30", "--period", "2024", "--by", "ownership", "--format", "json",
                          "--workspace", str(ws.root)])
    d = json.loads(r.stdout)
    assert d["ownership"]["rows"] == [] and "NO_OWNERSHIP_SPLIT" in [w["code"] for w in d["warnings"]]
    r = run.invoke(main, ["--lang", "en", "measure", "--all", "--period", "2024", "--by", "ownership",
                          "--workspace", str(ws.root)])
    assert r.exit_code == 0, r.output
    assert "fdi_pct_of_de" in r.output
    r = run.invoke(main, ["--lang", "en", "measure", "--territory", "63:31", "--period", "2024-Q1", "--by", "ownership",
                          "--workspace", str(ws.root)])
    assert r.exit_code == 2 and "ANNUAL_ONLY" in r.output


def test_api_accounts_passes_prices_and_breakdowns_through(ws):
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from kinhteso.api import create_app  # noqa: PLC0415
    from kinhteso.service import members as M  # noqa: PLC0415

    M.add_member(ws, M.MemberAddRequest("READER", "Reader"))
    M.grant(ws, M.GrantRequest("READER", "reader", "*", "*"))
    auth = {"Authorization": f"Bearer {M.create_token(ws, M.TokenCreateRequest('READER')).token}"}
    root = ws.root
    ws.close()
    with TestClient(create_app(root)) as c:
        r = c.get("/api/v1/accounts", params={"period": "2024", "territory": "63:31", "by": "ownership"}, headers=auth)
        assert r.status_code == 200, r.text
        res = r.json()["results"][0]
        assert res["price_basis"] == "current" and [o["ownership"] for o in res["ownership"]["rows"]] == ["state", "nonstate", "fdi"]
        r = c.get("/api/v1/accounts", params={"period": "2024", "territory": "Red River Delta", "by": "region"}, headers=auth)
        assert r.status_code == 200, r.text
        (g,) = r.json()["regions"]
        assert g["region"] == "RRD" and g["de_va"] == pytest.approx(110.0)
        r = c.get("/api/v1/accounts", params={"period": "2024", "prices": "nominal"}, headers=auth)
        assert r.status_code in (400, 422) and r.json()["code"] == "BAD_PRICES"


def test_regions_on_the_34_basis_before_the_merger_and_the_63_basis_refused_after(ws):
    out = measure(ws, MeasureRequest("2024", ("RRD",), breakdown="region", region_basis=34))
    (g,) = out.regions
    assert g["basis"] == 34 and g["provinces"] == list(terr.regions()[0].provinces(34))
    # 34:31 is summed from 63:30 + 63:31: the region's total is the same on both bases
    assert g["de_va"] == pytest.approx(110.0) and g["grdp"] == pytest.approx(550.0)
    from kinhteso.errors import UsageError  # noqa: PLC0415

    with pytest.raises(UsageError) as e:
        measure(ws, MeasureRequest("2025", breakdown="region", region_basis=63))
    assert e.value.code == "REGION_BASIS"
    r = CliRunner().invoke(main, ["measure", "--all", "--period", "2024", "--by", "region", "--region-basis", "34",
                                  "--format", "csv", "--workspace", str(ws.root)])
    assert r.exit_code == 0, r.output
    assert set(pd.read_csv(__import__("io").StringIO(r.stdout)).basis) == {34}


def test_ownership_given_only_as_totals_is_named_not_used():
    inp = inputs(VA)
    rows, warns = B.ownership(inp, {o: pd.Series({"_T": 100.0}) for o in ("state", "nonstate", "fdi")}, H,
                              A.measure(inp, H))
    assert rows == [] and [w["code"] for w in warns] == ["OWNERSHIP_TOTAL_ONLY", "NO_OWNERSHIP_SPLIT"]
    assert warns[0]["ownership"] == ["state", "nonstate", "fdi"] and "by VSIC industry" in warns[0]["en"]
