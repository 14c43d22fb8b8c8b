"""Targets carry the series they were set on (issue 14, items 1 and 8): a basis (the indicator:
DE_SHARE, the NSO statistic; DE_SHARE_MIC, MIC's published estimates; a province's own series)
and a boundary (63:79, the city before the 2025 merger). ``gaps`` and ``plan`` measure a target
on its own basis and boundary; another basis only with ``--against`` (BASIS_MISMATCH on every
row), another boundary only with ``--convert-boundary`` (BOUNDARY_CONVERTED). The MIC-style view
is named for what it is.

The HCMC check reads its figures from ../shared/facts (skipped, saying why, when absent); the
workspace holds the published figures kinhteso ships."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from kinhteso.cli import main
from kinhteso.errors import ReferenceDataError, UsageError
from kinhteso.methods import accounts as A
from kinhteso.pipeline import accounts as PA
from kinhteso.pipeline import targets as P
from kinhteso.reference import targets as R
from kinhteso.service.targets import GapsRequest, PlanRequest, gaps, plan
from kinhteso.service.workspace import load_published
from kinhteso.workspace import Workspace
from conftest import ingest_rows, shared_path

MIC_STYLE = "MIC-style: ICT + platforms + sectoral digitalisation, kinhteso estimate"


def _facts(name: str) -> list[dict]:
    with open(shared_path("facts", name), encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _pct(text: str) -> float:
    """'25% (2024 plan 22%)' → 25.0."""
    num = ""
    for ch in text.lstrip("~>=≥ "):
        if not (ch.isdigit() or ch == "."):
            break
        num += ch
    return float(num)


def run(*args):
    return CliRunner().invoke(main, ["--lang", "en", *args])


@pytest.fixture(scope="module")
def pub(tmp_path_factory):
    root = tmp_path_factory.mktemp("basis") / "ws"
    with Workspace.init(root) as w:
        load_published(w)
    return root


def _codes(row: dict) -> list[str]:
    return [w["code"] for w in row["warnings"]]


# --- the check of issue 14: HCMC on DE_SHARE_MIC (63:79) ------------------------------------------
def test_hcmc_on_its_own_basis_mic_63_79(pub):
    hcmc = [r for r in _facts("de_share_provincial.csv") if r["province"] == "TP. Hồ Chí Minh"]
    mic = [r for r in hcmc if r["source"] == "MIC"]
    latest = max(mic, key=lambda r: r["year"])
    target_row = next(r for r in _facts("de_targets.csv") if r["scope"] == "HCMC" and r["indicator"] == "DE share of GRDP")
    t2025 = _pct(target_row["target_2025"])
    r = run("gaps", "--territory", "63:79", "--indicator", "DE_SHARE_MIC", "--format", "json", "--workspace", str(pub))
    assert r.exit_code == 0, r.output   # was NO_TARGET_FOR_INDICATOR
    row = next(x for x in json.loads(r.stdout) if x["territory"] == "63:79" and x["target_year"] == 2025)
    v0, y0 = float(latest["de_share_grdp_pct"]), int(latest["year"])
    assert row["latest_value"] == pytest.approx(v0) and row["latest_period"] == str(y0) and row["target_value"] == t2025
    assert row["gap"] == pytest.approx(t2025 - v0)
    assert row["required_cagr"] == pytest.approx((t2025 / v0) ** (1 / (2025 - y0)) - 1)
    # the figures the issue states
    assert (v0, y0, t2025) == (21.5, 2023, 25.0)
    assert round(row["gap"], 2) == 3.5 and round(row["required_cagr"], 4) == 0.0783
    assert (row["basis"], row["boundary"], row["series_indicator"], row["series_territory"]) == \
        ("DE_SHARE_MIC", "63:79", "DE_SHARE_MIC", "63:79")
    assert not row["basis_mismatch"] and "BASIS_MISMATCH" not in _codes(row)
    assert row["source"].startswith("published MIC/MOST estimate") and not row["illustrative"]
    assert row["n_obs"] == len({x["year"] for x in mic})


def test_the_citys_own_2024_estimate_is_a_third_basis_not_mic(pub):
    city = [r for r in _facts("de_share_provincial.csv")
            if r["province"] == "TP. Hồ Chí Minh" and r["source"] not in ("MIC", "GSO")]
    assert [(r["year"], float(r["de_share_grdp_pct"])) for r in city] == [("2024", 22.0)]
    with Workspace.open(pub) as ws:
        mic = ws.store.observations(indicator="DE_SHARE_MIC", territory="63:79")
        s = P.series(ws, "63:79", "DE_SHARE_MIC")
    assert "2024" not in set(mic.period) and s.frame.period.max() == "2023"


def test_hcmc_against_the_nso_series_only_when_asked_and_said_on_every_line(pub):
    gso = max((r for r in _facts("de_share_provincial.csv") if r["province"] == "TP. Hồ Chí Minh" and r["source"] == "GSO"),
              key=lambda r: r["year"])
    r = run("gaps", "--territory", "63:79", "--indicator", "DE_SHARE_MIC", "--against", "DE_SHARE", "--format", "json",
            "--workspace", str(pub))
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert rows and all(x["basis_mismatch"] and x["series_indicator"] == "DE_SHARE" for x in rows)
    for x in rows:
        (w,) = [w for w in x["warnings"] if w["code"] == "BASIS_MISMATCH"]
        assert "DE_SHARE_MIC" in w["en"] and "DE_SHARE" in w["vi"] and "--against DE_SHARE" in w["en"] and w["vi"] != w["en"]
    row = next(x for x in rows if x["target_year"] == 2025)
    assert row["latest_value"] == pytest.approx(float(gso["de_share_grdp_pct"])) == 14.65
    assert row["latest_period"] == gso["year"] and round(row["gap"], 2) == 10.35
    # the table says it on every line too
    r = run("gaps", "--territory", "63:79", "--indicator", "DE_SHARE_MIC", "--against", "DE_SHARE", "--workspace", str(pub))
    assert r.exit_code == 0 and r.output.count("BASIS_MISMATCH") == len(rows) and "≠ DE_SHARE_MIC" in r.output
    r = run("--lang", "vi", "gaps", "--territory", "63:79", "--indicator", "DE_SHARE_MIC", "--against", "DE_SHARE",
            "--workspace", str(pub))
    assert r.exit_code == 0 and "trộn hai phương pháp" in r.output


def test_against_is_refused_without_an_indicator_or_with_an_unknown_one(pub):
    r = run("gaps", "--territory", "63:79", "--against", "DE_SHARE", "--workspace", str(pub))
    assert r.exit_code == 2 and "AGAINST_NEEDS_INDICATOR" in r.output
    r = run("gaps", "--territory", "63:79", "--indicator", "DE_SHARE_MIC", "--against", "NOPE", "--workspace", str(pub))
    assert r.exit_code == 2 and "UNKNOWN_INDICATOR" in r.output
    with Workspace.open(pub) as ws, pytest.raises(UsageError) as exc:
        gaps(ws, GapsRequest(territory="63:79", against="DE_SHARE"))
    assert exc.value.code == "AGAINST_NEEDS_INDICATOR" and exc.value.vi and exc.value.en


def test_a_target_on_its_own_basis_has_no_mismatch(pub):
    with Workspace.open(pub) as ws:
        rows = gaps(ws, GapsRequest(territory="VN", indicator="DE_SHARE", against="DE_SHARE")).rows
    assert rows and not any(r["basis_mismatch"] or "BASIS_MISMATCH" in _codes(r) for r in rows)


# --- Hải Phòng: Plan 106 sits on 63:31; 34:31 only through the explicit conversion ----------------
def test_hai_phong_plan_106_sits_on_the_old_city():
    plan106 = [t for t in R.load_targets() if "106/KH-UBND" in t.source]
    assert {t.indicator for t in plan106} >= {"DE_SHARE", "ECOMMERCE_SHARE", "DIGITAL_FIRMS_PER_1000"}
    assert all(t.boundary == "63:31" and t.territory == "34:31" and t.carried_over and t.converted for t in plan106)
    (de,) = [t for t in plan106 if t.indicator == "DE_SHARE"]
    assert de.basis == "DE_SHARE_MIC" and de.value == 35
    hcmc = [t for t in R.load_targets() if t.territory in ("63:79", "34:79") and t.indicator == "DE_SHARE"]
    assert hcmc and all(t.basis == "DE_SHARE_MIC" and t.boundary == "63:79" for t in hcmc)
    assert all(t.basis == "DE_SHARE" for t in R.load_targets() if t.territory == "VN" and t.indicator == "DE_SHARE")


def test_hai_phong_measured_on_63_31_by_default_and_on_34_31_only_when_converted(pub):
    hp_mic = next(r for r in _facts("de_share_provincial.csv") if r["province"] == "Hải Phòng" and r["source"] == "MIC")
    hp_nso = next(r for r in _facts("de_share_provincial.csv") if r["province"] == "Hải Phòng (mới)")
    with Workspace.open(pub) as ws:
        (row,) = gaps(ws, GapsRequest(territory="34:31", indicator="DE_SHARE_MIC")).rows
        assert (row["territory"], row["series_territory"], row["series_indicator"]) == ("34:31", "63:31", "DE_SHARE_MIC")
        assert row["latest_value"] == pytest.approx(float(hp_mic["de_share_grdp_pct"])) and row["latest_period"] == "2022"
        assert "OLD_BOUNDARY" in _codes(row) and not row["boundary_converted"]
        (conv,) = gaps(ws, GapsRequest(territory="34:31", indicator="DE_SHARE_MIC", convert_boundary=True)).rows
        assert conv["series_territory"] == "34:31" and conv["boundary_converted"]
        (w,) = [w for w in conv["warnings"] if w["code"] == "BOUNDARY_CONVERTED"]
        assert "63:31" in w["en"] and "34:31" in w["vi"] and "carry_over" in w["en"]
        assert conv["error"]["code"] == "NO_SERIES"   # nobody publishes a MIC figure for the merged city
        (both,) = gaps(ws, GapsRequest(territory="34:31", indicator="DE_SHARE_MIC", convert_boundary=True,
                                       against="DE_SHARE", source="published")).rows
    assert {"BOUNDARY_CONVERTED", "BASIS_MISMATCH"} <= set(_codes(both))
    assert both["latest_value"] == pytest.approx(float(hp_nso["de_share_grdp_pct"])) and both["latest_period"] == "2025"
    assert round(both["gap"], 2) == round(35 - float(hp_nso["de_share_grdp_pct"]), 2) and both["status"] == "off_track"


def test_plan_measures_like_gaps(pub):
    with Workspace.open(pub) as ws:
        own = plan(ws, PlanRequest("63:79", "DE_SHARE_MIC", 2025))
        cross = plan(ws, PlanRequest("63:79", "DE_SHARE_MIC", 2025, against="DE_SHARE", source="published"))
    assert own.gap["latest_value"] == 21.5 and own.gap["series_indicator"] == "DE_SHARE_MIC"
    assert own.milestones[-1]["value"] == pytest.approx(25.0) and len(own.milestones) == 8
    assert cross.gap["latest_value"] == 14.65 and "BASIS_MISMATCH" in _codes(cross.gap)
    r = run("plan", "--territory", "63:79", "--indicator", "DE_SHARE_MIC", "--target-year", "2025", "--against", "DE_SHARE",
            "--workspace", str(pub))
    assert r.exit_code == 0, r.output
    assert "measured on DE_SHARE@63:79 (target set on DE_SHARE_MIC@63:79)" in r.output and "BASIS_MISMATCH" in r.output


# --- the registry: basis and boundary are checked -------------------------------------------------
BASE = {"territory": "34:31", "indicator": "DE_SHARE", "year": 2030, "value": 40, "unit": "PCT", "comparison": ">=",
        "direction": "higher", "source": "t", "url": "-", "confidence": "low"}


@pytest.mark.parametrize(("patch", "code"), [
    ({"basis": "NOPE"}, "TARGET_BAD_BASIS"),
    ({"basis": "DIGITAL_FIRMS_PER_1000"}, "TARGET_BAD_BASIS"),            # another unit
    ({"boundary": "63:99"}, "TARGET_BAD_BOUNDARY"),
    ({"boundary": "63:79", "carried_over": True}, "TARGET_BAD_BOUNDARY"),  # not an old province of 34:31
    ({"boundary": "63:31"}, "TARGET_BAD_BOUNDARY"),                       # carried over without saying so
    ({"territory": "63:31", "boundary": "34:31", "carried_over": True}, "TARGET_BAD_BOUNDARY"),  # backwards
])
def test_bad_basis_or_boundary_is_refused(patch, code):
    with pytest.raises(ReferenceDataError) as exc:
        R.make_target({**BASE, **patch})
    assert exc.value.code == code and exc.value.vi and exc.value.en and exc.value.vi != exc.value.en


def test_defaults_and_a_valid_carry_over():
    t = R.make_target(BASE)
    assert (t.basis, t.boundary, t.converted) == ("DE_SHARE", "34:31", False)
    t = R.make_target({**BASE, "basis": "DE_SHARE_MIC", "boundary": "63:30", "carried_over": True})
    assert (t.basis, t.boundary, t.converted) == ("DE_SHARE_MIC", "63:30", True)
    assert t.key == ("34:31", "DE_SHARE", 2030, "DE_SHARE_MIC")


def test_target_add_with_a_basis_and_boundary_round_trips(tmp_path):
    root = tmp_path / "w"
    Workspace.init(root).close()
    r = run("target", "add", "--territory", "34:31", "--indicator", "DE_SHARE", "--year", "2030", "--value", "40",
            "--basis", "DE_SHARE_MIC", "--boundary", "63:31", "--workspace", str(root))
    assert r.exit_code == 0, r.output
    r = run("target", "list", "--territory", "34:31", "--format", "json", "--workspace", str(root))
    mine = [t for t in json.loads(r.stdout) if t["origin"] == "workspace"]
    assert [(t["basis"], t["boundary"], t["carried_over"]) for t in mine] == [("DE_SHARE_MIC", "63:31", True)]
    r = run("target", "add", "--territory", "34:31", "--indicator", "DE_SHARE", "--year", "2030", "--value", "40",
            "--boundary", "63:79", "--workspace", str(root))
    assert r.exit_code == 2 and "TARGET_BAD_BOUNDARY" in r.output


def test_a_provinces_own_series_as_a_third_basis(tmp_path):
    """A workspace declares the city's own series and sets a target on it: measured on it alone."""
    root = tmp_path / "w"
    with Workspace.init(root) as ws:
        (ws.root / "indicators.yaml").write_text(
            "indicators:\n  - code: DE_SHARE_HCMC\n    name_vi: Tỷ trọng KTS theo ước tính của TP.HCM\n"
            "    name_en: DE share as estimated by Ho Chi Minh City\n    units: [PCT]\n    additive: false\n"
            "    min: 0\n    max: 100\n    frequencies: [A]\n    sector: total\n"
            "    description_vi: Ước tính của thành phố\n    description_en: The city's own estimate\n"
            "    source: UBND TP.HCM\n", encoding="utf-8")
        ingest_rows(ws, tmp_path / "city.csv", [["DE_SHARE_HCMC", "79", "63", "_T", "2024", "22", "PCT"]], source="HCMC")
        (ws.root / "targets.yaml").write_text(
            "targets:\n  - {territory: '63:79', indicator: DE_SHARE, basis: DE_SHARE_HCMC, year: 2025, value: 25,"
            " unit: PCT, comparison: '>=', direction: higher, source: city plan, url: '-', confidence: low}\n",
            encoding="utf-8")
        rows = gaps(ws, GapsRequest(territory="63:79", indicator="DE_SHARE_HCMC")).rows
    (row,) = rows
    assert row["latest_value"] == 22 and row["latest_period"] == "2024" and row["basis"] == "DE_SHARE_HCMC"
    assert round(row["gap"], 2) == 3.0 and not row["basis_mismatch"]


