"""Scoring the provinces from the workspace (``kinhteso index``, kinhteso.pipeline.index).

Hand-made DTI main indices are ingested like any agency's file; the scores are checked against
the DTI formula written out here (PDTI = Σ points × score / 1000, facts/README.md §3.2), the 34
basis against the DTI 2024 merger rule (the mean of the old provinces' main indices), and the
five published DTI 2022 provinces against ../shared/facts/dti_2022.csv.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kinhteso import __version__
from conftest import write_long_csv
from kinhteso.cli import main
from kinhteso.demo.build import load_published
from kinhteso.demo.summaries import index_summary
from kinhteso.errors import MethodError, UsageError
from kinhteso.i18n import DEMO_LABEL, use_lang
from kinhteso.ingest.load import ingest_file
from kinhteso.methods.merger import mean_of_predecessors
from kinhteso.pipeline.index import IndexSettings, score_index
from kinhteso.pipeline.observations import resolve_territories
from kinhteso.reference import territories as terr
from kinhteso.workspace import Workspace
from tests.conftest import shared_path

HEADER = ["indicator", "territory", "basis", "sector", "period", "value", "unit"]
#: The DTI 2022 points (QĐ 922/QĐ-BTTTT; facts/README.md §3.2), smart city not scored.
POINTS = {"nhan_thuc_so": 100, "the_che_so": 100, "ha_tang_so": 100, "nhan_luc_so": 100,
          "an_toan_thong_tin_mang": 100, "hd_chinh_quyen_so": 200, "hd_kinh_te_so": 150, "hd_xa_hoi_so": 150}
CODES = list(POINTS)

#: 2024 main indices on the 63 basis: Hà Nội; Hải Dương + Hải Phòng (→ 34:31); Bắc Giang + Bắc Ninh (→ 34:24).
#: 63:31 is the best in hd_kinh_te_so only and the worst in ha_tang_so only.
SCORES_2024 = {
    "01": [0.90, 0.80, 0.85, 0.70, 0.60, 0.88, 0.70, 0.65],
    "30": [0.50, 0.55, 0.60, 0.45, 0.50, 0.52, 0.40, 0.45],
    "31": [0.80, 0.75, 0.30, 0.65, 0.55, 0.80, 0.95, 0.60],
    "24": [0.40, 0.45, 0.50, 0.35, 0.30, 0.42, 0.35, 0.30],
    "27": [0.70, 0.70, 0.75, 0.60, 0.65, 0.72, 0.62, 0.55],
}
#: 2025 on the 34 basis: 34:01 and 34:31 tie exactly.
SCORES_2025 = {
    "01": [0.9, 0.8, 0.8, 0.7, 0.6, 0.9, 0.7, 0.6],
    "31": [0.9, 0.8, 0.8, 0.7, 0.6, 0.9, 0.7, 0.6],
    "24": [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
}


def pdti(values) -> float:
    return sum(POINTS[c] * v for c, v in zip(CODES, values)) / 1000


def write(path, rows):
    return write_long_csv(path, rows, HEADER)


def dti_rows(scores: dict[str, list[float]], basis: str, period: str, *, skip=()):
    return [["DTI_MAIN_INDEX", code, basis, c, period, f"{v:.4f}", "INDEX01"]
            for code, vals in scores.items() for c, v in zip(CODES, vals) if (code, c) not in skip]


def ingest(ws, path, *, illustrative=False, when=dt.datetime(2025, 10, 21)):
    return ingest_file(ws.store, path, source="bo-khcn", indicators=ws.indicators(), workdir=ws.tmp,
                       illustrative=illustrative, received_at=when)


@pytest.fixture
def ws(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    ingest(w, write(tmp_path / "dti.csv", dti_rows(SCORES_2024, "63", "2024") + dti_rows(SCORES_2025, "34", "2025")))
    yield w
    w.close()


def run(*args):
    return CliRunner().invoke(main, ["--lang", "en", *map(str, args)])


# --- the formula ----------------------------------------------------------------------------

def test_scores_follow_the_dti_points_formula(ws):
    res = score_index(ws, IndexSettings(period="2024", basis=63, n=0))
    got = res.table.set_index("territory")["score"]
    expected = {f"63:{k}": pdti(v) for k, v in SCORES_2024.items()}
    assert set(got.index) == set(expected)
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, abs=1e-12)
    order = sorted(expected, key=lambda k: -expected[k])
    assert res.table["territory"].tolist() == order
    assert res.table["rank"].tolist() == [1, 2, 3, 4, 5]
    assert res.provenance["basis"] == 63 and res.provenance["method"]["merger_rule"] is None


def test_basis_defaults_to_34_when_the_period_has_34_basis_data(ws):
    assert score_index(ws, IndexSettings(period="2025", n=0)).provenance["basis"] == 34
    assert score_index(ws, IndexSettings(period="2024", n=0)).provenance["basis"] == 63


# --- the 34 basis: the DTI 2024 rule ----------------------------------------------------------

def test_34_basis_is_the_mean_of_the_old_provinces_main_indices(ws):
    res = score_index(ws, IndexSettings(period="2024", basis=34, n=0))
    t = res.table.set_index("territory")
    mean = {new: [np.mean([SCORES_2024[o][i] for o in olds]) for i in range(len(CODES))]
            for new, olds in {"34:01": ["01"], "34:31": ["30", "31"], "34:24": ["24", "27"]}.items()}
    assert set(t.index) == set(mean)
    for new, vals in mean.items():
        assert t.loc[new, "score"] == pytest.approx(pdti(vals), abs=1e-12)
    assert t.loc["34:31", "derived_from"] == "63:30+63:31"
    assert t.loc["34:24", "derived_from"] == "63:24+63:27"
    assert t.loc["34:01", "derived_from"] == "63:01"
    # the arithmetic PDTI is linear, so the merged PDTI is also the mean of the old PDTIs
    assert t.loc["34:31", "score"] == pytest.approx((pdti(SCORES_2024["30"]) + pdti(SCORES_2024["31"])) / 2, abs=1e-12)
    assert res.provenance["method"]["merger_rule"] == "mean_of_main_indices"
    # the same main indices as the store-level rule of methods/merger.py
    coin_raw = res.coin.data["Raw"]
    long = ws.store.observations(indicator="DTI_MAIN_INDEX", period="2024")
    m = mean_of_predecessors(long, terr.merger_map())
    for r in m.itertuples(index=False):
        if r.territory in coin_raw.index:
            assert coin_raw.loc[r.territory, r.sector] == pytest.approx(r.value, abs=1e-12)


def test_a_value_stored_on_the_34_basis_wins_over_a_derived_one(ws, tmp_path):
    ingest(ws, write(tmp_path / "new31.csv", dti_rows({"31": [0.1] * 8}, "34", "2024")),
           when=dt.datetime(2025, 11, 1))
    t = score_index(ws, IndexSettings(period="2024", basis=34, n=0)).table.set_index("territory")
    assert t.loc["34:31", "score"] == pytest.approx(0.1, abs=1e-12)
    assert t.loc["34:31", "derived_from"] == ""


# --- ranks, intervals, strengths and weaknesses ----------------------------------------------

def test_ties_share_the_lower_rank(ws):
    t = score_index(ws, IndexSettings(period="2025", basis=34, n=50)).table.set_index("territory")
    assert t.loc["34:01", "score"] == t.loc["34:31", "score"]
    assert t.loc["34:01", "rank"] == t.loc["34:31", "rank"] == 1
    assert t.loc["34:24", "rank"] == 3


def test_rank_intervals_hold_the_nominal_rank_and_are_reproducible(ws):
    a = score_index(ws, IndexSettings(period="2024", basis=63, n=300, seed=7))
    b = score_index(ws, IndexSettings(period="2024", basis=63, n=300, seed=7))
    pd.testing.assert_frame_equal(a.table, b.table)
    t = a.table
    assert (t["rank_low"] <= t["rank"]).all() and (t["rank"] <= t["rank_high"]).all()
    assert (t["rank_low"] >= 1).all() and (t["rank_high"] <= len(t)).all()
    # the unperturbed replication is the plain index
    ua = a.uncertainty
    np.testing.assert_allclose(ua.nominal_scores, a.coin.data["Aggregated"]["PDTI"].to_numpy(), rtol=0, atol=1e-12)
    assert len(ua.design) == 300 and a.provenance["parameters"]["n"] == 300
    # 63:24 (PDTI 0.38…) is far below the others: last in every replication
    assert t.set_index("territory").loc["63:24", ["rank_low", "rank_high"]].tolist() == [5, 5]


def test_no_replications_means_no_interval(ws):
    t = score_index(ws, IndexSettings(period="2024", n=0)).table
    assert t["rank_low"].isna().all() and t["rank_high"].isna().all()


def test_strengths_and_weaknesses_are_the_best_and_worst_ranked_indices(ws):
    t = score_index(ws, IndexSettings(period="2024", basis=63, n=0)).table.set_index("territory")
    # 63:31 ranks 1st only in hd_kinh_te_so and 5th (last) only in ha_tang_so
    assert t.loc["63:31", "strengths"].split("; ")[0] == "hd_kinh_te_so"
    assert t.loc["63:31", "weaknesses"].split("; ")[0] == "ha_tang_so"
    assert "do_thi_thong_minh" not in " ".join(t["strengths"]) + " ".join(t["weaknesses"])  # 0 points


# --- errors ------------------------------------------------------------------------------------

def test_a_province_missing_a_main_index_is_named(ws, tmp_path):
    ingest(ws, write(tmp_path / "gap.csv", dti_rows(SCORES_2024, "63", "2023", skip={("27", "hd_xa_hoi_so")})))
    with pytest.raises(MethodError) as e:
        score_index(ws, IndexSettings(period="2023", basis=63, n=0))
    assert e.value.code == "INDEX_MISSING_INPUT" and "63:27" in e.value.en and "hd_xa_hoi_so" in e.value.en
    assert [m["territory"] for m in e.value.context["missing"]] == ["63:27"]
    r = CliRunner().invoke(main, ["--lang", "vi", "index", "--period", "2023", "--basis", "63",
                                  "--workspace", str(ws.root)])
    assert r.exit_code == 1 and "63:27 Bắc Ninh" in r.output and "thiếu 1/8" in r.output


def test_a_missing_old_province_blocks_its_new_one(ws, tmp_path):
    ingest(ws, write(tmp_path / "half.csv", dti_rows({"30": SCORES_2024["30"]}, "63", "2022")))
    r = run("index", "--period", "2022", "--basis", "34", "--workspace", ws.root)
    assert r.exit_code == 1
    assert "INDEX_MISSING_INPUT" in r.output and "63:31" in r.output and "needed for 34:31 by the merger rule" in r.output


def test_no_data_for_the_period_lists_the_periods_with_data(ws):
    r = run("index", "--period", "2019", "--workspace", ws.root)
    assert r.exit_code == 1 and "INDEX_NO_DATA" in r.output and "periods with data: 2024, 2025" in r.output


def test_the_34_basis_has_no_way_back_to_63(ws):
    r = run("index", "--period", "2025", "--basis", "63", "--workspace", ws.root)
    assert r.exit_code == 1 and "INDEX_NO_DATA_ON_BASIS" in r.output and "--basis 34" in r.output


def test_unknown_framework_is_a_usage_error(ws):
    r = run("index", "--framework", "desi2022", "--period", "2024", "--workspace", ws.root)
    assert r.exit_code == 2 and "UNKNOWN_FRAMEWORK" in r.output and "dti2022" in r.output
    with pytest.raises(UsageError):
        score_index(ws, IndexSettings(period="2024", n=-1))


def test_no_workspace(tmp_path):
    r = run("index", "--period", "2024", "--workspace", tmp_path / "none")
    assert r.exit_code == 1 and "NO_WORKSPACE" in r.output


# --- another framework: goalposts, no merger rule ---------------------------------------------

def test_de1354_goalposts_and_no_merger_rule(tmp_path):
    with Workspace.init(tmp_path / "w") as w:
        rows = [["DE_SHARE", "31", "34", "_T", "2025", "10", "PCT"], ["DE_SHARE", "01", "34", "_T", "2025", "30", "PCT"],
                ["SME_PLATFORM_SHARE", "31", "34", "_T", "2025", "25", "PCT"],
                ["SME_PLATFORM_SHARE", "01", "34", "_T", "2025", "40", "PCT"],
                ["ECONTRACT_SHARE", "31", "34", "_T", "2025", "40", "PCT"],
                ["ECONTRACT_SHARE", "01", "34", "_T", "2025", "80", "PCT"],
                ["DE_SHARE", "31", "63", "_T", "2024", "10", "PCT"]]
        ingest(w, write(tmp_path / "de.csv", rows))
        t = score_index(w, IndexSettings(framework="de1354_province", period="2025", n=0)).table.set_index("territory")
        # (x - 0) / target, clipped to [0, 1]; targets 20, 50, 80 (QĐ 411/QĐ-TTg); equal weights
        assert t.loc["34:31", "score"] == pytest.approx((10 / 20 + 25 / 50 + 40 / 80) / 3, abs=1e-12)
        assert t.loc["34:01", "score"] == pytest.approx((1 + 40 / 50 + 1) / 3, abs=1e-12)
        r = run("index", "--framework", "de1354_province", "--period", "2024", "--basis", "34", "--workspace", w.root)
        assert r.exit_code == 2 and "INDEX_NO_MERGER_RULE" in r.output


# --- provenance, formats, the demo label -----------------------------------------------------

def test_illustrative_inputs_are_flagged_everywhere(tmp_path):
    with Workspace.init(tmp_path / "w") as w:
        ingest(w, write(tmp_path / "d.csv", dti_rows(SCORES_2024, "63", "2024") + dti_rows(SCORES_2025, "34", "2025")),
               illustrative=True)
        res = score_index(w, IndexSettings(period="2024", basis=34, n=20))
        assert res.illustrative and res.table["illustrative"].all()
        r = run("index", "--period", "2024", "--basis", "34", "--n", "20", "--workspace", w.root)
        assert r.exit_code == 0 and DEMO_LABEL["en"] in r.output and "34:31" in r.output
        lines = []
        with use_lang("en"):
            index_summary(w, lines.append)
        text = "\n".join(lines)
        assert DEMO_LABEL["en"] in text and "2025" in text and "[" in text


def test_csv_and_json_carry_the_rows_and_the_provenance(ws):
    r = run("index", "--period", "2024", "--basis", "34", "--n", "40", "--seed", "3", "--format", "csv",
            "--workspace", ws.root)
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.stdout), dtype={"territory": str})
    assert list(df.columns[:6]) == ["territory", "name", "score", "rank", "rank_low", "rank_high"]
    assert len(df) == 3 and not df["illustrative"].any()
    r = run("index", "--period", "2024", "--basis", "34", "--n", "40", "--seed", "3", "--format", "json",
            "--workspace", ws.root)
    doc = json.loads(r.stdout)
    p = doc["provenance"]
    # no --framework: the framework in force for 2024 (Decision 405, dti2024; issue 14)
    assert p["framework"] == "dti2024" and p["period"] == "2024" and p["basis"] == 34
    assert p["code_version"] == __version__ and p["illustrative"] is False
    assert [v["source"] for v in p["input_vintages"]] == ["bo-khcn"]
    assert p["parameters"]["n"] == 40 and p["parameters"]["seed"] == 3
    assert {s["territory"] for s in doc["scores"]} == set(df["territory"])
    r = run("index", "--period", "2024", "--n", "0", "--format", "json", "--workspace", ws.root)
    assert json.loads(r.stdout)["scores"][0]["rank_low"] is None


def test_as_of_reads_earlier_vintages(ws, tmp_path):
    ingest(ws, write(tmp_path / "rev.csv", dti_rows({"24": [0.99] * 8}, "63", "2024")), when=dt.datetime(2025, 12, 1))
    now = score_index(ws, IndexSettings(period="2024", basis=63, n=0)).table.set_index("territory")
    old = score_index(ws, IndexSettings(period="2024", basis=63, n=0, as_of=dt.datetime(2025, 11, 1))).table
    assert now.loc["63:24", "rank"] == 1
    assert old.set_index("territory").loc["63:24", "score"] == pytest.approx(pdti(SCORES_2024["24"]), abs=1e-12)


# --- the published check, through the workspace ------------------------------------------------

def test_published_dti_2022_reproduced_through_the_workspace(tmp_path):
    facts = pd.read_csv(shared_path("facts", "dti_2022.csv")).drop_duplicates("province")
    full = facts.dropna(subset=CODES + ["pdti"])
    assert len(full) >= 5
    with Workspace.init(tmp_path / "w") as w:
        load_published(w, echo=lambda _m: None)  # the shipped published figures, as real vintages
        res = score_index(w, IndexSettings(period="2022", basis=63, n=50))
        got = res.table.set_index("territory")
        assert not res.illustrative
        for row in full.itertuples(index=False):
            (key,) = resolve_territories([row.province], basis=63)
            assert got.loc[key, "score"] == pytest.approx(row.pdti, abs=1e-4), row.province
        keys = [resolve_territories([p], basis=63)[0] for p in full.sort_values("rank_dti")["province"]]
        assert got.loc[keys, "rank"].tolist() == sorted(got.loc[keys, "rank"].tolist())
