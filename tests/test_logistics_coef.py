"""The logistics sector's digitalisation coefficient (docs/logistics.md, "The logistics digitalisation
coefficient"): the method by hand, the estimate stored as a run, ``measure`` using it for section H
with a note, the fallback to the national coefficient, and a DIGITAL_COEF the province submitted
winning over it."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ingest_records, ingest_rows

from kinhteso.cli import main
from kinhteso.errors import MethodError, UsageError
from kinhteso.methods import logistics_coef as M
from kinhteso.pipeline import accounts as PA
from kinhteso.pipeline import coefficients as PC
from kinhteso.service.figures import MeasureRequest, measure
from kinhteso.workspace import Workspace

NOTE = "# ILLUSTRATIVE test data\n"


# --- the method, by hand ------------------------------------------------------------------------
def counts(**shares):
    return pd.DataFrame([{"component": k, "digital": d, "records": n} for k, (d, n) in shares.items()])


def test_the_worked_example_by_hand():
    prov = counts(PORT_NSW_SHARE=(90, 100), PORT_EDO_SHARE=(60, 100), PORT_EPAYMENT_SHARE=(150, 200),
                  CUSTOMS_E_DECLARATION_SHARE=(99, 100))
    ref = counts(PORT_NSW_SHARE=(150, 200), PORT_EDO_SHARE=(100, 200), PORT_EPAYMENT_SHARE=(250, 400),
                 CUSTOMS_E_DECLARATION_SHARE=(198, 200))
    r = M.logistics_coefficient(prov, pd.Series({"H": 0.05, "52": 0.2}), reference=ref)
    i = (0.9 + 0.6 + 0.75 + 0.99) / 4                    # 0.81
    rr = (0.75 + 0.5 + 0.625 + 0.99) / 4                 # 0.71625
    assert r.index == pytest.approx(i) and r.reference == pytest.approx(rr)
    assert r.factor == pytest.approx(1 + (i - rr) / rr) == pytest.approx(i / rr)  # η = 1: proportional
    assert r.coefficients["H"] == pytest.approx(0.05 * i / rr)
    assert r.coefficients["52"] == pytest.approx(0.2 * i / rr)
    assert r.components["used"].all() and not r.capped


def test_elasticity_zero_is_the_national_coefficient_and_half_moves_half_as_far():
    prov, ref = counts(PORT_NSW_SHARE=(90, 100)), counts(PORT_NSW_SHARE=(60, 100))
    assert M.logistics_coefficient(prov, pd.Series({"H": 0.1}), reference=ref, elasticity=0).coefficients["H"] == 0.1
    half = M.logistics_coefficient(prov, pd.Series({"H": 0.1}), reference=ref, elasticity=0.5)
    assert half.factor == pytest.approx(1 + 0.5 * (0.9 - 0.6) / 0.6) == pytest.approx(1.25)


def test_the_coefficient_stays_within_0_and_1():
    r = M.logistics_coefficient(counts(PORT_NSW_SHARE=(100, 100)), pd.Series({"H": 0.9}),
                                reference=counts(PORT_NSW_SHARE=(40, 100)))
    assert r.coefficients["H"] == 1.0 and r.capped == ["H"]
    r = M.logistics_coefficient(counts(PORT_NSW_SHARE=(0, 100)), pd.Series({"H": 0.1}), reference=0.5, elasticity=3)
    assert r.coefficients["H"] == 0.0 and r.capped == ["H"]  # 1 + 3·(0 − 0.5)/0.5 = −2 → 0


def test_only_components_with_enough_records_in_both_count():
    prov = counts(PORT_NSW_SHARE=(80, 100), PORT_EDO_SHARE=(5, 10))          # eDO: 10 records < 30
    ref = counts(PORT_NSW_SHARE=(120, 200), PORT_EDO_SHARE=(50, 100), PORT_EPAYMENT_SHARE=(90, 100))
    r = M.logistics_coefficient(prov, pd.Series({"H": 0.1}), reference=ref)
    assert r.index == pytest.approx(0.8) and r.reference == pytest.approx(0.6)  # the NSW share alone, in both
    assert dict(zip(r.components.component, r.components.used))["PORT_EDO_SHARE"] is False
    assert M.logistics_coefficient(counts(PORT_EDO_SHARE=(5, 10)), pd.Series({"H": 0.1}), reference=ref) is None


def test_bad_counts_and_references_are_refused():
    with pytest.raises(MethodError) as exc:
        M.process_index(counts(PORT_NSW_SHARE=(120, 100)))
    assert exc.value.code == "LOGISTICS_COUNTS"
    with pytest.raises(MethodError) as exc:
        M.scale_factor(0.5, 0.0)
    assert exc.value.code == "REFERENCE_NOT_POSITIVE"


# --- a workspace: records through the adapters, the estimate, measure ---------------------------
CALLS = "Số chuyến,Cảng,Bến,Tàu (IMO),Thời gian đến,Thời gian cập cầu,Thời gian rời,GT,TEU xếp dỡ,Qua NSW\n"
ORDERS = "Số lệnh,Cảng,Thời điểm phát hành,Hình thức\n"


def _calls(prefix: str, port: str, nsw: list[bool]) -> str:
    return NOTE + CALLS + "".join(
        f"{prefix}{i},{port},T{i % 3},93{i:05d},2025-0{i % 9 + 1}-02 06:00,,2025-0{i % 9 + 1}-03 06:00,1000,100,"
        f"{'Có' if y else 'Không'}\n" for i, y in enumerate(nsw))


def _orders(prefix: str, port: str, edo: list[bool]) -> str:
    return NOTE + ORDERS + "".join(f"{prefix}{i},{port},2025-0{i % 9 + 1}-05 08:00,{'eDO' if y else 'Giấy'}\n"
                                   for i, y in enumerate(edo))


def _ingest(ws, path, text, adapter, source="minh-hoa"):
    return ingest_records(ws, path, adapter, source=source, text=text, illustrative=True)


ACCOUNTS = [["GRDP_VA", "31", "34", "H", "2025", "100", "VND_BN"],
            ["GRDP_VA", "31", "34", "C", "2025", "300", "VND_BN"],
            ["GRDP_VA", "31", "34", "62", "2025", "50", "VND_BN"],
            ["GRDP", "31", "34", "_T", "2025", "500", "VND_BN"],
            ["GRDP_VA", "01", "34", "H", "2025", "100", "VND_BN"],
            ["GRDP_VA", "01", "34", "C", "2025", "300", "VND_BN"],
            ["GRDP", "01", "34", "_T", "2025", "500", "VND_BN"],
            ["DIGITAL_COEF", "VN", "", "H", "2025", "0.08", "RATIO"],
            ["DIGITAL_COEF", "VN", "", "C", "2025", "0.1", "RATIO"]]


@pytest.fixture
def lws(tmp_path):
    """Hải Phòng (34:31): 4 calls, 3 through the NSW; 4 orders, 2 eDO. Hồ Chí Minh City (34:79, Cát
    Lái): 4 calls, 1 through the NSW; 4 orders, 2 eDO. Accounts of 34:31 and 34:01, national coefficients."""
    with Workspace.init(tmp_path / "w") as ws:
        ingest_rows(ws, tmp_path / "accounts.csv", ACCOUNTS)
        _ingest(ws, tmp_path / "hp_calls.csv", _calls("HP", "Hải Phòng", [True, True, True, False]), "vessel-calls")
        _ingest(ws, tmp_path / "hp_do.csv", _orders("HP", "Hải Phòng", [True, False, True, False]), "delivery-orders")
        _ingest(ws, tmp_path / "hcm_calls.csv", _calls("SG", "VNCLI", [True, False, False, False]), "vessel-calls")
        _ingest(ws, tmp_path / "hcm_do.csv", _orders("SG", "VNCLI", [False, True, True, False]), "delivery-orders")
        yield ws


def test_the_estimate_by_hand_is_stored_as_a_coef_run(lws):
    est = PC.estimate_logistics(lws, territory="34:31", period="2025", min_records=1)
    # I = (3/4 + 2/4)/2 = 0.625; pooled R = (4/8 + 4/8)/2 = 0.5; m = 1 + (0.625 − 0.5)/0.5 = 1.25
    assert est.details["index_pct"] == pytest.approx(62.5) and est.details["reference_pct"] == pytest.approx(50.0)
    assert est.k == pytest.approx(1.25) and est.coefficients.to_dict() == {"H": pytest.approx(0.1)}
    assert est.details["reference_territories"] == ["34:31", "34:79"]
    stored = lws.store.results(kind="coef", method=PC.LOGISTICS_METHOD, territory="34:31", sector="H")
    assert stored.value.tolist() == [pytest.approx(0.1)] and stored.run_id.tolist() == [est.run_id]
    assert stored.status.tolist() == ["E"] and stored.illustrative.all()
    inputs = json.loads(stored.inputs.iloc[0])
    records = set(lws.store.record_vintages().vintage_id)
    assert records <= set(inputs["vintages"])  # the record vintages it read, with the national coefficient's
    assert not lws.store.observations(indicator="DIGITAL_COEF", territory="34:31").shape[0]  # never a submission
    # the same again: the same run, nothing added
    assert PC.estimate_logistics(lws, territory="34:31", period="2025", min_records=1).run_id == est.run_id
    other = PC.estimate_logistics(lws, territory="34:79", period="2025", min_records=1, write=False)
    assert other.coefficients["H"] == pytest.approx(0.08 * (1 + ((0.25 + 0.5) / 2 - 0.5) / 0.5))  # 0.06


def test_measure_uses_it_for_section_h_with_a_note(lws):
    before = measure(lws, MeasureRequest("2025", ("34:31",))).results[0]
    assert before.result.de_share == pytest.approx((50 + 100 * 0.08 + 300 * 0.1) / 500 * 100)  # 17.6
    est = PC.estimate_logistics(lws, territory="34:31", period="2025", min_records=1)
    r = measure(lws, MeasureRequest("2025", ("34:31",))).results[0]
    assert r.result.de_share == pytest.approx((50 + 100 * 0.1 + 300 * 0.1) / 500 * 100)  # 18.0
    note = next(w for w in r.warnings if w["code"] == "LOGISTICS_COEF")
    assert note["run_id"] == est.run_id and note["sectors"] == ["H"]
    assert "0.0800 × 1.2500 = 0.1000" in note["en"] and "0.0800 × 1.2500 = 0.1000" in note["vi"]
    assert r.provenance["coefficient_sources"]["H"] == "logistics:H"
    assert est.run_id in r.provenance["input_runs"]
    nat = next(w for w in r.warnings if w["code"] == "NATIONAL_FALLBACK")
    assert nat["coefficients"] == ["C"]  # H is the province's own now
    # the CLI shows it
    out = CliRunner().invoke(main, ["--lang", "en", "measure", "--territory", "34:31", "--period", "2025",
                                    "--workspace", str(lws.root)])
    assert out.exit_code == 0, out.output
    assert "LOGISTICS_COEF" in out.output and "transport and storage (H)" in out.output
    # --coef-source names one source of coefficients: without the supplement
    only = measure(lws, MeasureRequest("2025", ("34:31",), coef_source="test")).results[0]
    assert only.result.de_share == pytest.approx(17.6)


def test_a_province_without_records_keeps_the_national_coefficient(lws):
    est = PC.estimate_logistics(lws, territory="34:01", period="2025", min_records=1)
    assert est.run_id is None and est.coefficients.to_dict() == {"H": 0.08}
    assert "national coefficient applies" in est.note and "hệ số cả nước" in est.note_vi
    assert lws.store.results(kind="coef", territory="34:01").empty
    r = measure(lws, MeasureRequest("2025", ("34:01",))).results[0]
    assert not [w for w in r.warnings if w["code"].startswith("LOGISTICS")]
    assert "H" in next(w for w in r.warnings if w["code"] == "NATIONAL_FALLBACK")["coefficients"]
    # and too few records: the same fallback
    assert PC.estimate_logistics(lws, territory="34:31", period="2025").run_id is None  # 4 < 30 records


def test_a_submitted_coefficient_wins_over_the_estimate(lws, tmp_path):
    # the province's own DIGITAL_COEF of C only: the estimate fills H, C stays its own (not shadowed)
    ingest_rows(lws, tmp_path / "own_c.csv", [["DIGITAL_COEF", "31", "34", "C", "2025", "0.3", "RATIO"]],
                source="thue-hai-phong")
    PC.estimate_logistics(lws, territory="34:31", period="2025", min_records=1)  # computed after the submission
    r = measure(lws, MeasureRequest("2025", ("34:31",))).results[0]
    assert r.result.de_share == pytest.approx((50 + 100 * 0.1 + 300 * 0.3) / 500 * 100)
    assert r.provenance["coefficient_sources"] == {"H": "logistics:H", "C": "own:C", "62": ""}
    # the province submits its own coefficient of H: it is used, the estimate is not
    ingest_rows(lws, tmp_path / "own_h.csv", [["DIGITAL_COEF", "31", "34", "H", "2025", "0.2", "RATIO"],
                                              ["DIGITAL_COEF", "31", "34", "C", "2025", "0.3", "RATIO"]],
                source="thue-hai-phong")
    PC.estimate_logistics(lws, territory="34:31", period="2025", min_records=1, elasticity=0.5)  # even a newer run
    r = measure(lws, MeasureRequest("2025", ("34:31",))).results[0]
    assert r.result.de_share == pytest.approx((50 + 100 * 0.2 + 300 * 0.3) / 500 * 100)
    assert r.provenance["coefficient_sources"]["H"] == "own:H"
    note = next(w for w in r.warnings if w["code"] == "LOGISTICS_COEF_NOT_USED")
    assert "does not replace it" in note["en"] and note["sectors"] == ["H"]


def test_a_quarter_uses_the_annual_logistics_coefficient(lws, tmp_path):
    PC.estimate_logistics(lws, territory="34:31", period="2025", min_records=1)
    inp, prov, warnings = PA.load_inputs(lws, "34:31", "2025-Q3")
    assert inp.coef_own.to_dict() == {"H": pytest.approx(0.1)} and prov["logistics_coef"]["period"] == "2025"


def test_usage_errors(lws):
    with pytest.raises(UsageError) as exc:
        PC.estimate_logistics(lws, territory="34:31", period="2025-Q3")
    assert exc.value.code == "COEF_ANNUAL"
    with pytest.raises(UsageError) as exc:
        PC.estimate_logistics(lws, territory="VN", period="2025")
    assert exc.value.code == "LOGISTICS_PROVINCE"
    with pytest.raises(UsageError) as exc:
        PC.estimate_logistics(lws, territory="34:31", period="2024")
    assert exc.value.code == "NO_NATIONAL_COEF"
    r = CliRunner().invoke(main, ["--lang", "en", "coef", "logistics", "--territory", "Hải Phòng", "--period", "2025",
                                  "--reference", "40", "--dry-run", "--workspace", str(lws.root)])
    assert r.exit_code == 0, r.output
    assert "national coefficient applies" in r.output  # 4 records a component, fewer than the 30 needed


# --- the demo workspace ---------------------------------------------------------------------------
def test_the_demo_workspace_has_port_indicators_and_the_coefficient(demo_run):
    root, result = demo_run
    assert result.exit_code == 0, result.output
    assert "Record data" in result.output and "Transport and storage (H) coefficient of 34:31" in result.output
    with Workspace.open(root) as ws:
        port = ws.store.results(kind="logistics", territory="34:31")
        quarters = set(port[port.indicator == "PORT_NSW_SHARE"].period)
        assert {"2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"} <= quarters
        assert {"PORT_IMPORT_DWELL_H", "PORT_EDO_SHARE", "PORT_EPAYMENT_SHARE", "CUSTOMS_E_DECLARATION_SHARE",
                "PORT_VESSEL_HOURS", "PORT_TEU_PER_BERTH_HOUR"} <= set(port.indicator)
        assert port.illustrative.all()
        # every quarter of vessel calls and container events rests on at least 3 terminals (disclosure)
        per_terminal = port[port.indicator.isin(["PORT_NSW_SHARE", "PORT_IMPORT_DWELL_H"])]
        assert len(per_terminal) and (per_terminal.units >= 3).all()
        assert set(port.period) == {"2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2025"}  # no stray quarter of next year
        for dataset in ("vessel_calls", "container_events", "customs_declarations", "delivery_orders", "port_payments"):
            v = ws.store.record_vintages(dataset)
            assert len(v) and v.illustrative.all() and set(v.source) == {"demo"}
        coef = ws.store.results(kind="coef", method=PC.LOGISTICS_METHOD, territory="34:31", period="2025")
        assert coef.sector.tolist() == ["H"] and coef.illustrative.all()
        out = measure(ws, MeasureRequest("2025", ("34:31",)))
        r = out.results[0]
        assert any(w["code"] == "LOGISTICS_COEF" for w in r.warnings)
        # beside the accounts, the process digitalisation the records give: logistics and the priority sectors,
        # each the year's figure derived from the year's records, with the reporting units behind it
        found = {x["indicator"]: x for x in out.from_records}
        for code in ("PORT_NSW_SHARE", "PORT_EDO_SHARE", "HEALTH_EHR_SHARE", "EDU_DIGITAL_RECORD_SHARE",
                     "CONSTR_ONLINE_PERMIT_SHARE", "ENV_ONLINE_DOSSIER_SHARE", "TRANSPORT_E_TICKET_SHARE"):
            assert found[code]["source"] == "kinhteso:logistics" and 0 <= found[code]["value"] <= 100
        year = ws.store.results(kind="logistics", indicator="HEALTH_EHR_SHARE", territory="34:31", period="2025")
        assert found["HEALTH_EHR_SHARE"]["value"] == pytest.approx(float(year.value.iloc[0]))
        assert found["HEALTH_EHR_SHARE"]["units"] >= 3
    shown = CliRunner().invoke(main, ["--lang", "en", "measure", "--territory", "34:31", "--period", "2025-Q3",
                                      "--workspace", str(root)])
    assert shown.exit_code == 0, shown.output
    assert "Process digitalisation from agencies' records, 2025-Q3" in shown.output
    assert "Share of health visits by patients with an electronic health record" in shown.output
