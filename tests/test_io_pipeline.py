"""The IO estimator of DIGITAL_COEF: hand-computed intensities, the store, refusals, the demo, the CLI."""

from __future__ import annotations

import json

import hashlib

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kinhteso.cli import main
from kinhteso.demo import io as demo_io
from kinhteso.demo.summaries import io_summary
from kinhteso.errors import InputRejected, UsageError
from kinhteso.i18n import use_lang
from kinhteso.ingest.iotables import read_concordance, read_four_files
from kinhteso.methods.io import adb_value_flow
from kinhteso.pipeline.io_estimates import (
    AGGREGATION_RULE,
    IO_SOURCE,
    aggregate_to_vsic,
    estimate_digital_coef,
    write_digital_coef,
)
from kinhteso.workspace import Workspace

# Three industries: ict (digital), m1, m2. Rows sell, columns buy.
CODES = ["ict", "m1", "m2"]
Z3 = np.array([[4.0, 6.0, 2.0], [10.0, 20.0, 8.0], [6.0, 4.0, 10.0]])
X3 = [40.0, 60.0, 50.0]
# IC (column sums): ict 20, m1 30, m2 20; digital inputs (row ict): 4, 6, 2.
# intensity: ict 4/20 = 0.2, m1 6/30 = 0.2, m2 2/20 = 0.1.
# Concordance: ict → 61; m1 → C; m2 → C and 46.
#   61: 0.2; 46: m2's own 0.1 (one industry → several codes);
#   C: IC-weighted mean (6 + 2) / (30 + 20) = 0.16 (the simple mean would be 0.15).
EXPECTED = {"61": 0.2, "C": 0.16, "46": 0.1}
CONCORDANCE = "code,vsic\nict,61\nm1,C\nm2,C\nm2,46\n"


def _write_table(tmp_path, concordance: str = CONCORDANCE):
    z = pd.DataFrame(Z3, columns=CODES)
    z.insert(0, "code", CODES)
    z.to_csv(tmp_path / "Z.csv", index=False)
    pd.DataFrame({"code": CODES, "value": X3}).to_csv(tmp_path / "x.csv", index=False)
    (tmp_path / "conc.csv").write_text(concordance, encoding="utf-8")
    return tmp_path / "Z.csv", tmp_path / "x.csv", tmp_path / "conc.csv"


