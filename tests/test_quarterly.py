"""Quarterly DE figures: quarters sum to the annual accounts, later quarters are estimates that
are benchmarked as a new vintage when the annual figure arrives, revisions are shown."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import write_long_csv
from kinhteso.cli import main
from kinhteso.errors import MethodError
from kinhteso.ingest.load import ingest_file
from kinhteso.pipeline import quarterly as Q
from kinhteso.workspace import Workspace

HEADER = ["indicator", "territory", "basis", "sector", "period", "value", "unit"]


def _write(path, rows):
    return write_long_csv(path, rows, HEADER)


def _rows(years, last_q):
    """VN: software (62, core) and food (10, digitalised 10%), quarterly with a season; the
    annual figures are the quarterly sums times a small statistical adjustment."""
    rng = np.random.default_rng(7)
    rows, annual = [], {}
    for y in range(2018, 2025):
        for q in range(1, 5):
            per = f"{y}-Q{q}"
            if per > last_q:
                break
            s62 = 10 * 1.1 ** (y - 2018) * (1 + 0.05 * q) * (1 + 0.01 * rng.standard_normal())
            s10 = 90 * 1.05 ** (y - 2018) * (1 + 0.02 * q)
            rows += [["GRDP_VA", "VN", "", "62", per, f"{s62:.6f}", "VND_BN"],
                     ["GRDP_VA", "VN", "", "10", per, f"{s10:.6f}", "VND_BN"],
                     ["GRDP", "VN", "", "_T", per, f"{(s62 + s10) * 1.1:.6f}", "VND_BN"]]
            a = annual.setdefault(y, [0.0, 0.0])
            a[0] += s62
            a[1] += s10
    for y in years:
        s62, s10 = annual[y][0] * 1.02, annual[y][1] * 0.99  # annual accounts differ a little
        rows += [["GRDP_VA", "VN", "", "62", str(y), f"{s62:.6f}", "VND_BN"],
                 ["GRDP_VA", "VN", "", "10", str(y), f"{s10:.6f}", "VND_BN"],
                 ["GRDP", "VN", "", "_T", str(y), f"{(s62 + s10) * 1.1:.6f}", "VND_BN"],
                 ["DIGITAL_COEF", "VN", "", "C", str(y), "0.1", "RATIO"]]
    return rows


@pytest.fixture
def ws(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    ingest_file(w.store, _write(tmp_path / "a.csv", _rows(range(2018, 2023), "2024-Q2")), source="cuc-thong-ke",
                indicators=w.indicators(), workdir=w.tmp, received_at=dt.datetime(2024, 8, 1))
    yield w
    w.close()


def test_quarters_sum_exactly_to_the_annual_accounts_and_later_ones_are_estimates(ws):
    r = Q.quarterly_de(ws, "VN")
    f = r.frame.assign(year=r.frame.period.str[:4].astype(int))
    got = f.groupby("year").de_va.sum()
    ann = r.annual.set_index("year").de_va
    np.testing.assert_allclose(got.reindex(ann.index), ann, rtol=1e-10)
    np.testing.assert_allclose(f.groupby("year").grdp.sum().reindex(ann.index), r.annual.set_index("year").grdp, rtol=1e-10)
    assert f[f.year <= 2022].benchmarked.all() and not f[f.year > 2022].benchmarked.any()
    assert (f.status == "E").all()  # kinhteso's figures are never status A
    assert f.period.iloc[-1] == "2024-Q2"
    # the share is recomputed from the quarterly parts, within 0–100
    assert np.allclose(f.de_share, f.de_va / f.grdp * 100) and f.de_share.between(0, 100).all()
    assert ws.store.observations(indicator="DE_SHARE", territory="VN").empty  # never a submission
    stored = ws.store.results(indicator="DE_SHARE", territory="VN", kind="quarterly")
    assert len(stored) == len(f) and set(stored.run_id) == {r.run_id} and set(stored.status) == {"E"}
    assert set(stored[stored.period.str[:4].astype(int) <= 2022].basis) == {"benchmarked"}
    assert set(stored[stored.period.str[:4].astype(int) > 2022].basis) == {"estimated"}


def test_rerun_on_unchanged_inputs_adds_no_run(ws):
    a = Q.quarterly_de(ws, "VN")
    b = Q.quarterly_de(ws, "VN")
    assert a.run_id == b.run_id and len(ws.store.result_runs(kind="quarterly")) == 1


def test_annual_figure_arrival_benchmarks_estimates_as_a_new_run(ws, tmp_path):
    first = Q.quarterly_de(ws, "VN")
    later = [r for r in _rows(range(2018, 2024), "2024-Q2") if r[4] == "2023"]
    ingest_file(ws.store, _write(tmp_path / "b.csv", later), source="cuc-thong-ke", indicators=ws.indicators(),
                workdir=ws.tmp, received_at=dt.datetime(2024, 12, 1))
    second = Q.quarterly_de(ws, "VN")
    assert second.run_id != first.run_id
    q23 = second.frame[second.frame.period.str.startswith("2023")]
    assert q23.benchmarked.all() and second.basis("2023-Q2") == "benchmarked" and first.basis("2023-Q2") == "estimated"
    assert q23.de_va.sum() == pytest.approx(float(second.annual.set_index("year").de_va[2023]), rel=1e-10)
    rev = Q.revisions(ws, "VN", indicator="DE_VA")
    row = rev[rev.period == "2023-Q2"]
    assert len(rev.columns) == 4  # period, two runs, revision
    assert float(row.revision.iloc[0]) != 0.0


def test_monthly_indicator_set_needs_complete_months(ws):
    with pytest.raises(MethodError) as exc:
        Q.quarterly_de(ws, "VN", indicator="monthly")
    assert exc.value.code == "QUARTERLY_MONTHS_MISSING"


def test_too_few_years(ws):
    with pytest.raises(MethodError) as exc:
        Q.quarterly_de(ws, "VN", last_year=2019)
    assert exc.value.code == "TOO_FEW_YEARS" and "3" in exc.value.en


def test_cli_quarterly_and_revisions(ws):
    r = CliRunner().invoke(main, ["quarterly", "--territory", "VN", "--year", "2022", "--format", "json",
                                  "--workspace", str(ws.root)])
    assert r.exit_code == 0, r.output
    recs = json.loads(r.stdout)
    assert [x["period"] for x in recs] == ["2022-Q1", "2022-Q2", "2022-Q3", "2022-Q4"]
    assert all(x["status"] == "E" and x["basis"] == "benchmarked" for x in recs)
    r = CliRunner().invoke(main, ["revisions", "--territory", "VN", "--format", "csv", "--workspace", str(ws.root)])
    assert r.exit_code == 0 and "2024-Q2" in r.stdout
    r = CliRunner().invoke(main, ["--lang", "en", "quarterly", "--workspace", str(ws.root)])
    assert r.exit_code == 2 and "TERRITORY_OR_ALL" in r.output