# --- item 8: the MIC-style view is named for what it is ------------------------------------------
def test_the_mic_style_view_is_named_and_the_bridge_says_what_it_computes():
    assert A.VIEW_LABELS["mic"][1] == MIC_STYLE and set(A.VIEW_LABELS) == set(A.VIEWS)
    inp = A.AccountInputs(va=pd.Series({"62": 20.0, "47": 100.0, "10": 300.0}), grdp=460.0,
                          coef_nat=pd.Series({"G": 0.2, "C": 0.05}), platform=pd.Series({"47": 5.0}))
    res = A.measure(inp, PA.hierarchy(), view="mic")
    items = [b["item"] for b in res.bridge]
    assert items == ["gso_total", "plus_platform_va", "minus_platform_already_in_digitalised", "mic_style_total"]
    assert sum(b["value"] for b in res.bridge[:-1]) == pytest.approx(res.bridge[-1]["value"]) == pytest.approx(res.de_va)
    for cmd in ("gaps", "plan"):
        r = run(cmd, "--help")
        assert r.exit_code == 0 and MIC_STYLE in " ".join(r.output.split())


def test_a_computed_series_names_the_mic_style_view(tmp_path):
    with Workspace.init(tmp_path / "w") as ws:
        rows = []
        for i, y in enumerate(range(2021, 2024)):
            rows += [["GRDP_VA", "31", "63", "62", str(y), str(20 + i), "VND_BN"],
                     ["GRDP_VA", "31", "63", "47", str(y), str(100 + i), "VND_BN"],
                     ["GRDP", "31", "63", "_T", str(y), str(150 + 2 * i), "VND_BN"],
                     ["DIGITAL_COEF", "VN", "", "G", str(y), "0.2", "RATIO"]]
        ingest_rows(ws, tmp_path / "in.csv", rows)
        s = P.series(ws, "63:31", "DE_SHARE", view="mic")
    assert MIC_STYLE in s.source and len(s.frame) == 3