@pytest.fixture
def ws(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    yield w
    w.close()


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- hand-computed


def test_intensities_by_hand_and_the_aggregation_rule(tmp_path):
    z, x, c = _write_table(tmp_path)
    table = read_four_files(z, x)
    est = estimate_digital_coef(table, digital=["ict"], territory="VN", period="2022",
                                concordance=read_concordance(c, codes=table.codes), concordance_file=c)
    by_ind = est.by_industry.drop_duplicates("code").set_index("code")["intensity"]
    np.testing.assert_allclose(by_ind[CODES].to_numpy(), [0.2, 0.2, 0.1], rtol=1e-15)
    got = dict(zip(est.by_vsic.vsic, est.by_vsic.value))
    assert got.keys() == EXPECTED.keys()
    for k, v in EXPECTED.items():
        assert got[k] == pytest.approx(v, rel=1e-15)
    assert est.by_vsic.set_index("vsic").loc["C", "industries"] == "m1,m2"


def test_aggregate_is_a_ratio_of_sums_not_a_mean_of_ratios():
    f = pd.DataFrame({"code": ["a", "b"], "vsic": ["J", "J"], "digital_inputs": [1.0, 9.0],
                      "intermediate_consumption": [10.0, 30.0]})
    assert aggregate_to_vsic(f).value.tolist() == [pytest.approx(10 / 40)]


# --------------------------------------------------------------------------- the store


def test_coefficients_read_back_from_the_store_with_their_provenance(tmp_path, ws):
    z, x, c = _write_table(tmp_path)
    table = read_four_files(z, x)
    est = estimate_digital_coef(table, digital=["ict"], territory="34:31", period="2025-Q4",
                                concordance=read_concordance(c, codes=table.codes), table_file=z, concordance_file=c)
    rid, n, superseded = write_digital_coef(ws, est)
    assert n == 3 and superseded == []
    assert ws.store.observations(indicator="DIGITAL_COEF").empty  # a result, never a submission
    obs = ws.store.results(indicator="DIGITAL_COEF", kind="coef", sector=None)
    assert set(obs.status) == {"E"} and set(obs.unit) == {"RATIO"} and set(obs.territory) == {"34:31"}
    assert set(obs.period) == {"2025-Q4"} and set(obs.method) == {"io"} and set(obs.run_id) == {rid}
    assert not obs.illustrative.any()
    got = dict(zip(obs.sector, obs.value))
    assert got == pytest.approx(EXPECTED, rel=1e-15)
    run = ws.store.result_runs(kind="coef").set_index("run_id").loc[rid]
    params, inputs = json.loads(run.parameters), json.loads(run.inputs)
    note = params["note"]
    assert inputs == {"files": [_sha(z)]} and params["file_name"] == "Z.csv"
    assert f"sha256={_sha(z)}" in note and "digital=ict" in note and "intensity_j" in note
    assert AGGREGATION_RULE in note and f"concordance=conc.csv sha256={_sha(c)}" in note
    assert write_digital_coef(ws, est)[0] == rid and len(ws.store.result_runs(kind="coef")) == 1  # stored once


def test_a_34_basis_estimate_before_the_merger_is_flagged_backcast(tmp_path, ws):
    z, x, c = _write_table(tmp_path)
    table = read_four_files(z, x)
    est = estimate_digital_coef(table, digital=["ict"], territory="34:31", period="2022-Q1",
                                concordance=read_concordance(c), table_file=z)
    assert est.observations.backcast.all() and est.period == "2022-Q1"


def test_superseded_sectors_are_reported_and_kept_as_of_before(tmp_path, ws):
    z, x, c = _write_table(tmp_path)
    prior = pd.DataFrame({"indicator": "DIGITAL_COEF", "territory": "VN", "sector": ["C", "A"], "period": "2022",
                          "value": [0.05, 0.01], "unit": "RATIO", "price_basis": "current", "status": "E",
                          "backcast": False})
    from kinhteso.store import VintageInfo  # noqa: PLC0415

    ws.store.add_frame(VintageInfo("cuc-thong-ke", "coef.csv", "0" * 64), prior)
    table = read_four_files(z, x)
    est = estimate_digital_coef(table, digital=["ict"], territory="VN", period="2022",
                                concordance=read_concordance(c), table_file=z)
    _, _, superseded = write_digital_coef(ws, est)
    assert superseded == ["C"]
    obs = ws.store.observations(indicator="DIGITAL_COEF").set_index("sector")
    assert set(obs.source) == {"cuc-thong-ke"}  # the submission is kept as it was
    from kinhteso.pipeline.accounts import read_inputs  # noqa: PLC0415

    used = read_inputs(ws, ["2022"]).query("indicator == 'DIGITAL_COEF'").sort_values("received_at").groupby("sector").last()
    assert used.loc["C", "source"] == IO_SOURCE and used.loc["A", "source"] == "cuc-thong-ke"


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("conc", "code", "row"),
    [
        ("code,vsic\nict,6299\nm1,C\n", "IO_VSIC_UNKNOWN", 2),   # a class not in the shipped VSIC list
        ("code,vsic\nict,465\nm1,C\n", "IO_VSIC_LEVEL", 2),      # a group: not a section or division
        ("code,vsic\nict,61\nzz,C\n", "IO_CODE_MISMATCH", 3),    # a product not in the table
    ],
)
def test_bad_concordance_is_refused_whole_and_nothing_is_written(tmp_path, ws, conc, code, row):
    z, x, c = _write_table(tmp_path, conc)
    table = read_four_files(z, x)
    frame = pd.read_csv(c, dtype=str)
    with pytest.raises(InputRejected) as err:
        estimate_digital_coef(table, digital=["ict"], territory="VN", period="2022", concordance=frame,
                              table_file=z, concordance_file=c)
    assert code in [p.code for p in err.value.problems]
    p = next(p for p in err.value.problems if p.code == code)
    assert p.vi and p.en and p.vi != p.en and p.row == row
    assert ws.store.observation_count() == 0


def test_table_codes_that_are_not_vsic_need_a_concordance(tmp_path):
    z, x, _ = _write_table(tmp_path)
    with pytest.raises(InputRejected) as err:
        estimate_digital_coef(read_four_files(z, x), digital=["ict"], territory="VN", period="2022")
    assert {p.code for p in err.value.problems} == {"IO_VSIC_UNKNOWN"} and len(err.value.problems) == 3
    assert "--concordance" in err.value.problems[0].en


def test_table_codes_that_are_vsic_codes_need_no_concordance(tmp_path):
    codes = ["61", "C", "46"]
    z = pd.DataFrame(Z3, columns=codes)
    z.insert(0, "code", codes)
    z.to_csv(tmp_path / "Z.csv", index=False)
    pd.DataFrame({"code": codes, "value": X3}).to_csv(tmp_path / "x.csv", index=False)
    est = estimate_digital_coef(read_four_files(tmp_path / "Z.csv", tmp_path / "x.csv"), digital=["61"],
                                territory="VN", period="2022")
    assert dict(zip(est.by_vsic.vsic, est.by_vsic.value)) == pytest.approx({"61": 0.2, "C": 0.2, "46": 0.1})
    assert "identity" in est.info.note


