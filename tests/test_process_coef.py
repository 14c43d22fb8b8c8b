"""Process-digitalisation coefficients of the priority sectors' sections (docs/logistics.md, "The
process-digitalisation coefficients"): the declared mapping, the counts of a ratio (health, Q) and of
a record share (construction, F) by hand, the estimates stored when records are ingested, ``measure``
using Q's coefficient with its note, a submitted Q coefficient winning, the command and its usage
errors, and the demo workspace's Q/P/F coefficients. Section H's own tests: test_logistics_coef.py."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import ingest_records, ingest_rows

from kinhteso.cli import main
from kinhteso.errors import UsageError
from kinhteso.methods import logistics_coef as M
from kinhteso.pipeline import coefficients as PC
from kinhteso.reference.process_coef import (
    process_section,
    process_sections,
    sections_fed_by,
)
from kinhteso.service.figures import MeasureRequest, measure
from kinhteso.workspace import Workspace

NOTE = "# ILLUSTRATIVE test data\n"
METHOD = "process-digitalisation"


# --- the declared mapping -----------------------------------------------------------------------------
def test_the_declared_sections_and_their_vsic_2025_keys():
    s = process_sections()
    assert {k: list(v.components) for k, v in s.items()} == {
        "H": ["PORT_NSW_SHARE", "PORT_EDO_SHARE", "PORT_EPAYMENT_SHARE", "CUSTOMS_E_DECLARATION_SHARE",
              "TRANSPORT_E_TICKET_SHARE"],
        "Q": ["HEALTH_EHR_SHARE", "HEALTH_CASHLESS_SHARE"],
        "P": ["EDU_DIGITAL_RECORD_SHARE", "EDU_CASHLESS_FEE_SHARE"],
        "F": ["CONSTR_ONLINE_PERMIT_SHARE"]}
    # health is Q in VSIC 2018 but R in VSIC 2025; education P but Q
    assert s["Q"].keys == ("Q", "v2025:R") and s["P"].keys == ("P", "v2025:Q") and s["H"].keys == ("H", "v2025:H")
    assert process_section("v2025:R").section == "Q" and process_section("v2025:Q").section == "P"
    assert s["H"].method == PC.LOGISTICS_METHOD and s["Q"].method == METHOD
    assert M.COMPONENTS == s["H"].components  # the pure function's default mirrors the registry
    assert sections_fed_by(["ENV_ONLINE_DOSSIER_SHARE"]) == []  # land and environment dossiers: no section
    with pytest.raises(UsageError) as exc:
        process_section("O")
    assert exc.value.code == "NO_PROCESS_COMPONENTS" and "không có thành phần" in exc.value.vi


# --- a workspace: health and building permit records, the estimates, measure ---------------------------
HEALTH = "Mã cơ sở,Tỉnh,Tháng,Lượt KCB,Lượt có HSSK điện tử,Tổng viện phí,Viện phí không tiền mặt\n"
PERMITS = "Mã hồ sơ,Cơ quan tiếp nhận,Tỉnh/thành phố,Ngày nộp,Hình thức nộp\n"


def _health(province: str, rows: list[tuple[str, int, int, int, int]]) -> str:
    return NOTE + HEALTH + "".join(f"{f},{province},07/2025,{v},{e},{fee},{c}\n" for f, v, e, fee, c in rows)


def _permits(prefix: str, province: str, online: int, n: int) -> str:
    return NOTE + PERMITS + "".join(
        f"{prefix}{i:03d},Sở Xây dựng,{province},2025-0{i % 9 + 1}-05 08:00,{'Trực tuyến' if i < online else 'Trực tiếp'}\n"
        for i in range(n))


def _ingest(ws, path, text, adapter):
    return ingest_records(ws, path, adapter, text=text, illustrative=True)


ACCOUNTS = [["GRDP_VA", "31", "34", "Q", "2025", "100", "VND_BN"],
            ["GRDP_VA", "31", "34", "F", "2025", "200", "VND_BN"],
            ["GRDP_VA", "31", "34", "C", "2025", "200", "VND_BN"],
            ["GRDP", "31", "34", "_T", "2025", "500", "VND_BN"],
            ["DIGITAL_COEF", "VN", "", "Q", "2025", "0.05", "RATIO"],
            ["DIGITAL_COEF", "VN", "", "F", "2025", "0.1", "RATIO"],
            ["DIGITAL_COEF", "VN", "", "C", "2025", "0.1", "RATIO"]]

# Q: I(34:31) = (600/1000 + 2000/4000)/2 = 0.55; pooled R = (1200/3000 + 3000/8000)/2 = 0.3875
Q_M = 0.55 / 0.3875
# F: 30 of 40 applications online in 34:31, 10 of 40 in 34:79; pooled 40/80 → m = 0.75/0.5 = 1.5
F_M = 1.5


@pytest.fixture
def pws(tmp_path):
    """Accounts of Hải Phòng (34:31) with health (Q) and construction (F); national coefficients; the
    health facilities' July reports (3 facilities each in 34:31 and 34:79) and building permit
    applications (40 each), ingested through the adapters (which store the coefficients)."""
    with Workspace.init(tmp_path / "w") as ws:
        ingest_rows(ws, tmp_path / "accounts.csv", ACCOUNTS)
        _ingest(ws, tmp_path / "hp_health.csv", _health("Hải Phòng", [("A", 400, 300, 1000, 500),
                                                                       ("B", 400, 200, 1000, 700),
                                                                       ("C", 200, 100, 2000, 800)]),
                "co-so-kham-chua-benh")
        _ingest(ws, tmp_path / "hcm_health.csv", _health("34:79", [("D", 500, 100, 1000, 200),
                                                                    ("E", 500, 200, 1000, 300),
                                                                    ("F", 1000, 300, 2000, 500)]),
                "co-so-kham-chua-benh")
        _ingest(ws, tmp_path / "hp_permits.csv", _permits("HP", "Hải Phòng", 30, 40), "cap-phep-xay-dung")
        _ingest(ws, tmp_path / "hcm_permits.csv", _permits("SG", "34:79", 10, 40), "cap-phep-xay-dung")
        yield ws


def test_the_counts_of_a_ratio_and_of_a_record_share(pws):
    counts, vintages, illustrative = PC.process_counts(pws, "Q")
    c = counts.set_index(["territory", "component"])
    # a ratio sums its numerator and denominator (visits, fees), with the facilities it rests on
    assert c.loc[("34:31", "HEALTH_EHR_SHARE"), ["digital", "records", "units"]].tolist() == [600, 1000, 3]
    assert c.loc[("34:79", "HEALTH_CASHLESS_SHARE"), ["digital", "records"]].tolist() == [1000, 4000]
    assert set(counts.basis) == {"sum"} and illustrative
    assert set(vintages) == set(pws.store.record_vintages("health_facility_months").vintage_id)  # Q's records only
    f = PC.process_counts(pws, "F")[0].set_index("territory")
    assert f.loc["34:31", ["digital", "records"]].tolist() == [30, 40] and f.loc["34:31", "basis"] == "records"


def test_the_estimates_by_hand_are_stored_when_the_records_arrive(pws):
    stored = pws.store.results(kind="coef", method=METHOD, territory="34:31", period="2025")
    got = dict(zip(stored.sector, stored.value))
    assert got == {"Q": pytest.approx(0.05 * Q_M), "F": pytest.approx(0.1 * F_M)}  # 0.070968, 0.15
    assert stored.status.eq("E").all() and stored.illustrative.all()
    params = {json.loads(p)["section"]: json.loads(p) for p in stored.parameters}
    assert params["Q"]["index_pct"] == pytest.approx(55.0) and params["Q"]["reference_pct"] == pytest.approx(38.75)
    assert params["Q"]["reference_territories"] == ["34:31", "34:79"] and params["Q"]["min_units"] == 3
    comp = {c["component"]: c for c in params["Q"]["components"]}
    assert comp["HEALTH_EHR_SHARE"]["basis"] == "sum" and comp["HEALTH_EHR_SHARE"]["units"] == 3
    # one run per province, section and year; the same again adds nothing
    q = PC.estimate_process(pws, section="Q", territory="34:31", period="2025")
    assert q.run_id in set(stored.run_id) and q.k == pytest.approx(Q_M)
    assert PC.estimate_process(pws, section="Q", territory="34:31", period="2025").run_id == q.run_id
    f79 = PC.estimate_process(pws, section="F", territory="34:79", period="2025", write=False)
    assert f79.coefficients.to_dict() == {"F": pytest.approx(0.1 * 0.25 / 0.5)}  # 0.05
    # fewer than the reporting units required (3 facilities < 4): the national coefficient stands
    few = PC.estimate_process(pws, section="Q", territory="34:31", period="2025", min_units=4, write=False)
    assert few.run_id is None and "national coefficient applies to section Q" in few.note
    assert pws.store.observations(indicator="DIGITAL_COEF", territory="34:31").empty  # never a submission
    assert pws.store.results(kind="coef", method=PC.LOGISTICS_METHOD).empty  # no logistics records, no H


def test_measure_uses_q_and_f_coefficients_with_a_note_naming_the_section(pws):
    r = measure(pws, MeasureRequest("2025", ("34:31",))).results[0]
    assert r.result.de_share == pytest.approx((100 * 0.05 * Q_M + 200 * 0.1 * F_M + 200 * 0.1) / 500 * 100)
    notes = {w["section"]: w for w in r.warnings if w["code"] == "PROCESS_COEF"}
    assert set(notes) == {"Q", "F"} and notes["Q"]["sectors"] == ["Q"]
    assert "human health and social work (Q)" in notes["Q"]["en"] and "y tế và trợ giúp xã hội (Q)" in notes["Q"]["vi"]
    assert f"0.0500 × {Q_M:.4f}" in notes["Q"]["en"] and "construction (F)" in notes["F"]["en"]
    assert r.provenance["coefficient_sources"] == {"Q": "health:Q", "F": "construction:F", "C": "national:C"}
    assert notes["Q"]["run_id"] in r.provenance["input_runs"]
    assert r.provenance["process_coefs"]["Q"]["factor"] == pytest.approx(Q_M)
    # --coef-source names one source of coefficients: without the supplements
    only = measure(pws, MeasureRequest("2025", ("34:31",), coef_source="test")).results[0]
    assert only.result.de_share == pytest.approx((5 + 20 + 20) / 500 * 100)


def test_a_submitted_q_coefficient_wins(pws, tmp_path):
    ingest_rows(pws, tmp_path / "own_q.csv", [["DIGITAL_COEF", "31", "34", "Q", "2025", "0.2", "RATIO"]],
                source="thue-hai-phong")
    PC.estimate_process(pws, section="Q", territory="34:31", period="2025", elasticity=0.5)  # even a newer run
    r = measure(pws, MeasureRequest("2025", ("34:31",))).results[0]
    assert r.result.de_share == pytest.approx((100 * 0.2 + 200 * 0.1 * F_M + 200 * 0.1) / 500 * 100)
    assert r.provenance["coefficient_sources"]["Q"] == "own:Q"
    assert r.provenance["coefficient_sources"]["F"] == "construction:F"  # F still the estimate
    note = next(w for w in r.warnings if w["code"] == "PROCESS_COEF_NOT_USED")
    assert note["section"] == "Q" and "does not replace it" in note["en"] and "không thay thế" in note["vi"]


def test_the_command_and_its_usage_errors(pws):
    r = CliRunner().invoke(main, ["--lang", "en", "coef", "process", "--section", "Q", "--territory", "Hải Phòng",
                                  "--period", "2025", "--dry-run", "--workspace", str(pws.root)])
    assert r.exit_code == 0, r.output
    assert "method process-digitalisation" in r.output and "HEALTH_EHR_SHARE" in r.output and "3 units" in r.output
    for lang, text in (("en", "has no declared process-digitalisation components"),
                       ("vi", "không có thành phần số hóa quy trình")):
        bad = CliRunner().invoke(main, ["--lang", lang, "coef", "process", "--section", "O", "--territory", "34:31",
                                        "--period", "2025", "--workspace", str(pws.root)])
        assert bad.exit_code != 0 and "NO_PROCESS_COMPONENTS" in bad.output and text in bad.output
    with pytest.raises(UsageError) as exc:
        PC.estimate_process(pws, section="Q", territory="VN", period="2025")
    assert exc.value.code == "PROCESS_COEF_PROVINCE"
    with pytest.raises(UsageError) as exc:
        PC.estimate_process(pws, section="P", territory="34:31", period="2025")  # no national coefficient of P
    assert exc.value.code == "NO_NATIONAL_COEF" and "section P (education)" in exc.value.en


# --- the demo workspace -----------------------------------------------------------------------------
def test_the_demo_workspace_has_q_p_f_coefficients(demo_run):
    root, result = demo_run
    assert result.exit_code == 0, result.output
    assert "Human health and social work (Q) coefficient 2025" in result.output
    with Workspace.open(root) as ws:
        coef = ws.store.results(kind="coef", method=METHOD, period="2025")
        sections = {(t, json.loads(p)["section"]) for t, p in zip(coef.territory, coef.parameters)}
        assert {(t, s) for t in ("34:31", "34:79", "34:01", "34:48") for s in ("Q", "P", "F")} <= sections
        assert coef.illustrative.all() and coef.value.between(0, 1).all()
        r = measure(ws, MeasureRequest("2025", ("34:31",))).results[0]
        assert {w["section"] for w in r.warnings if w["code"] == "PROCESS_COEF"} == {"Q", "P", "F"}
        assert any(w["code"] == "LOGISTICS_COEF" for w in r.warnings)
