"""Within-sector digital shares (DE_SHARE_SECTOR) and the digital-economy labour share
(DE_LABOUR_SHARE) as indicators with targets in ``gaps`` and ``plan`` (issue 14, item 7).

The small workspace (63:31, 2021–2024; the nation for employment) is computed by hand below:
the expected figures are arithmetic on the inputs, not kinhteso's output."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kinhteso.cli import main
from kinhteso.errors import MethodError, ReferenceDataError, UsageError
from kinhteso.methods import accounts as A
from kinhteso.methods import sectoral as S
from kinhteso.pipeline import accounts as PA
from kinhteso.pipeline import targets as P
from kinhteso.reference.indicators import load_indicators
from kinhteso.reference import targets as R
from kinhteso.service.targets import GapsRequest, PlanRequest, gaps, plan
from kinhteso.workspace import Workspace
from conftest import ingest_rows

YEARS = (2021, 2022, 2023, 2024)
COEF = {"C": 0.05, "G": 0.2, "A": 0.01}          # national DIGITAL_COEF
ALLOC = {"4651": 0.10, "4652": 0.05}             # national ALLOC_RATIO within division 46


def va(i: int) -> dict[str, float]:
    """Value added of 63:31 in year YEARS[i] (26 grows faster than the rest)."""
    return {"26": 50 * 1.10 ** i, "10": 200 * 1.05 ** i, "47": 100 * 1.05 ** i, "46": 40 * 1.05 ** i,
            "62": 10 * 1.10 ** i, "01": 100 * 1.02 ** i}


def hand_sections(i: int) -> dict[str, tuple[float, float]]:
    """(digital VA, VA) of each section, by hand: core + other × coefficient."""
    v = va(i)
    core46 = v["46"] * (ALLOC["4651"] + ALLOC["4652"])
    return {"C": (v["26"] + v["10"] * COEF["C"], v["26"] + v["10"]),
            "G": (core46 + (v["46"] - core46) * COEF["G"] + v["47"] * COEF["G"], v["46"] + v["47"]),
            "J": (v["62"], v["62"]),
            "A": (v["01"] * COEF["A"], v["01"])}


def emp_vn(i: int) -> dict[str, float]:
    """National employment (persons): sections, the core's divisions and the total."""
    return {"_T": 50000, "C": 10000, "26": 500 + 50 * i, "G": 8000, "46": 1000, "J": 400, "62": 200 + 20 * i,
            "A": 20000}


def emp_hp(i: int) -> dict[str, float]:
    return {"_T": 1000, "C": 300, "26": 60, "G": 200, "46": 40, "J": 15, "62": 12, "A": 400}


def _rows(with_employment: bool = True) -> list[list[str]]:
    rows = []
    for i, y in enumerate(YEARS):
        v = va(i)
        rows += [["GRDP_VA", "31", "63", c, str(y), f"{x:.9f}", "VND_BN"] for c, x in v.items()]
        rows.append(["GRDP", "31", "63", "_T", str(y), f"{sum(v.values()) * 1.1:.9f}", "VND_BN"])
        rows += [["DIGITAL_COEF", "VN", "", c, str(y), str(x), "RATIO"] for c, x in COEF.items()]
        rows += [["ALLOC_RATIO", "VN", "", c, str(y), str(x), "RATIO"] for c, x in ALLOC.items()]
        if with_employment:
            rows += [["EMPLOYMENT", "VN", "", c, str(y), str(x), "PERSONS"] for c, x in emp_vn(i).items()]
            rows += [["EMPLOYMENT", "31", "63", c, str(y), str(x), "PERSONS"] for c, x in emp_hp(i).items()]
    return rows


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory):
    root = tmp_path_factory.mktemp("sector") / "ws"
    with Workspace.init(root) as w:
        ingest_rows(w, root.parent / "in.csv", _rows())
        # the merged city in 2025, reported on its own boundary (for the boundary conversion)
        v = va(3)
        ingest_rows(w, root.parent / "in34.csv",
                    [["GRDP_VA", "31", "34", c, "2025", f"{x * 2:.9f}", "VND_BN"] for c, x in v.items()]
                    + [["DIGITAL_COEF", "VN", "", c, "2025", str(x), "RATIO"] for c, x in COEF.items()])
    return root