@pytest.mark.parametrize(
    ("territory", "period", "code"),
    [("XX", "2022", "IO_TERRITORY"), ("VN", "2022-13", "IO_PERIOD"), ("VN", "2022-03", "IO_PERIOD"),
     ("63:31", "2025-Q4", "IO_TERRITORY_PERIOD")],
)
def test_bad_territory_or_period_is_a_usage_error(tmp_path, territory, period, code):
    z, x, c = _write_table(tmp_path)
    with pytest.raises(UsageError) as err:
        estimate_digital_coef(read_four_files(z, x), digital=["ict"], territory=territory, period=period,
                              concordance=read_concordance(c))
    assert err.value.code == code


# --------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def demo_va():
    return dict(demo_io._generated_value_added())


def test_demo_table_is_consistent_and_deterministic(demo_va):
    a = demo_io.demo_io_table(demo_va)
    t = a.table
    assert len(t.codes) == 20 and set(a.digital) <= set(t.codes)
    # column identity: domestic inputs + imports + value added = output (files hold 0.001 bn)
    np.testing.assert_allclose(t.Z.sum(axis=0) + t.factors["imports"] + t.factors["gva"], t.x, atol=2e-3)
    assert (t.y >= 0.1 * t.x - 1e-3).all() and (t.factors["imports"] >= 0).all() and (t.Z >= 0).all()
    # value added by industry = the demo's 2022 value added summed over the industry's divisions
    for k, c in enumerate(t.codes):
        assert t.factors["gva"][k] == pytest.approx(sum(demo_va[d] for d in demo_io.industry_divisions(c)), abs=1e-3)
    divs = [d for c in t.codes for d in demo_io.industry_divisions(c)]
    assert len(divs) == len(set(divs)) == 87  # every division but U's 99, once
    assert sum(t.factors["gva"]) == pytest.approx(sum(v for d, v in demo_va.items() if d != "99"), rel=1e-9)
    assert demo_io.demo_io_table(demo_va).files() == a.files()
    assert "ILLUSTRATIVE" in a.files()["README.md"] and "MINH HỌA" in a.files()["README.md"]
    # the concordance: digital industries → divisions, the others → sections (C from three industries)
    conc = a.concordance
    assert sorted(conc.vsic[conc.code.isin(a.digital)]) == ["26", "61", "62", "63"]
    assert sorted(conc.code[conc.vsic == "C"]) == ["C-other", "C10-12", "C13-15"]
    assert conc.vsic.nunique() == 24 and set(conc.vsic) >= set("ABCDEFGHIJKLMNOPQRST")


