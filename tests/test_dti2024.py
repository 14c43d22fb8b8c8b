"""The DTI frameworks in force (issue 14, item 3): Decision 405/QĐ-BKHCN for assessment year 2024
(``dti2024``), the 2022→2024 bridge, scoring at component level where component data exist, the
merger rule on the 2024 framework, the published DTI 2024 results as real series, and the 2025
framework refused because it is not published.

Hand computations are written out here; the published figures are checked against
../shared/facts/dti_2024_published.csv and dti_points_2020_2024.csv.
"""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import write_long_csv

from kinhteso.cli import main
from kinhteso.errors import MethodError, ReferenceDataError
from kinhteso.ingest.load import ingest_file
from kinhteso.methods import composite as C
from kinhteso.pipeline import index as PI
from kinhteso.pipeline.index import (
    IndexSettings,
    default_framework,
    framework_indicators,
    score_index,
)
from kinhteso.pipeline.observations import ObservationQuery, read_observations
from kinhteso.reference.frameworks import (
    available_frameworks,
    framework_from_dict,
    load_framework,
)
from kinhteso.reference.indicators import load_indicators, sector_codes
from kinhteso.service.index import IndexRequest
from kinhteso.service.workspace import load_published, published_files
from kinhteso.workspace import Workspace
from tests.conftest import shared_path

HEADER = ["indicator", "territory", "basis", "sector", "period", "value", "unit"]
MAIN = ["nhan_thuc_so", "the_che_so", "ha_tang_so", "nhan_luc_so", "an_toan_thong_tin_mang",
        "hd_chinh_quyen_so", "hd_kinh_te_so", "hd_xa_hoi_so"]


def run(*args):
    return CliRunner().invoke(main, [*map(str, args)])