@pytest.fixture
def ws(ws_path):
    with Workspace.open(ws_path) as w:
        yield w


def run(*args):
    return CliRunner().invoke(main, ["--lang", "en", *args])


def _codes(row: dict) -> list[str]:
    return [w["code"] for w in row["warnings"]]


# --- DE_SHARE_SECTOR ------------------------------------------------------------------------------
def test_within_section_shares_by_hand_and_they_add_up_to_the_accounts(ws):
    inp, _, _ = PA.load_inputs(ws, "63:31", "2024")
    res = A.measure(inp, PA.hierarchy())
    table = S.section_shares(res).set_index("section")
    hand = hand_sections(3)
    assert sorted(table.index) == sorted(hand)
    for sec, (de, v) in hand.items():
        assert table.de_va[sec] == pytest.approx(de) and table.va[sec] == pytest.approx(v)
        assert table.share[sec] == pytest.approx(de / v * 100)
    assert table.de_va.sum() == pytest.approx(res.de_va) == pytest.approx(sum(d for d, _ in hand.values()))


def test_gaps_one_row_per_section_with_status_and_count(ws_path):
    r = run("gaps", "--territory", "63:31", "--indicator", "DE_SHARE_SECTOR", "--inherit-national", "--format", "json",
            "--workspace", str(ws_path))
    assert r.exit_code == 0, r.output
    rows = [x for x in json.loads(r.stdout) if x["target_year"] == 2025]
    hand = {s: de / v * 100 for s, (de, v) in hand_sections(3).items()}
    assert sorted(x["sector"] for x in rows) == sorted(hand)
    for x in rows:
        assert x["inherited"] and x["series_territory"] == "63:31" and x["latest_period"] == "2024"
        assert x["latest_value"] == pytest.approx(hand[x["sector"]])
        assert x["sector_name"] and x["sector_name"] != x["sector"]
        assert x["gap"] == pytest.approx(10 - hand[x["sector"]])
        assert (x["status"] == "achieved") == (hand[x["sector"]] >= 10)
        assert x["n_obs"] == len(YEARS)
    met = sum(v >= 10 for v in hand.values())
    assert met == 3 and all(x["sections_met"] == met and x["sections_total"] == len(hand) for x in rows)
    # the table shows the section and the summary line
    r = run("gaps", "--territory", "63:31", "--indicator", "DE_SHARE_SECTOR", "--inherit-national",
            "--workspace", str(ws_path))
    assert r.exit_code == 0 and f"{met}/{len(hand)} sections meet it" in r.output


def test_service_summaries_count_the_sections(ws):
    res = gaps(ws, GapsRequest(territory="63:31", indicator="DE_SHARE_SECTOR", inherit_national=True))
    by_year = {m["target_year"]: m for m in res.summaries}
    hand = [de / v * 100 for de, v in hand_sections(3).values()]
    assert by_year[2025]["achieved"] == sum(v >= 10 for v in hand)
    assert by_year[2030]["achieved"] == sum(v >= 20 for v in hand)
    assert all(m["sections_total"] == 4 and sum(m[k] for k in ("achieved", "on_track", "at_risk", "off_track",
                                                                "no_data")) == 4 for m in res.summaries)


def test_hai_phong_15_percent_on_its_own_boundary_and_converted_only_when_asked(ws_path):
    (t,) = [t for t in R.load_targets() if t.territory == "34:31" and t.indicator == "DE_SHARE_SECTOR"]
    assert (t.value, t.boundary, t.sector, t.carried_over, t.basis) == (15.0, "63:31", "*", True, "DE_SHARE_SECTOR")
    r = run("gaps", "--territory", "34:31", "--indicator", "DE_SHARE_SECTOR", "--format", "json",
            "--workspace", str(ws_path))
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    hand = {s: de / v * 100 for s, (de, v) in hand_sections(3).items()}
    assert sorted(x["sector"] for x in rows) == sorted(hand)
    for x in rows:
        assert x["territory"] == "34:31" and x["series_territory"] == "63:31" and "OLD_BOUNDARY" in _codes(x)
        assert not x["boundary_converted"] and x["latest_value"] == pytest.approx(hand[x["sector"]])
    assert rows[0]["sections_met"] == sum(v >= 15 for v in hand.values())
    r = run("gaps", "--territory", "34:31", "--indicator", "DE_SHARE_SECTOR", "--convert-boundary", "--format", "json",
            "--workspace", str(ws_path))
    rows = json.loads(r.stdout)
    assert rows and all(x["series_territory"] == "34:31" and x["boundary_converted"]
                        and "BOUNDARY_CONVERTED" in _codes(x) for x in rows)
    assert {x["latest_period"] for x in rows} == {"2025"}


