"""Digital-economy accounts at constant 2010 prices and real growth (issue 14 item 5):
hand-computed on a small workspace, both real-growth formulas, the precedence of submitted
constant-price value added over deflators, and the refusal of a section without a deflator."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import LONG_HEADER, write_long_csv
from kinhteso.cli import main
from kinhteso.errors import MethodError
from kinhteso.methods import prices as MP
from kinhteso.pipeline import accounts as P
from kinhteso.service.figures import MeasureRequest, measure
from kinhteso.workspace import Workspace

H = P.hierarchy()
HEADER = [*LONG_HEADER, "price_basis"]


# --- the method ----------------------------------------------------------------------------------
def test_deflate_pieces_by_their_own_code_else_the_section():
    va = pd.Series({"C": 500.0, "26": 100.0, "10": 150.0, "J": 40.0})
    out, used = MP.deflate(va, H, {"C": 125.0, "26": 80.0, "J": 100.0})
    # pieces: 26 → 100/0.8 = 125; 10 → 150/1.25 = 120; rest of C (250) → 200; J → 40
    assert out.to_dict() == pytest.approx({"C": 445.0, "26": 125.0, "10": 120.0, "J": 40.0})
    assert used == {"26": "26", "10": "C", "C": "C", "J": "J"}


def test_missing_deflator_names_the_sections():
    with pytest.raises(MethodError) as e:
        MP.deflate(pd.Series({"10": 10.0, "01": 5.0, "62": 1.0}), H, {"C": 110.0}, label="63:31 2024")
    assert e.value.code == "NO_DEFLATOR" and "section(s) A, J" in e.value.en and "khu vực A, J" in e.value.vi
    with pytest.raises(MethodError) as e:
        MP.deflate(pd.Series({"10": 10.0}), H, {"C": 0.0})
    assert e.value.code == "DEFLATOR_NOT_POSITIVE"


def test_implied_and_relative_deflators_and_growth():
    assert MP.implied_deflators(pd.Series({"C": 300.0, "J": 50.0}), pd.Series({"C": 200.0})) == {"C": 150.0}
    assert MP.relative_deflators(["10", "62"], H, {"C": 126.0, "62": 102.0}, {"C": 120.0}) == {"10": pytest.approx(105.0)}
    assert MP.growth(110.0, 100.0) == pytest.approx(0.1) and MP.growth(1.0, 0.0) is None and MP.growth(None, 1.0) is None


# --- a small workspace, computed by hand ----------------------------------------------------------
# Hải Phòng (63:31): VSIC 26 and 62 are core, 10 is digitalised at 10%.
VA = {"2023": {"26": 50.0, "62": 20.0, "10": 100.0}, "2024": {"26": 60.0, "62": 30.0, "10": 110.0}}
GRDP = {"2023": 200.0, "2024": 230.0}
DEFL = {"2023": {"C": 120.0, "26": 80.0, "J": 100.0, "_T": 125.0},
        "2024": {"C": 126.0, "26": 76.0, "J": 102.0, "_T": 130.0}}


def _de_const(y):
    d = DEFL[y]
    return VA[y]["26"] / (d["26"] / 100) + VA[y]["62"] / (d["J"] / 100) + VA[y]["10"] / (d["C"] / 100) * 0.1


def _de_current(y):
    return VA[y]["26"] + VA[y]["62"] + VA[y]["10"] * 0.1


@pytest.fixture
def ws(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    rows = []
    for y in VA:
        rows += [["GRDP_VA", "31", "63", s, y, str(v), "VND_BN", "current"] for s, v in VA[y].items()]
        rows += [["GRDP", "31", "63", "_T", y, str(GRDP[y]), "VND_BN", "current"],
                 ["DIGITAL_COEF", "VN", "", "C", y, "0.1", "RATIO", "current"]]
        rows += [["VA_DEFLATOR", "31", "63", s, y, str(v), "INDEX", "current"] for s, v in DEFL[y].items()]
        # Hải Dương (63:30): no deflator of its own for C; the nation's serves (and says so)
        rows += [["GRDP_VA", "30", "63", "10", y, "300", "VND_BN", "current"],
                 ["GRDP_VA", "30", "63", "01", y, "50", "VND_BN", "current"],
                 ["GRDP", "30", "63", "_T", y, "400", "VND_BN", "current"],
                 ["VA_DEFLATOR", "VN", "", "C", y, str(DEFL[y]["C"]), "INDEX", "current"]]
    _ingest(w, tmp_path / "in.csv", rows)
    yield w
    w.close()


def _ingest(w, path, rows, **kw):
    from kinhteso.ingest.load import ingest_file  # noqa: PLC0415

    return ingest_file(w.store, write_long_csv(path, rows, header=HEADER), source="test", indicators=w.indicators(),
                       workdir=w.tmp, **kw)


def test_constant_price_accounts_and_real_growth_by_hand(ws):
    (r,) = measure(ws, MeasureRequest("2024", ("63:31",), prices="constant")).results
    assert r.price_basis == "constant_2010"
    assert r.result.de_va == pytest.approx(_de_const("2024"))
    assert r.result.grdp == pytest.approx(230 / 1.30)  # current GRDP over the GRDP deflator
    assert r.result.de_share == pytest.approx(_de_const("2024") / (230 / 1.30) * 100)
    assert r.real["real_growth"] == pytest.approx(_de_const("2024") / _de_const("2023") - 1)
    # chain-linked: 2024 at 2023 prices against 2023 at current prices
    at_prev = 60 / (76 / 80) + 30 / (102 / 100) + 110 / (126 / 120) * 0.1
    assert r.real["real_growth_chained"] == pytest.approx(at_prev / _de_current("2023") - 1)
    assert r.real["nominal_growth"] == pytest.approx(_de_current("2024") / _de_current("2023") - 1)
    assert r.real["current"] == {"price_basis": "current", "grdp": 230.0, "de_va": pytest.approx(_de_current("2024")),
                                 "de_share": pytest.approx(_de_current("2024") / 230 * 100)}
    prices = r.provenance["prices"]
    assert prices["deflators"]["26"] == {"value": 76.0, "source": "own"} and "deflated" in prices["value_added"]
    assert not {"DEFLATOR_NATIONAL", "GRDP_CONSTANT_FROM_VA"} & {w["code"] for w in r.warnings}


def test_submitted_constant_value_added_takes_precedence(ws, tmp_path):
    const = {"26": 70.0, "62": 28.0, "10": 85.0}
    _ingest(ws, tmp_path / "const.csv",
            [["GRDP_VA", "31", "63", s, "2024", str(v), "VND_BN", "constant_2010"] for s, v in const.items()]
            + [["GRDP", "31", "63", "_T", "2024", "190", "VND_BN", "constant_2010"]])
    (r,) = measure(ws, MeasureRequest("2024", ("63:31",), prices="constant")).results
    assert r.result.de_va == pytest.approx(70 + 28 + 8.5) and r.result.grdp == 190.0
    assert r.provenance["prices"]["value_added"].startswith("submitted")
    # the chained growth deflates with the deflators the submitted table implies (current / constant)
    at_prev = 60 / ((60 / 70 * 100) / 80) + 30 / ((30 / 28 * 100) / 100) + 110 / ((110 / 85 * 100) / 120) * 0.1
    assert r.real["real_growth_chained"] == pytest.approx(at_prev / _de_current("2023") - 1)
    (cur,) = measure(ws, MeasureRequest("2024", ("63:31",))).results
    assert cur.price_basis == "current" and cur.result.de_va == pytest.approx(_de_current("2024"))


def test_national_deflator_is_named_and_a_missing_section_refused(ws):
    out = measure(ws, MeasureRequest("2024", ("63:30", "63:31"), prices="constant")).results
    hd = {r.territory: r for r in out}["63:30"]
    assert hd.result is None and hd.error["code"] == "NO_DEFLATOR" and "section(s) A" in hd.error["en"]
    assert {r.territory: r for r in out}["63:31"].result is not None


def test_grdp_without_constant_figure_or_deflator_is_the_sum_of_value_added(tmp_path):
    w = Workspace.init(tmp_path / "w2")
    try:
        _ingest(w, tmp_path / "a.csv", [
            ["GRDP_VA", "30", "63", "10", y, "300", "VND_BN", "current"] for y in ("2023", "2024")] + [
            ["GRDP", "30", "63", "_T", y, "400", "VND_BN", "current"] for y in ("2023", "2024")] + [
            ["DIGITAL_COEF", "VN", "", "C", y, "0.1", "RATIO", "current"] for y in ("2023", "2024")] + [
            ["VA_DEFLATOR", "VN", "", "C", "2023", "100", "INDEX", "current"],
            ["VA_DEFLATOR", "VN", "", "C", "2024", "120", "INDEX", "current"]])
        (r,) = measure(w, MeasureRequest("2024", ("63:30",), prices="constant")).results
        codes = [x["code"] for x in r.warnings]
        assert "DEFLATOR_NATIONAL" in codes and "GRDP_CONSTANT_FROM_VA" in codes and "GRDP_MISSING" not in codes
        assert r.result.grdp == pytest.approx(250.0) and r.result.de_share == pytest.approx(10.0)
        assert r.real["real_growth"] == pytest.approx(25 / 30 - 1)
        assert r.real["real_growth_chained"] == pytest.approx(r.real["real_growth"])  # one deflator: the two agree
    finally:
        w.close()


def test_measure_prices_constant_json_fields(ws):
    r = CliRunner().invoke(main, ["measure", "--territory", "63:31", "--period", "2024", "--prices", "constant",
                                  "--format", "json", "--save", "--workspace", str(ws.root)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["price_basis"] == "constant_2010" and d["real_growth_basis"] == "constant_2010"
    assert {"real_growth", "real_growth_chained", "real_growth_from", "nominal_growth", "current",
            "de_share_label"} <= set(d)
    assert d["real_growth_from"] == "2023" and d["current"]["price_basis"] == "current"
    assert "constant 2010 prices" in d["de_share_label"]["en"] and "giá so sánh 2010" in d["de_share_label"]["vi"]
    assert d["de_va"] == pytest.approx(_de_const("2024")) and d["provenance"]["prices"]["price_basis"] == "constant_2010"
    stored = ws.store.results(kind="accounts", indicator="DE_VA", territory="63:31")
    stored = stored[stored.sector == "_T"]
    assert set(stored.price_basis) == {"constant_2010"} and stored.value.tolist() == [pytest.approx(_de_const("2024"))]
    r = CliRunner().invoke(main, ["measure", "--territory", "63:31", "--period", "2024", "--format", "json",
                                  "--workspace", str(ws.root)])
    d = json.loads(r.stdout)
    assert d["price_basis"] == "current" and "real_growth" not in d


def test_measure_prices_constant_table_and_csv_name_the_price_basis(ws):
    run = CliRunner()
    r = run.invoke(main, ["--lang", "en", "measure", "--territory", "63:31", "--period", "2024", "--prices", "constant",
                          "--workspace", str(ws.root)])
    assert r.exit_code == 0, r.output
    assert "constant 2010 prices" in r.output.splitlines()[0] and "Real growth (constant 2010 prices)" in r.output
    assert "chain-linked (previous-year prices)" in r.output and "Current prices:" in r.output
    r = run.invoke(main, ["measure", "--territory", "63:31", "--period", "2024", "--prices", "constant", "--format", "csv",
                          "--workspace", str(ws.root)])
    f = pd.read_csv(__import__("io").StringIO(r.stdout))
    assert set(f.price_basis) == {"constant_2010"} and f.component.tolist() == ["core", "digitalised", "total"]
    r = run.invoke(main, ["--lang", "en", "measure", "--all", "--period", "2024", "--prices", "constant", "--format", "csv",
                          "--workspace", str(ws.root)])
    assert r.exit_code == 0, r.output
    assert set(pd.read_csv(__import__("io").StringIO(r.stdout)).price_basis) == {"constant_2010"}


def test_constant_prices_are_annual_only_and_unknown_prices_refused(ws):
    r = CliRunner().invoke(main, ["--lang", "en", "measure", "--territory", "63:31", "--period", "2024-Q2",
                                  "--prices", "constant", "--workspace", str(ws.root)])
    assert r.exit_code == 2 and "ANNUAL_ONLY" in r.output
    from kinhteso.errors import UsageError

    with pytest.raises(UsageError) as e:
        measure(ws, MeasureRequest("2024", ("63:31",), prices="real"))
    assert e.value.code == "BAD_PRICES"


def test_ownership_at_constant_prices_deflates_each_type(ws, tmp_path):
    _ingest(ws, tmp_path / "own.csv", [
        ["GRDP_VA_STATE", "31", "63", "10", "2024", "40", "VND_BN", "current"],
        ["GRDP_VA_NONSTATE", "31", "63", "10", "2024", "70", "VND_BN", "current"],
        ["GRDP_VA_NONSTATE", "31", "63", "62", "2024", "30", "VND_BN", "current"],
        ["GRDP_VA_FDI", "31", "63", "26", "2024", "60", "VND_BN", "current"]])
    (r,) = measure(ws, MeasureRequest("2024", ("63:31",), prices="constant", breakdown="ownership")).results
    rows = {o["ownership"]: o for o in r.ownership["rows"]}
    assert r.ownership["price_basis"] == "constant_2010"
    assert rows["fdi"]["de_va"] == pytest.approx(60 / 0.76)
    assert rows["state"]["de_va"] == pytest.approx(40 / 1.26 * 0.1)
    assert sum(o["de_va"] for o in rows.values()) == pytest.approx(r.result.de_va)


def test_regions_at_constant_prices_are_labelled_and_name_refused_provinces(ws):
    out = measure(ws, MeasureRequest("2024", ("RRD",), breakdown="region", prices="constant"))
    (g,) = out.regions
    assert g["price_basis"] == "constant_2010" and "constant 2010 prices" in g["de_share_label"]["en"]
    assert g["de_va"] == pytest.approx(_de_const("2024")) and g["grdp"] == pytest.approx(230 / 1.30)
    assert "63:30" in g["missing"]  # refused for want of a section-A deflator: named, not summed
