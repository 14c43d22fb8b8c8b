"""Digital-economy accounts: hand-computed fixtures for each view, allocations, fallbacks,
warnings, the shift-share identity, merger re-aggregation, and the demo calibration."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ingest_rows
from kinhteso.cli import main
from kinhteso.errors import MethodError
from kinhteso.methods import accounts as A
from kinhteso.pipeline import accounts as P
from kinhteso.workspace import Workspace

H = P.hierarchy()


def inputs(va, grdp=None, **kw):
    return A.AccountInputs(va=pd.Series(va, dtype=float), grdp=grdp, label="T P",
                           **{k: pd.Series(v, dtype=float) for k, v in kw.items()})


def test_gso_view_by_hand():
    # 26 and 62 are core divisions; 46 holds 4651/4652 (allocated); 10 and 47 are other industries
    inp = inputs({"26": 100, "62": 20, "46": 200, "10": 300, "47": 80}, grdp=800,
                 alloc_own={"4651": 0.05}, alloc_nat={"4651": 0.5, "4652": 0.10},
                 coef_own={"G": 0.2}, coef_nat={"C": 0.05, "G": 0.9})
    r = A.measure(inp, H)
    core = 100 + 20 + 200 * 0.05 + 200 * 0.10           # own 4651 ratio wins over the national one
    dig = 300 * 0.05 + (200 - 30) * 0.2 + 80 * 0.2     # own coefficient at the section wins
    assert r.components["core"]["va"] == pytest.approx(core)
    assert r.components["digitalised"]["va"] == pytest.approx(dig)
    assert r.de_share == pytest.approx((core + dig) / 800 * 100)
    assert r.components["core"]["share"] + r.components["digitalised"]["share"] == pytest.approx(r.de_share)
    assert {(a["sector"], a["source"], a["ratio"]) for a in r.allocations} == {("4651", "own", 0.05), ("4652", "national", 0.10)}
    src = dict(zip(r.pieces.code, r.pieces.coef_source))
    assert src["10"] == "national:C" and src["47"] == "own:G"
    assert r.by_sector.contribution_pp.sum() == pytest.approx(r.de_share)
    sections = dict(zip(r.by_section.section, r.by_section.de_va))
    assert sections == {"C": pytest.approx(100 + 15), "J": pytest.approx(20), "G": pytest.approx(30 + 34 + 16)}
    assert not r.warnings


def test_missing_coefficient_adds_nothing_and_warns():
    r = A.measure(inputs({"62": 10, "10": 90, "01": 50}, grdp=160, coef_nat={"C": 0.1}), H)
    assert r.components["digitalised"]["va"] == pytest.approx(9.0)
    (w,) = r.warnings
    assert w["code"] == "NO_COEFFICIENT" and w["sectors"] == ["01"] and "T P" in w["en"]


def test_missing_grdp_uses_sum_of_value_added_and_says_so():
    r = A.measure(inputs({"62": 10, "10": 90}, coef_nat={"C": 0.0}), H)
    assert r.grdp_is_sum_of_va and r.grdp == 100 and r.de_share == pytest.approx(10.0)
    assert [w["code"] for w in r.warnings] == ["GRDP_MISSING"]


def test_unallocatable_core_class_is_a_warning_not_an_assumption():
    r = A.measure(inputs({"46": 100, "62": 5}, grdp=120, coef_nat={"G": 0.1}), H)
    codes = [w["code"] for w in r.warnings]
    assert codes.count("NO_ALLOCATION") == 2  # 4651 and 4652 have no ratio
    assert r.components["core"]["va"] == 5
    assert r.components["digitalised"]["va"] == pytest.approx(10.0)


def test_reported_class_and_its_division_are_not_counted_twice():
    # 46 = 200 of which 4651 reported (12); 4652 allocated from the division with its ratio
    r = A.measure(inputs({"46": 200, "4651": 12, "62": 8}, grdp=300, alloc_nat={"4652": 0.1}, coef_nat={"G": 0.5}), H)
    assert r.components["core"]["va"] == pytest.approx(12 + 20 + 8)
    assert r.components["digitalised"]["va"] == pytest.approx((200 - 12 - 20) * 0.5)


@pytest.mark.parametrize(
    ("inp", "code"),
    [
        (dict(va={"46": 10, "4651": 20}, grdp=100), "CHILDREN_EXCEED_PARENT"),
        (dict(va={"62": 150}, grdp=100), "VA_ABOVE_GRDP"),
        (dict(va={"46": 100}, grdp=200, alloc_nat={"4651": 0.7, "4652": 0.5}), "ALLOC_ABOVE_ONE"),
        (dict(va={"10": 100}, grdp=200, coef_nat={"C": 1.5}), "COEF_RANGE"),
        (dict(va={}, grdp=200), "NO_INDUSTRY_DETAIL"),
        (dict(va={"10": -5}, grdp=200), "NEGATIVE_VA"),
    ],
)
def test_bad_input_is_an_error_naming_territory_and_period(inp, code):
    with pytest.raises(MethodError) as exc:
        A.measure(inputs(**inp), H)
    assert exc.value.code == code and "T P" in exc.value.en and "T P" in exc.value.vi


def test_mic_view_nets_platform_out_of_digitalised_and_bridges():
    inp = inputs({"62": 10, "47": 100, "10": 100}, grdp=250, coef_nat={"G": 0.1, "C": 0.05},
                 platform={"47": 4, "49": 3})
    gso = A.measure(inp, H)
    mic = A.measure(inp, H, view="mic")
    # 47: digitalised 10, platform 4 → sectoral 6; 49 has no VA: platform 3 counted, nothing to net
    assert mic.components["ict"]["va"] == 10
    assert mic.components["platform"]["va"] == 7
    assert mic.components["sectoral"]["va"] == pytest.approx(6 + 5)
    bridge = {b["item"]: b["value"] for b in mic.bridge}
    assert bridge["gso_total"] == pytest.approx(gso.de_va)
    assert bridge["gso_total"] + bridge["plus_platform_va"] + bridge["minus_platform_already_in_digitalised"] == pytest.approx(mic.de_va)


def test_oecd_view_takes_ict_classes():
    inp = inputs({"26": 100, "95": 10, "58": 20, "63": 30}, grdp=200,
                 alloc_nat={"2610": 0.4, "2620": 0.3, "9511": 0.5, "5820": 0.5, "6311": 0.5, "6312": 0.1},
                 coef_nat={"C": 0.0, "S": 0.0, "J": 0.0})
    r = A.measure(inp, H, view="oecd")
    assert r.components["core"]["va"] == pytest.approx(70 + 5 + 10 + 18)
    (w,) = [w for w in r.warnings if w["code"] == "NO_ALLOCATION" and w["sector"] == "2630"]
    assert "2630" in w["en"]


def test_custom_core_list():
    r = A.measure(inputs({"62": 10, "10": 90}, grdp=100, coef_nat={"C": 0.0}), H, core=("10",))
    assert r.components["core"]["va"] == 90


# --- shift-share ---------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(1, 1000), min_size=4, max_size=4), st.lists(st.floats(1, 1000), min_size=4, max_size=4),
       st.floats(0, 0.9), st.floats(0, 0.9), st.floats(1.0, 1.2), st.floats(1.0, 1.2))
def test_shift_share_effects_sum_exactly_to_the_change(v0, v1, c0, c1, t0, t1):
    def run(v, c, t):
        va = {"62": v[0], "10": v[1], "47": v[2], "01": v[3]}
        return A.measure(inputs(va, grdp=sum(va.values()) * t, coef_nat={"C": c, "G": c / 2, "A": c / 3}), H)
    a, b = run(v0, c0, t0), run(v1, c1, t1)
    ss = A.shift_share(a, b)
    assert ss["digitalisation"] + ss["structure"] + ss["denominator"] == pytest.approx(b.de_share - a.de_share, abs=1e-9)
    assert abs(ss["residual"]) < 1e-9


def test_shift_share_pure_effects():
    base = A.measure(inputs({"62": 10, "10": 90}, grdp=100, coef_nat={"C": 0.1}), H)
    more = A.measure(inputs({"62": 10, "10": 90}, grdp=100, coef_nat={"C": 0.2}), H)
    ss = A.shift_share(base, more)
    assert ss["digitalisation"] == pytest.approx(9.0) and ss["structure"] == pytest.approx(0) and ss["denominator"] == pytest.approx(0)
    taxed = A.measure(inputs({"62": 10, "10": 90}, grdp=125, coef_nat={"C": 0.1}), H)
    ss = A.shift_share(base, taxed)
    assert ss["denominator"] == pytest.approx(taxed.de_share - base.de_share) and ss["digitalisation"] == pytest.approx(0)


# --- the pipeline: merger re-aggregation, CLI -------------------------------------------------
@pytest.fixture
def ws(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    rows = [
        # Hải Phòng: share 30/100 ; Hải Dương: share 2/100 (tiny) — unequal sizes
        ["GRDP_VA", "31", "63", "62", "2024", "30", "VND_BN"], ["GRDP_VA", "31", "63", "10", "2024", "60", "VND_BN"],
        ["GRDP", "31", "63", "_T", "2024", "100", "VND_BN"],
        ["GRDP_VA", "30", "63", "62", "2024", "2", "VND_BN"], ["GRDP_VA", "30", "63", "10", "2024", "388", "VND_BN"],
        ["GRDP", "30", "63", "_T", "2024", "400", "VND_BN"],
        ["DIGITAL_COEF", "VN", "", "C", "2024", "0", "RATIO"],
    ]
    ingest_rows(w, tmp_path / "in.csv", rows)
    yield w
    w.close()


def test_new_hai_phong_share_is_sum_of_de_over_sum_of_grdp(ws):
    r = P.measure(ws, "34:31", "2024")
    assert r.result.de_share == pytest.approx((30 + 2) / (100 + 400) * 100)  # 6.4, not the mean 15.25
    assert r.provenance["summed_from_63_basis"] == ["63:30+63:31"]
    old = P.measure(ws, "63:31", "2024")
    assert old.result.de_share == pytest.approx(30.0)


def test_measure_json_contract_and_run_is_stored_when_asked(ws):
    assert ws.store.results(kind="accounts").empty
    r = CliRunner().invoke(main, ["measure", "--territory", "63:31", "--period", "2024", "--format", "json",
                                  "--workspace", str(ws.root)])
    assert r.exit_code == 0 and ws.store.results(kind="accounts").empty  # a read stores nothing
    r = CliRunner().invoke(main, ["measure", "--territory", "63:31", "--period", "2024", "--format", "json", "--save",
                                  "--workspace", str(ws.root)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert set(d) >= {"territory", "period", "view", "grdp", "de_va", "de_share", "components", "by_sector", "warnings", "provenance"}
    assert set(d["components"]) == {"core", "digitalised"} and d["de_share"] == pytest.approx(30.0)
    assert d["by_sector"][0] == {"sector": "62", "de_va": 30.0, "contribution_pp": 30.0}
    assert d["by_section"][0] == {"section": "J", "de_va": 30.0, "contribution_pp": 30.0}
    assert d["provenance"]["input_vintages"] == [1] and d["provenance"]["code_version"]
    runs = ws.store.results(kind="accounts", indicator="DE_SHARE")
    assert runs[runs.territory == "63:31"].value.tolist() == [pytest.approx(30.0)]
    assert set(runs.status) == {"E"} and set(runs.basis) == {"estimated"}
    r = CliRunner().invoke(main, ["measure", "--territory", "63:31", "--period", "2024", "--view", "mic", "--format", "json",
                                  "--workspace", str(ws.root)])
    assert set(json.loads(r.stdout)["components"]) == {"ict", "platform", "sectoral"}


def test_measure_usage_errors(ws):
    r = CliRunner().invoke(main, ["--lang", "en", "measure", "--period", "2024", "--workspace", str(ws.root)])
    assert r.exit_code == 2 and "TERRITORY_OR_ALL" in r.output
    r = CliRunner().invoke(main, ["--lang", "en", "measure", "--territory", "63:31", "--period", "2019", "--workspace", str(ws.root)])
    assert r.exit_code == 2 and "no GRDP" in r.output


# --- the demo workspace: calibration ------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(demo_run):
    root, result = demo_run
    assert result.exit_code == 0, result.output
    w = Workspace.open(root)
    yield w
    w.close()


def test_demo_national_share_within_0_3_pp_of_published(demo):
    published = demo.store.observations(indicator="DE_SHARE", territory="VN")
    published = dict(zip(published.period, published.value))
    results = P.measure_many(demo, ["VN"], [str(y) for y in range(2020, 2026)], ["gso"], store_run=False)
    for r in results:
        assert abs(r.result.de_share - published[r.period]) <= 0.3, (r.period, r.result.de_share, published[r.period])
        c = r.result.components
        assert c["core"]["va"] + c["digitalised"]["va"] == pytest.approx(r.result.de_va)


def test_demo_all_provinces_2025(demo):
    results = P.measure_many(demo, P.territories_for("2025"), ["2025"], ["gso"], store_run=False)
    assert len(results) == 35 and all(r.result is not None for r in results)
    share = {r.territory: r.result.de_share for r in results}
    assert 40 < share["34:24"] < 52 and 18 < share["34:31"] < 27 and 10 < share["34:79"] < 17
    rec = P.reconcile(results)
    assert rec["discrepancy_grdp"] != 0  # the nation is not the sum of its provinces, and it says so


# --- DIGITAL_COEF estimators --------------------------------------------------------------------
def test_revenue_share_is_the_coefficient_under_bea_assumption():
    f = A.coef_from_revenue_share(pd.Series({"G": 30.0, "C": 5.0}), pd.Series({"G": 100.0, "C": 50.0, "A": 0.0}))
    assert dict(zip(f.sector, f.coefficient)) == {"G": 0.3, "C": 0.1}
    with pytest.raises(MethodError) as exc:
        A.coef_from_revenue_share(pd.Series({"G": 120.0}), pd.Series({"G": 100.0}))
    assert exc.value.code == "ONLINE_ABOVE_TOTAL"


def test_calibration_hits_the_published_share_exactly_even_when_capped():
    other = pd.Series({"A": 100.0, "G": 50.0, "K": 10.0})
    prof = pd.Series({"A": 0.1, "G": 1.0, "K": 5.0})
    coef, k = A.calibrate_coefficients(other, prof, denominator=200.0, target_pct=10.0)
    assert (other * coef).sum() / 200 * 100 == pytest.approx(10.0, rel=1e-12)
    assert coef["K"] == pytest.approx(0.2 * 5 / 5) or coef["K"] <= 1.0
    coef, k = A.calibrate_coefficients(other, prof, denominator=200.0, target_pct=30.0)  # K capped at 1
    assert coef["K"] == 1.0 and (other * coef).sum() / 200 * 100 == pytest.approx(30.0, rel=1e-9)
    with pytest.raises(MethodError) as exc:
        A.calibrate_coefficients(other, prof, denominator=200.0, target_pct=90.0)
    assert exc.value.code == "TARGET_UNREACHABLE"


def test_calibration_estimator_stores_an_estimated_run(ws, tmp_path):
    from kinhteso.pipeline.coefficients import estimate_calibration

    rows = [["ONLINE_REVENUE", "VN", "", "C", "2024", "10", "VND_BN"], ["EINVOICE_REVENUE", "VN", "", "C", "2024", "100", "VND_BN"],
            ["GRDP_VA", "VN", "", "62", "2024", "32", "VND_BN"], ["GRDP_VA", "VN", "", "10", "2024", "448", "VND_BN"],
            ["GRDP", "VN", "", "_T", "2024", "500", "VND_BN"]]
    ingest_rows(ws, tmp_path / "vn.csv", rows)
    est = estimate_calibration(ws, period="2024", target_pct=4.48)
    assert est.coefficients["C"] == pytest.approx(0.05)
    subs = ws.store.observations(indicator="DIGITAL_COEF")
    assert not subs.source.str.startswith("kinhteso").any()  # an estimate is never a submission
    stored = ws.store.results(indicator="DIGITAL_COEF", territory="VN", period="2024", kind="coef", method="calibration",
                              sector=None)
    assert (stored.status == "E").all() and set(stored.run_id) == {est.run_id}
    assert dict(zip(stored.sector, stored.value)) == {"C": pytest.approx(0.05), "J": 0.0}  # J: no online revenue
    assert estimate_calibration(ws, period="2024", target_pct=4.48).run_id == est.run_id  # idempotent
    assert len(ws.store.result_runs(kind="coef")) == 1
    r = P.measure(ws, "VN", "2024")
    assert r.result.components["digitalised"]["share"] == pytest.approx(4.48)


def test_coef_cli_revenue_and_calibrate(ws, tmp_path):
    rows = [["ONLINE_REVENUE", "VN", "", "C", "2024", "10", "VND_BN"], ["EINVOICE_REVENUE", "VN", "", "C", "2024", "100", "VND_BN"]]
    ingest_rows(ws, tmp_path / "rev.csv", rows, source="thue")
    r = CliRunner().invoke(main, ["--lang", "en", "coef", "revenue", "--territory", "VN", "--period", "2024",
                                  "--workspace", str(ws.root)])
    assert r.exit_code == 0, r.output
    assert "0.1000" in r.output and "kinhteso:revenue-share" in r.output
    stored = ws.store.results(indicator="DIGITAL_COEF", territory="VN", kind="coef", method="revenue-share", sector=None)
    assert stored.value.tolist() == [pytest.approx(0.1)]
    prof = tmp_path / "profile.csv"
    prof.write_text("sector,weight\nC,1\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["--lang", "en", "coef", "calibrate", "--period", "2024", "--target", "100",
                                  "--profile", str(prof), "--dry-run", "--workspace", str(ws.root)])
    assert r.exit_code == 1 and "NO_INDUSTRY_DETAIL" in r.output  # VN has no value added in this workspace


# --- chained allocations (issue 14, item 6) -------------------------------------------------------
def test_chain_ratio_composes_class_division_section_and_names_each_step():
    r, steps = A.chain_ratio("4651", "G", H, {}, {"4651": 0.2}, {"46": 60.0, "45": 10.0, "47": 30.0, "G": 100.0})
    assert r == pytest.approx(0.2 * 0.6)
    assert [(s["sector"], s["parent"], s["source"]) for s in steps] == [
        ("4651", "46", "national"), ("46", "G", "national structure")]
    own, _ = A.chain_ratio("4651", "G", H, {"46": 0.5}, {"4651": 0.2}, {"46": 60.0, "G": 100.0})
    assert own == pytest.approx(0.2 * 0.5)  # the territory's own ratio before the nation's structure
    assert A.chain_ratio("4651", "46", H, {}, {"4651": 0.2}) == (0.2, [
        {"sector": "4651", "parent": "46", "ratio": 0.2, "source": "national"}])  # one step, as before
    assert A.chain_ratio("4651", "G", H, {}, {"4651": 0.2}) == (None, ("46", "G"))  # a step without a ratio


def test_a_section_only_province_keeps_4651_4652_582_and_631_through_chained_ratios():
    """A province reporting sections only: each core class or group is taken out of its section
    by its national ratio within its division times the division's share of the section in the
    nation's value added, and every borrowed step is named."""
    nat_va = {"C": 300.0, "26": 60.0, "G": 200.0, "46": 120.0, "J": 100.0, "58": 20.0, "61": 30.0, "62": 25.0,
              "63": 15.0}
    ratios = {"4651": 0.10, "4652": 0.05, "582": 0.40, "631": 0.50}
    inp = inputs({"C": 500, "G": 300, "J": 100}, grdp=1000, alloc_nat=ratios, va_nat=nat_va)
    r = A.measure(inp, H)
    got = {a["sector"]: a for a in r.allocations}
    assert {"4651", "4652", "582", "631"} <= set(got)
    assert got["4651"]["va"] == pytest.approx(300 * 0.10 * 120 / 200)
    assert got["4652"]["va"] == pytest.approx(300 * 0.05 * 120 / 200)
    assert got["582"]["va"] == pytest.approx(100 * 0.40 * 20 / 100)
    assert got["631"]["va"] == pytest.approx(100 * 0.50 * 15 / 100)
    assert got["4651"]["source"] == "national+national structure"
    assert "NO_ALLOCATION" not in [w["code"] for w in r.warnings if w.get("sector") in ratios]
    core = r.components["core"]["va"]
    # 26, 61 and 62 (divisions within their sections) come from the national structure too
    expected = (300 * 0.15 * 0.6 + 100 * (0.40 * 0.2 + 0.50 * 0.15) + 500 * 60 / 300 + 100 * (30 + 25) / 100)
    assert core == pytest.approx(expected)


def test_a_national_step_used_for_a_province_is_named(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    rows = [["GRDP_VA", "31", "34", "G", "2024", "300", "VND_BN"], ["GRDP", "31", "34", "_T", "2024", "1000", "VND_BN"],
            ["GRDP_VA", "VN", "", "46", "2024", "120", "VND_BN"], ["GRDP_VA", "VN", "", "G", "2024", "200", "VND_BN"],
            ["ALLOC_RATIO", "VN", "", "4651", "2024", "0.1", "RATIO"]]
    ingest_rows(w, tmp_path / "in.csv", rows)
    r = P.measure(w, "34:31", "2024")
    w.close()
    fb = [x for x in r.warnings if x["code"] == "NATIONAL_FALLBACK"]
    assert fb and "4651/46" in fb[0]["en"] and "46/G" in fb[0]["en"]
    assert any(a["sector"] == "4651" and a["va"] == pytest.approx(300 * 0.1 * 0.6) for a in r.result.allocations)