def test_plan_for_one_section_decomposes_within_it(ws):
    res = plan(ws, PlanRequest("63:31", "DE_SHARE_SECTOR", 2030, value=60.0, sector="C", growth=0.0))
    de, v = hand_sections(3)["C"]
    assert res.gap["sector"] == "C" and res.gap["latest_value"] == pytest.approx(de / v * 100)
    assert res.milestones[-1]["value"] == pytest.approx(60.0)
    assert {x["section"] for x in res.sectors} == {"C"}
    s = res.sector_summary
    assert s["baseline_share"] == pytest.approx(de / v * 100)  # no growth: the section as it is
    assert sum(x["contribution_pp"] for x in res.sectors) == pytest.approx(s["required_pp"])


@pytest.mark.parametrize(("indicator", "sector", "code"), [("DE_SHARE_SECTOR", None, "SECTOR_REQUIRED"),
                                                          ("DE_SHARE_SECTOR", "ZZ", "BAD_SECTOR"),
                                                          ("DE_SHARE", "C", "SECTOR_NOT_APPLICABLE")])
def test_plan_sector_option_checked(ws, indicator, sector, code):
    with pytest.raises(UsageError) as exc:
        plan(ws, PlanRequest("63:31", indicator, 2030, value=30.0, sector=sector))
    assert exc.value.code == code and exc.value.vi != exc.value.en


def test_targets_within_sections_validated():
    base = {"territory": "VN", "year": 2025, "value": 10, "unit": "PCT", "comparison": ">=", "direction": "higher",
            "source": "t", "url": "-", "confidence": "low"}
    assert R.make_target({**base, "indicator": "DE_SHARE_SECTOR"}).sector == "*"
    t = R.make_target({**base, "indicator": "DE_SHARE_SECTOR", "sector": "C"})
    assert t.sector == "C" and t.key == ("VN", "DE_SHARE_SECTOR", 2025, "DE_SHARE_SECTOR", "C")
    assert R.make_target({**base, "indicator": "DE_SHARE"}).key == ("VN", "DE_SHARE", 2025, "DE_SHARE")
    for bad in ({"indicator": "DE_SHARE_SECTOR", "sector": "62"}, {"indicator": "DE_SHARE", "sector": "C"}):
        with pytest.raises(ReferenceDataError) as exc:
            R.make_target({**base, **bad})
        assert exc.value.code == "TARGET_BAD_SECTOR"


# --- DE_LABOUR_SHARE -------------------------------------------------------------------------------
def _hand_core_vn(i: int) -> float:
    e = emp_vn(i)
    return (e["26"] + e["62"] + e["46"] * (ALLOC["4651"] + ALLOC["4652"])) / e["_T"] * 100


