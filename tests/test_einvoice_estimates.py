"""Province-specific digitalisation from e-invoice aggregates (issue 17, item 3): shares and
allocation ratios by hand, the bootstrap interval, the minimum of firms with its fallback, the
precedence of a submitted coefficient, the interval in ``measure`` (service and CLI JSON), storing
twice, and the submission's values against the records."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kinhteso.cli import main
from kinhteso.errors import KinhtesoError, UsageError
from kinhteso.methods import einvoice as M
from kinhteso.pipeline import accounts as PA
from kinhteso.pipeline import einvoice as PE
from kinhteso.service.figures import MeasureRequest, measure
from kinhteso.workspace import Workspace

# ----------------------------------------------------------------------------------- pure methods


def _sellers(n: int, *, seed: int = 0, territory: str = "34:31", section: str = "G") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    total = rng.integers(1_000, 100_000, size=n)
    online = (total * rng.uniform(0, 0.6, size=n)).astype(int)
    return pd.DataFrame({"territory": territory, "section": section, "seller": [f"s{i}" for i in range(n)],
                         "total_vnd": total, "online_vnd": online})


def test_share_is_the_ratio_of_sums_by_hand():
    s = pd.DataFrame({"territory": "34:31", "section": "G", "seller": ["a", "b", "c", "a"],
                      "total_vnd": [100, 300, 600, 100], "online_vnd": [50, 30, 120, 0]})
    r = M.shares(s, ["territory", "section"], replicates=100, seed=3)
    row = r.table.iloc[0]
    # seller a's two rows are one seller: (50 + 0 + 30 + 120) / (200 + 300 + 600) = 200 / 1100
    assert int(row.sellers) == 3 and row.share == pytest.approx(200 / 1100)
    assert row.lower <= row.share <= row.upper


def test_bootstrap_is_seeded_and_narrows_with_more_firms():
    small, big = _sellers(40, seed=1), _sellers(4000, seed=1)
    a = M.shares(small, ["territory", "section"], replicates=300, seed=7).table.iloc[0]
    b = M.shares(small, ["territory", "section"], replicates=300, seed=7).table.iloc[0]
    c = M.shares(small, ["territory", "section"], replicates=300, seed=8).table.iloc[0]
    assert (a.lower, a.upper) == (b.lower, b.upper)          # the same seed: the same interval
    assert (a.lower, a.upper) != (c.lower, c.upper)
    assert a.lower <= a.share <= a.upper
    w = M.shares(big, ["territory", "section"], replicates=300, seed=7).table.iloc[0]
    assert w.lower <= w.share <= w.upper
    assert (w.upper - w.lower) < (a.upper - a.lower) / 4     # 100 × the firms: about a tenth of the width


def test_factor_is_share_over_pooled_share_and_small_cells_fall_back():
    # province A: 40 sellers, online 30 of 100 each; B: 40 sellers, 10 of 100; C: 5 sellers, 50 of 100
    rows = [("A", 100, 30)] * 40 + [("B", 100, 10)] * 40 + [("C", 100, 50)] * 5
    s = pd.DataFrame({"territory": [r[0] for r in rows], "section": "G", "seller": [f"x{i}" for i in range(len(rows))],
                      "total_vnd": [r[1] for r in rows], "online_vnd": [r[2] for r in rows]})
    f = M.section_factors(M.shares(s, ["territory", "section"], replicates=200, seed=0), min_firms=30).set_index(
        "territory")
    pooled = (40 * 30 + 40 * 10 + 5 * 50) / (85 * 100)           # 1 850 / 8 500
    assert f.loc["A", "pooled"] == pytest.approx(pooled)
    assert f.loc["A", "factor"] == pytest.approx(0.30 / pooled)  # m = I / R (elasticity 1)
    assert f.loc["B", "factor"] == pytest.approx(0.10 / pooled)
    assert bool(f.loc["A", "enough"]) and not bool(f.loc["C", "enough"]) and np.isnan(f.loc["C", "factor"])
    # every seller of A has the same share: each replicate's share is 0.3, its factor 0.3 / the pooled replicate
    assert f.loc["A", "factor_lower"] <= f.loc["A", "factor"] <= f.loc["A", "factor_upper"]


def test_allocation_ratio_by_hand_from_the_sellers_activity_codes():
    s = pd.DataFrame({"territory": "34:31", "seller": ["a", "b", "c", "d", "e"],
                      "vsic": ["4651", "4652", "4659", "4610", "4651"], "total_vnd": [10, 20, 30, 40, 0]})
    chains = {c: PE.store_keys(c) for c in s["vsic"]}
    children = {"4651": "46", "4652": "46", "465": "46", "46": "G"}
    r = M.allocation_ratios(s, chains, children, min_firms=5, replicates=200, seed=1).set_index("child")
    assert r.loc["4651", "ratio"] == pytest.approx(10 / 100) and r.loc["4652", "ratio"] == pytest.approx(0.2)
    assert r.loc["465", "ratio"] == pytest.approx(60 / 100) and r.loc["46", "ratio"] == pytest.approx(1.0)
    assert int(r.loc["4651", "sellers"]) == 5 and int(r.loc["4651", "child_sellers"]) == 2
    assert bool(r.loc["4651", "enough"])
    reps = np.vstack([r.loc[k, "replicates"] for k in ("4651", "4652")])
    assert (np.nansum(reps, axis=0) <= 1 + 1e-12).all()  # one resample per parent: siblings never exceed it
    few = M.allocation_ratios(s, chains, children, min_firms=6, replicates=50, seed=1)
    assert not few["enough"].any()


# ----------------------------------------------------------------------------------- the workspace

_PROVINCES = {"34:31": 80, "34:79": 60}   # sellers per province (a quarter of each class); 34:01 gets 4 (too few)


def _records() -> pd.DataFrame:
    """A tiny set of kept records: one month, a few classes, by hand."""
    rng = np.random.default_rng(5)
    rows = []
    for terr, n in {**_PROVINCES, "34:01": 4}.items():
        for i in range(n):
            vsic = ("4651", "4659", "4711", "4791")[i % 4]
            for j in range(3):
                amount = int(rng.integers(1, 50)) * 1_000_000
                rows.append({"territory": terr, "vsic": vsic, "period": "2025-03", "seller": f"{terr}-{i:03d}",
                             "channel": "online" if (i + j) % (3 if terr == "34:31" else 2) == 0 else "offline",
                             "buyer_type": "B2B", "amount": amount})
    return pd.DataFrame(rows)


def _frames(rec: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    by = rec.groupby(["territory", "vsic", "period", "channel", "buyer_type", "seller"], as_index=False).agg(
        v=("amount", "sum"), n=("amount", "size"))
    cells = by.groupby(["territory", "vsic", "period", "channel", "buyer_type"], as_index=False).agg(
        value_vnd=("v", "sum"), invoices=("n", "sum"), sellers=("seller", "nunique"), top1_vnd=("v", "max"))
    r = rec.assign(year=rec["period"].str[:4], online=rec["amount"].where(rec["channel"] == "online", 0))
    sellers = r.groupby(["territory", "vsic", "year", "seller"], as_index=False).agg(
        total_vnd=("amount", "sum"), online_vnd=("online", "sum"), invoices=("amount", "size"))
    return cells, sellers


def _national(ws: Workspace, coef: dict[str, float], own: dict[str, float] | None = None) -> None:
    rows = [{"indicator": "DIGITAL_COEF", "territory": "VN", "basis": "", "sector": k, "period": "2025", "value": v,
             "unit": "RATIO"} for k, v in coef.items()]
    rows += [{"indicator": "GRDP_VA", "territory": t, "basis": "34" if t != "VN" else "", "sector": k, "period": "2025",
              "value": v, "unit": "VND_BN"} for t in ("VN", "34:31", "34:79", "34:01")
             for k, v in {"46": 100.0, "47": 200.0, "10": 700.0}.items()]
    rows += [{"indicator": "GRDP", "territory": t, "basis": "34" if t != "VN" else "", "sector": "_T", "period": "2025",
              "value": 1100.0, "unit": "VND_BN"} for t in ("VN", "34:31", "34:79", "34:01")]
    rows += [{"indicator": "DIGITAL_COEF", "territory": "34:79", "basis": "34", "sector": k, "period": "2025",
              "value": v, "unit": "RATIO"} for k, v in (own or {}).items()]
    path = ws.root / "inputs.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    from kinhteso.ingest.load import ingest_file

    ingest_file(ws.store, path, source="cuc-thong-ke", indicators=ws.indicators(), workdir=ws.tmp)


@pytest.fixture()
def ws(tmp_path) -> Workspace:
    w = Workspace.init(tmp_path / "ws", name="t")
    _national(w, {"C": 0.05, "G": 0.2}, own={"G": 0.5})
    yield w
    w.close()


def test_store_values_equal_the_records_and_twice_adds_nothing(ws):
    rec = _records()
    cells, sellers = _frames(rec)
    out = PE.store_aggregates(ws, cells=cells, sellers=sellers, source="test", illustrative=True, engine="duckdb",
                              replicates=100)
    obs = ws.store.observations(indicator=["EINVOICE_REVENUE", "ONLINE_REVENUE"], source="einvoice:test")
    hp = rec[rec.territory == "34:31"]
    v = {(r.indicator, r.sector): r.value for r in obs[obs.territory == "34:31"].itertuples()}
    # by hand from the records: the class, its group, its division, its section; billion đồng
    assert v[("EINVOICE_REVENUE", "4651")] == pytest.approx(hp[hp.vsic == "4651"].amount.sum() / 1e9)
    assert v[("EINVOICE_REVENUE", "465")] == pytest.approx(hp[hp.vsic.isin(["4651", "4659"])].amount.sum() / 1e9)
    assert v[("EINVOICE_REVENUE", "46")] == pytest.approx(hp[hp.vsic.str[:2] == "46"].amount.sum() / 1e9)
    assert v[("EINVOICE_REVENUE", "G")] == pytest.approx(hp.amount.sum() / 1e9)
    assert v[("ONLINE_REVENUE", "4791")] == pytest.approx(
        hp[(hp.vsic == "4791") & (hp.channel == "online")].amount.sum() / 1e9)
    assert ("EINVOICE_REVENUE", "4659") not in v   # not a class of vsic2018.csv: counted in 465, 46 and G only
    assert set(obs.period) == {"2025-03"} and out["vintage_id"] is not None
    vint = ws.store.vintage(out["vintage_id"])
    assert vint["source"] == "einvoice:test" and vint["illustrative"]
    n_vint, n_runs = len(ws.store.vintages()), len(ws.store.result_runs())
    again = PE.store_aggregates(ws, cells=cells, sellers=sellers, source="test", illustrative=True, engine="duckdb",
                                replicates=100)
    assert again["vintage_id"] is None and again["rows"] == 0 and sorted(again["run_ids"]) == sorted(out["run_ids"])
    assert (len(ws.store.vintages()), len(ws.store.result_runs())) == (n_vint, n_runs)
    # a new month: a vintage of that month only
    april = rec.assign(period="2025-04")
    c2, s2 = _frames(pd.concat([rec, april]))
    more = PE.store_aggregates(ws, cells=c2, sellers=s2, source="test", illustrative=True, engine="duckdb",
                               replicates=100)
    new = ws.store.observations(indicator="EINVOICE_REVENUE", source="einvoice:test")
    assert more["vintage_id"] not in (None, out["vintage_id"])
    assert set(new.loc[new.vintage_id == more["vintage_id"], "period"]) == {"2025-04"}


def test_refused_whole_before_anything_is_stored(ws):
    cells, sellers = _frames(_records())
    before = len(ws.store.vintages())
    with pytest.raises(KinhtesoError) as e:
        PE.store_aggregates(ws, cells=cells, sellers=sellers.assign(total_vnd=sellers.total_vnd + 1), source="test",
                            illustrative=True, engine="duckdb")
    assert e.value.code == "EINVOICE_BAD_AGGREGATES" and "differ" in e.value.en and e.value.vi
    with pytest.raises(UsageError) as e:
        PE.store_aggregates(ws, cells=cells, sellers=sellers, source="cuc-thong-ke", illustrative=False,
                            engine="duckdb")
    assert e.value.code == "EINVOICE_SOURCE_KIND"
    assert len(ws.store.vintages()) == before


def test_measure_uses_the_estimate_with_interval_and_warns_on_fallback(ws):
    cells, sellers = _frames(_records())
    out = PE.store_aggregates(ws, cells=cells, sellers=sellers, source="test", illustrative=True, engine="duckdb",
                              replicates=200, min_firms=30)
    # 34:01's four sellers are of 4651, 4659, 4711, 4791: 4651 is core, three remain in section G's share
    assert {"territory": "34:01", "year": "2025", "section": "G", "sellers": 3, "reason": "sellers"} in out["fallbacks"]
    hp = sellers[sellers.territory == "34:31"]
    g = sellers[~sellers.vsic.str.startswith(("4651", "4652"))]          # the core classes are left out
    share = (lambda f: f.online_vnd.sum() / f.total_vnd.sum())(g[g.territory == "34:31"])
    pooled = g.online_vnd.sum() / g.total_vnd.sum()
    r = measure(ws, MeasureRequest("2025", ("34:31",))).results[0]
    codes = {w["code"]: w for w in r.warnings}
    assert "EINVOICE_COEF" in codes and "G" in codes["EINVOICE_COEF"]["en"]
    pieces = r.result.pieces.set_index("code")
    assert pieces.loc["47", "coef"] == pytest.approx(0.2 * share / pooled)   # national × share / pooled
    assert r.provenance["coefficient_sources"]["47"] == "einvoice:G"
    lo, hi = r.interval["de_share"]
    assert lo <= r.result.de_share <= hi and hi > lo and r.interval["replicates"] == 200
    data = r.as_json()
    assert data["de_share_interval"] == [lo, hi] and "bootstrap" in data["interval"]["method"]
    # 4651 within 46 from the sellers' own codes (the national ratio is absent): core VA = 100 × ratio
    ratio = hp[hp.vsic == "4651"].total_vnd.sum() / hp[hp.vsic.str[:2] == "46"].total_vnd.sum()
    alloc = {a["sector"]: a for a in r.result.allocations}
    assert alloc["4651"]["ratio"] == pytest.approx(ratio) and alloc["4651"]["source"] == "einvoice"
    # a province under the minimum: the national coefficient, with the warning naming the section and count
    r01 = measure(ws, MeasureRequest("2025", ("34:01",))).results[0]
    fb = next(w for w in r01.warnings if w["code"] == "EINVOICE_FALLBACK")
    assert "G (3 sellers < 30)" in fb["en"] and "G (3 người bán < 30)" in fb["vi"]
    assert r01.result.pieces.set_index("code").loc["47", "coef"] == pytest.approx(0.2)
    # a submitted own coefficient is never overridden (34:79 submitted G = 0.5)
    r79 = measure(ws, MeasureRequest("2025", ("34:79",))).results[0]
    assert r79.result.pieces.set_index("code").loc["47", "coef"] == pytest.approx(0.5)
    assert not any(w["code"] == "EINVOICE_COEF" for w in r79.warnings)


def test_cli_json_shows_the_interval_and_save_stores_its_bounds(ws):
    cells, sellers = _frames(_records())
    PE.store_aggregates(ws, cells=cells, sellers=sellers, source="test", illustrative=True, engine="duckdb",
                        replicates=100)
    root = str(ws.root)
    ws.close()
    r = CliRunner().invoke(main, ["measure", "--territory", "34:31", "--period", "2025", "--format", "json",
                                  "--save", "--workspace", root])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    lo, hi = data["de_share_interval"]
    assert lo <= data["de_share"] <= hi and data["interval"]["level"] == 0.9
    t = CliRunner().invoke(main, ["--lang", "en", "measure", "--territory", "34:31", "--period", "2025",
                                  "--workspace", root])
    assert t.exit_code == 0 and "90% interval" in t.output and "e-invoice bootstrap over firms" in t.output
    with Workspace.open(Path(root)) as w:
        res = w.store.results(kind="accounts", territory="34:31", period="2025")
        got = dict(zip(res.indicator, res.value))
    assert got["DE_SHARE_LOWER"] == pytest.approx(lo) and got["DE_SHARE_UPPER"] == pytest.approx(hi)


def test_aggregate_with_workspace_stores_the_submission_end_to_end(ws, tmp_path):
    """``kinhteso microdata aggregate --workspace --source``: the cells stored as one submission whose
    values are the kept records' sums; a source that cannot be stored is refused before any work."""
    import duckdb

    root = str(ws.root)
    ws.close()
    inv = tmp_path / "inv"
    r = CliRunner().invoke(main, ["microdata", "generate", "--records", "30000", "--seed", "2", "--out", str(inv)])
    assert r.exit_code == 0, r.output
    bad = CliRunner().invoke(main, ["--lang", "en", "microdata", "aggregate", "--input", str(inv), "--out",
                                    str(tmp_path / "bad.csv"), "--workspace", root, "--source", "a b"])
    assert bad.exit_code != 0 and "EINVOICE_SOURCE_KIND" in bad.output
    assert not (tmp_path / "bad.csv").exists()
    r = CliRunner().invoke(main, ["--lang", "en", "microdata", "aggregate", "--input", str(inv), "--out",
                                  str(tmp_path / "cells.csv"), "--workspace", root, "--source", "minh-hoa-hd"])
    assert r.exit_code == 0, r.output
    assert "einvoice:minh-hoa-hd" in r.output
    q = tmp_path / "cells.quarantine.parquet"
    con = duckdb.connect()
    # the kept records of HCMC by month, from the files and the quarantine (kept = read − set aside, by id and row)
    kept = con.execute(f"""
        WITH r AS (SELECT *, filename AS f, file_row_number AS n FROM read_parquet('{inv}/**/*.parquet',
                   hive_partitioning = true, filename = true, file_row_number = true))
        SELECT strftime(issued_at AT TIME ZONE 'Asia/Ho_Chi_Minh', '%Y-%m') AS period, sum(amount_vnd) / 1e9 AS v
        FROM r ANTI JOIN (SELECT source_file, source_row FROM read_parquet('{q}')) s
             ON r.f LIKE '%' || s.source_file AND r.n = s.source_row
        WHERE trim(seller_territory) = '34:79' GROUP BY 1 ORDER BY 1""").df().set_index("period")["v"]
    with Workspace.open(Path(root)) as w:
        obs = w.store.observations(indicator="EINVOICE_REVENUE", territory="34:79")
        assert set(obs["source"]) == {"einvoice:minh-hoa-hd"} and obs["vintage_id"].nunique() == 1
        sections = obs[obs["sector"].str.fullmatch("[A-U]")].groupby("period")["value"].sum()
    assert len(kept) >= 12 and sections.round(6).to_dict() == pytest.approx(kept.round(6).to_dict(), rel=1e-9)