def test_demo_summary_prints_adb_terms_and_writes_illustrative_coefficients(tmp_path, demo_va):
    from kinhteso.store import VintageInfo  # noqa: PLC0415

    w = Workspace.init(tmp_path / "demo")
    try:
        va = pd.DataFrame({"indicator": "GRDP_VA", "territory": "VN", "sector": list(demo_va), "period": "2022",
                           "value": list(demo_va.values()), "unit": "VND_BN", "price_basis": "current",
                           "status": "A", "backcast": False})
        w.store.add_frame(VintageInfo("demo", "va.csv", "1" * 64, illustrative=True), va)
        conf = pd.DataFrame({"indicator": "DIGITAL_COEF", "territory": "VN", "sector": ["C", "K"], "period": "2022",
                             "value": [0.046, 0.19], "unit": "RATIO", "price_basis": "current", "status": "E",
                             "backcast": False})
        w.store.add_frame(VintageInfo("demo", "coef.csv", "2" * 64, illustrative=True), conf)
        lines: list[str] = []
        with use_lang("en"):
            io_summary(w, lines.append)
        text = "\n".join(lines)
        assert "ILLUSTRATIVE" in text
        for term in ("backward linkage", "forward linkage", "double counting", "investment link", "total"):
            assert term in text
        assert sum(line.startswith("    ") for line in lines) == 5 + 20 + 1  # terms, industries, C's mean
        io_dir = w.root / "demo_inputs" / "io"
        assert "ILLUSTRATIVE" in (io_dir / "README.md").read_text(encoding="utf-8")
        # the printed total is the ADB estimate of the files written
        t = read_four_files(io_dir / "Z.csv", io_dir / "x.csv", y=io_dir / "y.csv", factors={"gva": io_dir / "gva.csv"})
        est = adb_value_flow(t.Z, t.x, t.factors["gva"], codes=t.codes, digital=demo_io.DEMO_DIGITAL, y=t.y)
        digital_va = sum(t.factors["gva"][t.codes.index(c)] for c in demo_io.DEMO_DIGITAL)
        assert est.terms.set_index("term").loc["forward_linkage", "value"] == pytest.approx(digital_va, rel=1e-9)
        assert f"{100 * est.share:,.2f} %" in text
        io_obs = w.store.results(indicator="DIGITAL_COEF", kind="coef", method="io", sector=None)
        assert len(io_obs) == 24 and io_obs.illustrative.all() and set(io_obs.status) == {"E"}
        z = t.Z
        dig = [t.codes.index(c) for c in demo_io.DEMO_DIGITAL]
        cols = [t.codes.index(c) for c in ("C10-12", "C13-15", "C-other")]
        got = io_obs.set_index("sector").value
        assert got["26"] == pytest.approx(z[dig, t.codes.index("C26")].sum() / z[:, t.codes.index("C26")].sum())
        assert got["C"] == pytest.approx(z[np.ix_(dig, cols)].sum() / z[:, cols].sum(), rel=1e-12)
        assert got["M"] == got["N"]
        # the configured section coefficients are superseded (said so), and kept as submitted
        obs = w.store.observations(indicator="DIGITAL_COEF")
        assert set(obs.source) == {"demo"} and "latest values" in text and "C, K" in text
        note = json.loads(w.store.result_runs(kind="coef").parameters.iloc[0])["note"]
        assert f"sha256={_sha(io_dir / 'Z.csv')}" in note and "digital=C26,J61,J62-63" in note
    finally:
        w.close()


# --------------------------------------------------------------------------- CLI


def run(*args):
    return CliRunner().invoke(main, ["--lang", "en", "io", *map(str, args)])


def test_cli_writes_coefficients_into_the_workspace(tmp_path, ws):
    z, x, c = _write_table(tmp_path)
    r = run("--Z", z, "--x", x, "--digital", "ict", "--concordance", c, "--write-coef", "--workspace", ws.root,
            "--territory", "VN", "--period", "2022")
    assert r.exit_code == 0, r.output
    assert "Stored 3 DIGITAL_COEF values" in r.output and "0.1600  ← m1,m2" in r.output
    obs = ws.store.results(indicator="DIGITAL_COEF", kind="coef", sector=None)
    assert dict(zip(obs.sector, obs.value)) == pytest.approx(EXPECTED) and set(obs.method) == {"io"}
    assert not (tmp_path / "out").exists()


def test_cli_write_coef_with_out_writes_both(tmp_path, ws):
    z, x, c = _write_table(tmp_path)
    pd.DataFrame({"code": CODES, "value": [16.0, 30.0, 30.0]}).to_csv(tmp_path / "gva.csv", index=False)
    r = run("--Z", z, "--x", x, "--concordance", c, "--write-coef", "--workspace", ws.root, "--territory", "34:01",
            "--period", "2025-Q3", "--digital", "ict", "--factor", f"gva={tmp_path / 'gva.csv'}",
            "--out", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "L.csv").exists() and len(ws.store.results(kind="coef", sector=None)) == 3


def test_cli_refusals_write_nothing(tmp_path, ws):
    z, x, c = _write_table(tmp_path, "code,vsic\nict,6299\nm1,C\n")
    base = ["--Z", z, "--x", x, "--digital", "ict", "--write-coef", "--workspace", ws.root]
    r = run(*base, "--concordance", c, "--territory", "VN", "--period", "2022")
    assert r.exit_code == 1 and "IO_VSIC_UNKNOWN" in r.output and "6299" in r.output
    r = run(*base, "--period", "2022")
    assert r.exit_code == 2 and "IO_COEF_OPTIONS" in r.output and "--territory" in r.output
    r = run("--Z", z, "--x", x, "--write-coef", "--workspace", ws.root, "--territory", "VN", "--period", "2022")
    assert r.exit_code == 2 and "--digital" in r.output
    r = run(*base, "--territory", "VN", "--period", "2022-07")
    assert r.exit_code == 2 and "IO_PERIOD" in r.output
    r = run("--Z", z, "--x", x)
    assert r.exit_code == 2 and "IO_NO_TARGET" in r.output
    r = run(*base[:-1], tmp_path / "nowhere", "--territory", "VN", "--period", "2022")
    assert r.exit_code == 1 and "NO_WORKSPACE" in r.output
    assert ws.store.observation_count() == 0