def test_labour_share_by_hand_core_and_coef(ws):
    e = emp_hp(3)
    core = e["26"] + e["62"] + e["46"] * (ALLOC["4651"] + ALLOC["4652"])
    emp = pd.Series(e, dtype=float)
    r = S.de_employment(emp, PA.hierarchy(), alloc_nat=pd.Series(ALLOC))
    assert r.de_employment == pytest.approx(core) and r.share == pytest.approx(core / e["_T"] * 100)
    assert "VA_RATIO_ON_EMPLOYMENT" in [w["code"] for w in r.warnings]
    dig = ((e["C"] - e["26"]) * COEF["C"] + (e["46"] * (1 - ALLOC["4651"] - ALLOC["4652"]) + e["G"] - e["46"]) * COEF["G"]
           + e["A"] * COEF["A"])
    r = S.de_employment(emp, PA.hierarchy(), method="coef", alloc_nat=pd.Series(ALLOC), coef_nat=pd.Series(COEF))
    assert r.digitalised == pytest.approx(dig) and r.share == pytest.approx((core + dig) / e["_T"] * 100)
    assert r.by_section.de_employment.sum() == pytest.approx(core + dig)
    # the pipeline gives the same, named
    s = P.series(ws, "63:31", "DE_LABOUR_SHARE", labour="coef")
    assert s.frame.value.iloc[-1] == pytest.approx((core + dig) / e["_T"] * 100)
    assert "DIGITAL_COEF" in s.source and "assumption" in s.source


def test_gaps_against_the_two_percent_target(ws_path):
    r = run("gaps", "--territory", "VN", "--indicator", "DE_LABOUR_SHARE", "--format", "json", "--workspace", str(ws_path))
    assert r.exit_code == 0, r.output
    rows = {x["target_year"]: x for x in json.loads(r.stdout)}
    assert set(rows) == {2025, 2030}
    x = rows[2025]
    v = _hand_core_vn(3)
    assert (x["target_value"], x["comparison"], x["confidence"]) == (2.0, ">", "high")
    assert rows[2030]["confidence"] == "medium" and rows[2030]["target_value"] == 3.0
    assert x["latest_value"] == pytest.approx(v) and x["latest_period"] == "2024" and x["gap"] == pytest.approx(2 - v)
    assert v > 2 and x["status"] == "achieved" and x["n_obs"] == len(YEARS)
    assert rows[2030]["gap"] == pytest.approx(3 - v)
    slope = np.polyfit(YEARS, np.log([_hand_core_vn(i) for i in range(4)]), 1)[0]
    assert rows[2030]["trend_cagr"] == pytest.approx(np.exp(slope) - 1)
    assert "core digital-economy industries" in x["source"]


def test_no_employment_is_a_clear_bilingual_message_not_a_crash(tmp_path):
    root = tmp_path / "ws"
    with Workspace.init(root) as w:
        ingest_rows(w, tmp_path / "in.csv", _rows(with_employment=False))
        (row, _) = P.gaps(w, territory="VN", indicator="DE_LABOUR_SHARE")
        assert row["error"]["code"] == "NO_EMPLOYMENT_DATA" and "EMPLOYMENT" in row["error"]["en"]
        assert "lao động" in row["error"]["vi"] and row["status"] is None
    r = run("plan", "--territory", "VN", "--indicator", "DE_LABOUR_SHARE", "--target-year", "2030",
            "--workspace", str(root))
    assert r.exit_code == 2 and "NO_EMPLOYMENT_DATA" in r.output and "Traceback" not in r.output
    r = run("--lang", "vi", "gaps", "--territory", "VN", "--indicator", "DE_LABOUR_SHARE", "--workspace", str(root))
    assert r.exit_code == 0 and "NO_EMPLOYMENT_DATA" in r.output and "lao động theo ngành" in r.output


@pytest.mark.parametrize(("emp", "code"), [({"_T": 100.0}, "NO_EMPLOYMENT_DETAIL"),
                                           ({"_T": 100.0, "C": 150.0}, "EMPLOYMENT_ABOVE_TOTAL"),
                                           ({"_T": 100.0, "C": 10.0, "26": 20.0}, "EMPLOYMENT_CHILDREN_EXCEED_PARENT"),
                                           ({"_T": 0.0, "C": 0.0}, "EMPLOYMENT_TOTAL_NOT_POSITIVE")])
def test_bad_employment_refused(emp, code):
    with pytest.raises(MethodError) as exc:
        S.de_employment(pd.Series(emp), PA.hierarchy())
    assert exc.value.code == code and exc.value.vi != exc.value.en


def test_unknown_labour_method_is_a_usage_error(ws):
    with pytest.raises(UsageError) as exc:
        P.gaps(ws, territory="VN", indicator="DE_LABOUR_SHARE", labour="all")
    assert exc.value.code == "UNKNOWN_LABOUR_METHOD"