def rows_of(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def ingest(ws, path, rows, *, when=dt.datetime(2025, 10, 21)):
    write_long_csv(path, rows, HEADER)
    return ingest_file(ws.store, path, source="bo-khcn", indicators=ws.indicators(), workdir=ws.tmp,
                       received_at=when)


def main_rows(scores: dict[str, list[float]], basis: str, period: str):
    return [["DTI_MAIN_INDEX", code, basis, c, period, f"{v:.6f}", "INDEX01"]
            for code, vals in scores.items() for c, v in zip(MAIN, vals)]


@pytest.fixture
def ws(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    yield w
    w.close()


# --- the framework -----------------------------------------------------------------------------

def test_dti2024_has_three_pillars_and_the_eight_main_indices_of_the_press_releases():
    fw = load_framework("dti2024")
    assert fw.index == "PDTI" and fw.main_indices == MAIN and fw.indicators == MAIN
    assert fw.components == {}  # the 47 components are not in the sources found: none invented
    assert [p["code"] for p in fw.pillars] == ["chinh_quyen_so", "kinh_te_so", "xa_hoi_so"]
    assert all(p["members"] is None for p in fw.pillars)  # pillar members not published
    groups = fw.meta.set_index("iCode").loc[MAIN, "Group"].tolist()
    assert groups == ["foundation"] * 5 + ["activity"] * 3
    raw = yaml.safe_load((published_files()[0].parent.parent / "frameworks" / "dti2024.yaml").read_text("utf-8"))
    assert raw["components_total"] == 47 and "405/QĐ-BKHCN" in raw["basis"]


def test_every_fact_of_dti2024_carries_a_source():
    fw = load_framework("dti2024")
    m = fw.meta.set_index("iCode")
    for code in MAIN:
        assert "http" in str(m.loc[code, "Source"]), code
    assert "http" in fw.source and "http" in fw.method["source"] and "http" in fw.merger_rule["source"]
    assert all("http" in p["source"] for p in fw.pillars) and "http" in fw.pillars_note["source"]
    assert "http" in fw.bridge["source"] and "http" in fw.published["source"]
    assert fw.assumptions and all("http" in a["source"] and a["vi"] and a["en"] for a in fw.assumptions)


def test_the_unpublished_points_are_said_so_and_the_assumed_weights_are_the_922_points():
    fw = load_framework("dti2024")
    m = fw.meta.set_index("iCode")
    assert m.loc[MAIN, "Points"].isna().all()  # points: null in the file
    assert m.loc[MAIN, "Weight"].tolist() == [100, 100, 100, 100, 100, 200, 150, 150]
    old = load_framework("dti2022").meta.set_index("iCode")
    assert m.loc[MAIN, "Weight"].tolist() == old.loc[MAIN, "Weight"].tolist()
    (vi, en), = fw.assumption_notes()
    assert "giả định" in vi and "assumption" in en and "922" in en


def test_the_bridge_maps_every_2022_main_index_and_drops_the_smart_city():
    fw = load_framework("dti2024")
    old = load_framework("dti2022")
    mapped = {r["from"]: (r["to"], r["relation"]) for r in fw.bridge["map"]}
    assert set(mapped) == set(old.main_indices)
    assert mapped["do_thi_thong_minh"] == (None, "dropped")
    assert {to for to, rel in mapped.values() if rel != "dropped"} == set(fw.main_indices)


def test_a_bridge_to_an_unknown_main_index_is_refused():
    doc = {"id": "x", "index": {"code": "I", "children": [{"code": "a"}, {"code": "b"}]},
           "bridge": {"from": "dti2022", "map": [{"from": "nhan_thuc_so", "to": "zzz", "relation": "same_name"}]}}
    with pytest.raises(ReferenceDataError) as e:
        framework_from_dict(doc, where="x.yaml")
    assert e.value.code == "FRAMEWORK_FORMAT" and "zzz" in e.value.en and "zzz" in e.value.vi


def test_published_pillar_averages_all_exceed_the_average_dti_so_pillars_are_not_a_tree_level():
    fw = load_framework("dti2024")
    pub = fw.published
    facts = {r["level"]: r for r in rows_of(shared_path("facts", "dti_2024_published.csv"))}
    assert pub["provincial_average"] == float(facts["province-average"]["dti_2024"])
    for code, v in pub["pillar_averages"].items():
        assert f"{v:.4f}" in facts["province-average"]["note"], code
    # a fixed-weight mean of the pillars would average to at most the largest pillar average and at
    # least the smallest: 0.6961 is below all three, so the PDTI is not such a mean (stated in the file)
    assert min(pub["pillar_averages"].values()) > pub["provincial_average"]
    assert "not a level of the aggregation tree" in fw.pillars_note["note"]["en"]


# --- scoring with dti2024 ----------------------------------------------------------------------

def test_scoring_a_province_reproduces_the_hand_computation(ws, tmp_path):
    ingest(ws, tmp_path / "m.csv", main_rows({"01": [0.90, 0.80, 0.85, 0.70, 0.60, 0.88, 0.70, 0.65],
                                              "31": [0.50, 0.50, 0.50, 0.50, 0.50, 0.50, 0.50, 0.50]}, "63", "2024"))
    res = score_index(ws, IndexSettings(framework="dti2024", period="2024", basis=63, n=0))
    got = res.table.set_index("territory")["score"]
    # 100·(0.90 + 0.80 + 0.85 + 0.70 + 0.60) + 200·0.88 + 150·0.70 + 150·0.65 = 385 + 176 + 105 + 97.5 = 763.5
    assert got["63:01"] == pytest.approx(0.7635, abs=1e-12)
    assert got["63:31"] == pytest.approx(0.5, abs=1e-12)
    assert res.provenance["framework"] == "dti2024"
    assert [a["code"] for a in res.provenance["assumptions"]] == ["points_of_922"]
    assert any("assumption" in en for _, en in res.notes)


def test_the_default_framework_is_the_one_in_force_for_the_year(ws, tmp_path):
    assert (default_framework("2022"), default_framework("2023"), default_framework("2024")) == \
        ("dti2022", "dti2022", "dti2024")
    assert IndexRequest("2023").framework == "dti2022" and IndexRequest("2024").framework == "dti2024"
    ingest(ws, tmp_path / "m.csv", main_rows({"01": [0.6] * 8}, "63", "2023")
           + main_rows({"01": [0.7] * 8}, "63", "2024") + main_rows({"01": [0.8] * 8}, "34", "2025"))
    assert score_index(ws, IndexSettings(period="2023", n=0)).provenance["framework"] == "dti2022"
    assert score_index(ws, IndexSettings(period="2024", n=0)).provenance["framework"] == "dti2024"
    r25 = score_index(ws, IndexSettings(period="2025", n=0))
    assert r25.provenance["framework"] == "dti2024"
    assert any("2025" in en and "not published" in en for _, en in r25.notes)
    assert any("2025" in vi and "chưa được công bố" in vi for vi, _ in r25.notes)
    # named or not, a DTI framework scoring 2025 says so; 2024 with its own framework does not
    named = score_index(ws, IndexSettings(framework="dti2024", period="2025", n=0))
    assert any("not published" in en for _, en in named.notes)
    assert not any("not published" in en for _, en in score_index(ws, IndexSettings(period="2024", n=0)).notes)
    r = run("--lang", "en", "index", "--period", "2025", "--n", "0", "--workspace", ws.root)
    assert r.exit_code == 0 and "assessment year 2025 is not published" in r.stderr


def test_merged_province_is_the_mean_of_its_predecessors_main_indices_on_dti2024(ws, tmp_path):
    """Old Đà Nẵng 0.8335 and old Quảng Nam 0.5803 (published, 63 basis) give new Đà Nẵng 0.7069
    (published, rank 17 of 34): main indices shaped so that each old PDTI is the published one."""
    w = np.array([100, 100, 100, 100, 100, 200, 150, 150]) / 1000

    def shaped(target, profile):
        v = np.array(profile)
        return list(v + (target - w @ v))  # shift every main index: Σ w = 1, so the PDTI moves by the shift

    dn = shaped(0.8335, [0.95, 0.90, 0.80, 0.85, 0.75, 0.86, 0.80, 0.70])
    qn = shaped(0.5803, [0.70, 0.60, 0.50, 0.55, 0.45, 0.62, 0.55, 0.50])
    ingest(ws, tmp_path / "m.csv", main_rows({"48": dn, "49": qn}, "63", "2024"))
    res = score_index(ws, IndexSettings(framework="dti2024", period="2024", basis=34, n=0))
    t = res.table.set_index("territory")
    assert list(t.index) == ["34:48"] and t.loc["34:48", "derived_from"] == "63:48+63:49"
    means = [(a + b) / 2 for a, b in zip(dn, qn)]
    assert t.loc["34:48", "score"] == pytest.approx(float(w @ np.array(means)), abs=1e-12)
    assert t.loc["34:48", "score"] == pytest.approx(0.7069, abs=1e-4)  # the published merged value
    assert res.provenance["method"]["merger_rule"] == "mean_of_main_indices"


# --- components --------------------------------------------------------------------------------

#: A small framework whose first main index has two components (points 30 and 10); the codes of the
#: main indices are DTI ones so that the store accepts them as DTI_MAIN_INDEX sectors.
FIXTURE = {
    "id": "fixture", "name": {"vi": "Khung thử", "en": "Test framework"},
    "method": {"normalise": "none", "aggregate": "arithmetic"},
    "merger_rule": {"rule": "mean_of_main_indices"},
    "index": {"code": "PDTI", "children": [
        {"code": "nhan_thuc_so", "points": 100, "children": [{"code": "nt_a", "points": 30},
                                                             {"code": "nt_b", "points": 10}]},
        {"code": "hd_kinh_te_so", "points": 300},
    ]},
}


def test_the_format_carries_components_and_scores_at_main_index_level():
    fw = framework_from_dict(FIXTURE, where="fixture")
    assert fw.main_indices == ["nhan_thuc_so", "hd_kinh_te_so"]
    assert fw.components == {"nhan_thuc_so": ["nt_a", "nt_b"]}
    mm = fw.main_meta.set_index("iCode")
    assert mm.loc[["nhan_thuc_so", "hd_kinh_te_so"], "Type"].tolist() == ["Indicator", "Indicator"]
    assert mm.loc["PDTI", "Level"] == 2 and set(mm.index) == {"PDTI", "nhan_thuc_so", "hd_kinh_te_so"}


def test_roll_up_uses_components_where_complete_else_the_given_main_index():
    fw = framework_from_dict(FIXTURE, where="fixture")
    given = pd.DataFrame({"nhan_thuc_so": [0.10, 0.40, np.nan], "hd_kinh_te_so": [0.5, 0.6, 0.7]},
                         index=["U1", "U2", "U3"])
    lower = pd.DataFrame({"nt_a": [0.9, 0.8, 0.5], "nt_b": [0.5, np.nan, np.nan]}, index=["U1", "U2", "U3"])
    s, how = C.roll_up(given, lower, fw.meta, fw.main_indices)
    # U1: (30·0.9 + 10·0.5) / 40 = 32 / 40 = 0.8, from its components (the stored 0.10 is not used)
    assert s.loc["U1", "nhan_thuc_so"] == pytest.approx(0.8, abs=1e-12) and how.loc["U1", "nhan_thuc_so"] == "components"
    # U2: nt_b missing → the stored main index; U3: nt_b missing and nothing stored → missing
    assert s.loc["U2", "nhan_thuc_so"] == 0.40 and how.loc["U2", "nhan_thuc_so"] == "given"
    assert np.isnan(s.loc["U3", "nhan_thuc_so"]) and how.loc["U3", "nhan_thuc_so"] == ""
    assert how["hd_kinh_te_so"].tolist() == ["given"] * 3


@pytest.fixture
def fixture_framework(monkeypatch):
    fw = framework_from_dict(FIXTURE, where="fixture")
    real = PI.load_framework
    monkeypatch.setattr(PI, "load_framework", lambda name: fw if name == "fixture" else real(name))
    monkeypatch.setitem(PI.FRAMEWORK_INPUTS, "fixture",
                        PI.InputSpec(indicator="DTI_MAIN_INDEX", component_indicator="DTI_COMPONENT"))
    return fw


def comp(code, basis, sector, value, period="2024"):
    return ["DTI_COMPONENT", code, basis, sector, period, f"{value}", "INDEX01"]


def main_row(code, basis, sector, value, period="2024"):
    return ["DTI_MAIN_INDEX", code, basis, sector, period, f"{value}", "INDEX01"]


def test_scoring_at_component_level_through_the_workspace(ws, tmp_path, fixture_framework):
    rows = [comp("01", "63", "nt_a", 0.9), comp("01", "63", "nt_b", 0.5), main_row("01", "63", "nhan_thuc_so", 0.1),
            main_row("01", "63", "hd_kinh_te_so", 0.6),
            main_row("31", "63", "nhan_thuc_so", 0.4), main_row("31", "63", "hd_kinh_te_so", 0.2),
            comp("30", "63", "nt_a", 0.7), main_row("30", "63", "nhan_thuc_so", 0.3),
            main_row("30", "63", "hd_kinh_te_so", 0.5)]
    ingest(ws, tmp_path / "c.csv", rows)
    res = score_index(ws, IndexSettings(framework="fixture", period="2024", basis=63, n=0))
    got = res.table.set_index("territory")["score"]
    # 63:01: main index 0.8 from its components; PDTI = (100·0.8 + 300·0.6) / 400 = 260 / 400 = 0.65
    assert got["63:01"] == pytest.approx(0.65, abs=1e-12)
    # 63:31: no components, main indices as stored: (100·0.4 + 300·0.2) / 400 = 0.25
    assert got["63:31"] == pytest.approx(0.25, abs=1e-12)
    # 63:30: one component of two: the stored main index is used: (100·0.3 + 300·0.5) / 400 = 0.45
    assert got["63:30"] == pytest.approx(0.45, abs=1e-12)
    assert res.provenance["from_components"] == {"63:01": ["nhan_thuc_so"]}
    text = " ".join(en for _, en in res.notes)
    assert "rolled up" in text and "63:30:nhan_thuc_so" in text and "63:01:nhan_thuc_so" in text
    # on the 34 basis the merger rule averages the rolled-up main indices: 34:31 ← 63:30 + 63:31
    r34 = score_index(ws, IndexSettings(framework="fixture", period="2024", basis=34, n=0)).table.set_index("territory")
    assert r34.loc["34:31", "score"] == pytest.approx((100 * 0.35 + 300 * 0.35) / 400, abs=1e-12)


def test_a_unit_with_incomplete_components_and_no_main_index_is_refused(ws, tmp_path, fixture_framework):
    ingest(ws, tmp_path / "c.csv", [comp("01", "63", "nt_a", 0.9), main_row("01", "63", "hd_kinh_te_so", 0.6)])
    with pytest.raises(MethodError) as e:
        score_index(ws, IndexSettings(framework="fixture", period="2024", basis=63, n=0))
    assert e.value.code == "INDEX_MISSING_INPUT" and "nhan_thuc_so" in e.value.en and "nhan_thuc_so" in e.value.vi


def test_the_stored_indicators_of_the_dti_frameworks_include_components():
    assert framework_indicators("dti2024") == ["DTI_COMPONENT", "DTI_MAIN_INDEX"]
    assert framework_indicators(None) == ["DTI_COMPONENT", "DTI_MAIN_INDEX"]
    assert framework_indicators("de1354_province") == ["DE_SHARE", "ECONTRACT_SHARE", "SME_PLATFORM_SHARE"]
    reg = load_indicators()
    assert reg["DTI_COMPONENT"].sector_kind == "dti_component" and reg["DTI_SCORE"].sector_kind == "total"
    assert sector_codes("dti_main_index") == tuple(load_framework("dti2022").main_indices)  # 2024's are a subset
    assert set(load_framework("dti2024").main_indices) <= set(sector_codes("dti_main_index"))


# --- the published DTI 2024 results ------------------------------------------------------------

def test_published_dti_2024_loads_as_real_vintages_and_reads_back(ws):
    load_published(ws)
    f = read_observations(ws, ObservationQuery(indicator=["DTI_SCORE"])).frame
    f["key"] = [f"{b}:{t}" if b else t for b, t in zip(f["basis"].fillna(""), f["territory"])]
    v = {(k, p): x for k, p, x in zip(f["key"], f["period"], f["value"])}
    assert v[("34:31", "2024")] == pytest.approx(0.7857) and v[("VN", "2024")] == pytest.approx(0.7955)
    assert v[("VN", "2023")] == pytest.approx(0.7326) and v[("34:01", "2024")] == pytest.approx(0.8241)
    assert not f["illustrative"].any() and set(f["source"]) == {"MOST"}
    # the publisher's merger rule in its own figures: new Đà Nẵng = mean of old Đà Nẵng and Quảng Nam
    assert v[("34:48", "2024")] == pytest.approx((v[("63:48", "2024")] + v[("63:49", "2024")]) / 2, abs=1e-4)
    # the figures are those of the shared facts
    facts = rows_of(shared_path("facts", "dti_2024_published.csv"))
    names = {"Hà Nội": "34:01", "Huế": "34:46", "Hải Phòng": "34:31", "TP. Hồ Chí Minh": "34:79", "Viet Nam": "VN"}
    for r in facts:
        if r["territory"] in names:
            assert v[(names[r["territory"]], "2024")] == pytest.approx(float(r["dti_2024"]), abs=1e-12), r
    points = rows_of(shared_path("facts", "dti_points_2020_2024.csv"))
    assert any(r["year"] == "2023" and r["metric"] == "DTI_national" and float(r["value"]) == v[("VN", "2023")]
               for r in points)
    # received at the release date, so --as-of the day before shows none of them
    before = read_observations(ws, ObservationQuery(indicator=["DTI_SCORE"], as_of=dt.datetime(2025, 10, 20))).frame
    assert before.empty


def test_every_published_dti_2024_row_has_a_source_url():
    rows = rows_of(next(p for p in published_files() if p.name == "dti2024.csv"))
    assert len(rows) == 9 and all(r["url"].startswith("https://") and r["source"] == "MOST" for r in rows)


def test_init_loads_the_published_dti_2024(tmp_path):
    r = run("--lang", "en", "init", tmp_path / "w")
    assert r.exit_code == 0, r.output
    with Workspace.open(tmp_path / "w") as w:
        f = read_observations(w, ObservationQuery(indicator=["DTI_SCORE"], period=["2024"])).frame
    assert len(f) == 8


# --- DTI 2025: announced, not published ----------------------------------------------------------

def test_dti2025_is_refused_clearly_in_both_languages(ws):
    assert "dti2025" not in available_frameworks() and "dti2025" in available_frameworks(include_unpublished=True)
    with pytest.raises(ReferenceDataError) as e:
        load_framework("dti2025")
    assert e.value.code == "FRAMEWORK_NOT_PUBLISHED"
    assert "not been published" in e.value.en and "chưa được công bố" in e.value.vi and "http" in e.value.en
    for lang, words in (("en", "not been published"), ("vi", "chưa được công bố")):
        r = run("--lang", lang, "index", "--framework", "dti2025", "--period", "2025", "--workspace", ws.root)
        assert r.exit_code == 1 and "FRAMEWORK_NOT_PUBLISHED" in r.output and words in r.output, r.output
        assert "Traceback" not in r.output