def test_registry_and_shipped_targets():
    reg = load_indicators()
    assert reg["EMPLOYMENT"].units == ("PERSONS",) and reg["EMPLOYMENT"].additive
    assert reg["DE_SHARE_SECTOR"].units == ("PCT",) and reg["DE_LABOUR_SHARE"].units == ("PCT",)
    ts = {(t.territory, t.indicator, t.year): t for t in R.load_targets()}
    assert ts[("VN", "DE_SHARE_SECTOR", 2025)].value == 10 and ts[("VN", "DE_SHARE_SECTOR", 2030)].confidence == "medium"
    assert ts[("VN", "DE_LABOUR_SHARE", 2025)].comparison == ">" and ts[("VN", "DE_LABOUR_SHARE", 2030)].value == 3


def test_demo_shows_rows_for_both(demo_run):
    root, res = demo_run
    assert res.exit_code == 0, res.output
    for ind in ("DE_LABOUR_SHARE", "DE_SHARE_SECTOR"):
        r = run("gaps", "--indicator", ind, "--format", "json", "--workspace", str(root))
        assert r.exit_code == 0, r.output
        rows = json.loads(r.stdout)
        assert rows and all(x["illustrative"] for x in rows) and any(x["latest_value"] is not None for x in rows)


def test_target_add_with_a_sector_and_its_own_row(tmp_path, ws_path):
    import shutil

    root = tmp_path / "ws"
    shutil.copytree(ws_path, root)
    r = run("target", "add", "--territory", "63:31", "--indicator", "DE_SHARE_SECTOR", "--sector", "G", "--year", "2026",
            "--value", "30", "--workspace", str(root))
    assert r.exit_code == 0, r.output
    r = run("gaps", "--territory", "63:31", "--indicator", "DE_SHARE_SECTOR", "--format", "json", "--workspace", str(root))
    (row,) = json.loads(r.stdout)
    de, v = hand_sections(3)["G"]
    assert row["sector"] == "G" and row["sections_total"] == 1 and row["latest_value"] == pytest.approx(de / v * 100)
    r = run("target", "add", "--territory", "63:31", "--indicator", "DE_SHARE", "--sector", "G", "--year", "2026",
            "--value", "30", "--workspace", str(root))
    assert r.exit_code == 2 and "TARGET_BAD_SECTOR" in r.output


def test_the_api_takes_the_labour_method(ws_path, tmp_path):
    """`GET /api/v1/gaps?labour=coef` gives the coefficient count, an unknown method a 400."""
    import shutil

    from fastapi.testclient import TestClient

    from kinhteso.api.app import create_app
    from kinhteso.service import members as M

    root = tmp_path / "api"
    shutil.copytree(ws_path, root, ignore=shutil.ignore_patterns("tmp", "*.lock", "*.intent"))
    with Workspace.open(root) as w:
        M.add_member(w, M.MemberAddRequest("READER", "Reader"))
        M.grant(w, M.GrantRequest("READER", "reader", "*", "*"))
        token = M.create_token(w, M.TokenCreateRequest("READER")).token
    auth = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    with TestClient(create_app(root)) as client:
        url = "/api/v1/gaps?territory=VN&indicator=DE_LABOUR_SHARE"
        core = {x["target_year"]: x for x in client.get(url, headers=auth).json()}
        coef = {x["target_year"]: x for x in client.get(url + "&labour=coef", headers=auth).json()}
        assert core[2025]["latest_value"] == pytest.approx(_hand_core_vn(3))
        assert coef[2025]["latest_value"] > core[2025]["latest_value"] and "assumption" in coef[2025]["source"]
        bad = client.get(url + "&labour=all", headers=auth)
        assert bad.status_code == 404 and bad.json()["code"] == "UNKNOWN_LABOUR_METHOD"  # UNKNOWN_*: 404
        plan = client.get("/api/v1/plan?territory=VN&indicator=DE_LABOUR_SHARE&target_year=2030&labour=coef",
                          headers=auth)
        assert plan.status_code == 200, plan.text
