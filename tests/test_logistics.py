"""Container events through adapters, and the port indicators derived from them.

Hand-computed cases (the sample files of examples/logistics/), a brute-force check of the pairing
rule on random event streams, every bad input refused whole or set aside with its count, the
source registry, idempotence, retraction, and a workspace's own adapter (a new layout needs a
mapping file, not code)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import figure_value, ingest_records

from kinhteso.errors import InputRejected, UsageError

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples" / "logistics"
HEADER = "equipmentReference,equipmentEventTypeCode,eventClassifierCode,eventDateTime,UNLocationCode,facilityCode\n"


@pytest.fixture
def ws(tmp_path):
    from kinhteso.service.workspace import InitRequest, init
    from kinhteso.workspace import Workspace

    init(InitRequest(tmp_path / "ws"))
    with Workspace.open(tmp_path / "ws") as w:
        yield w


def _ingest(ws, path, adapter="dcsa-equipment-events", source="cang-hai-phong", **kw):
    return ingest_records(ws, path, adapter, source=source, **kw)


_value = figure_value


def test_hand_computed_dwell_from_the_dcsa_sample(ws):
    r = _ingest(ws, EX / "dcsa_events_hai_phong.csv")
    assert r.records["aside"] == {"DUPLICATE_EVENT": 1} and r.n_rows == 12
    # 2025-Q3: 54 h (MSKU), 108 h (TGHU: the EST gate-out ignored), 24 h (CMAU); MSCU not yet out
    assert _value(ws, "PORT_IMPORT_DWELL_H", "2025-Q3") == pytest.approx(54.0)
    assert _value(ws, "PORT_IMPORT_DWELL_P90_H", "2025-Q3") == pytest.approx(54 + 0.8 * 54)
    assert _value(ws, "PORT_IMPORT_CONTAINERS", "2025-Q3") == 3
    # OOLU: discharged 28 Sep, out 1 Oct (Viet Nam time): 72 h, in 2025-Q4
    assert _value(ws, "PORT_IMPORT_DWELL_H", "2025-Q4") == pytest.approx(72.0)
    res = ws.store.results(indicator="PORT_IMPORT_DWELL_H", territory="34:31")
    assert set(res["kind"]) == {"logistics"} and set(res["unit"]) == {"HOURS"}


def test_a_terminals_own_sheet_through_its_adapter(ws):
    _ingest(ws, EX / "dcsa_events_hai_phong.csv")
    r = _ingest(ws, EX / "cang_hai_phong_container.csv", adapter="cang-hai-phong-container")
    assert r.records["aside"] == {"OUT_OF_ORDER": 1}
    q = ws.store.quarantine(r.vintage_id)
    assert list(q["reason"]) == ["OUT_OF_ORDER"] and int(q["line"].iloc[0]) == 10 and "SEGU3333330" in q["record"].iloc[0]
    # local times (+07:00 declared): GESU 60 h, TCLU 84 h (the planned gate-out ignored), with 24, 54, 108
    assert _value(ws, "PORT_IMPORT_DWELL_H", "2025-Q3") == pytest.approx(60.0)
    assert _value(ws, "PORT_IMPORT_CONTAINERS", "2025-Q3") == 5


def _pairs_by_hand(events: list[tuple]) -> dict[str, list[float]]:
    """The rule, written as plainly as possible: per container and port, actual events in time
    order; each actual gate-out whose previous DISC/GTOT event is a discharge is one pair."""
    out: dict[str, list[float]] = {}
    by: dict[tuple, list[tuple]] = {}
    for eq, typ, cls, at, loc in events:
        if cls == "ACT" and typ in ("DISC", "GTOT"):
            by.setdefault((eq, loc), []).append((at, typ))
    for seq in by.values():
        seq = sorted(set(seq), key=lambda x: (x[0], x[1]))
        for prev, cur in zip(seq, seq[1:]):
            if cur[1] == "GTOT" and prev[1] == "DISC":
                local = cur[0] + dt.timedelta(hours=7)
                q = f"{local.year}-Q{(local.month - 1) // 3 + 1}"
                out.setdefault(q, []).append((cur[0] - prev[0]).total_seconds() / 3600)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_pairing_rule_on_random_event_streams(ws, tmp_path, seed):
    rng = random.Random(seed)
    t0 = dt.datetime(2025, 6, 20, tzinfo=dt.UTC)
    events = []
    for i in range(120):
        eq = f"TEST{i:07d}"
        t = t0 + dt.timedelta(hours=rng.uniform(0, 24 * 120))
        for _ in range(rng.randint(1, 4)):
            typ = rng.choice(["DISC", "GTOT", "GTIN", "LOAD", "DISC", "GTOT"])
            cls = rng.choice(["ACT", "ACT", "ACT", "EST", "PLN"])
            events.append((eq, typ, cls, t.replace(microsecond=0), "VNHPH"))
            t += dt.timedelta(hours=rng.uniform(1, 300))
    rng.shuffle(events)  # files list events in any order
    lines = [HEADER] + [f"{e},{typ},{cls},{at.isoformat()},{loc},T1\n" for e, typ, cls, at, loc in events]
    path = tmp_path / "events.csv"
    path.write_text("".join(lines), encoding="utf-8")
    r = _ingest(ws, path)
    kept = [ev for ev in events]  # no duplicates in the stream; out-of-order ones are set aside
    aside = set(ws.store.quarantine(r.vintage_id)["line"])
    kept = [ev for i, ev in enumerate(events) if i + 2 not in aside]
    expected = _pairs_by_hand(kept)
    assert expected, "the stream must hold some pairs"
    for q, hours in expected.items():
        assert _value(ws, "PORT_IMPORT_DWELL_H", q) == pytest.approx(float(np.median(hours)))
        assert _value(ws, "PORT_IMPORT_DWELL_P90_H", q) == pytest.approx(float(np.quantile(hours, 0.9)))
        assert _value(ws, "PORT_IMPORT_CONTAINERS", q) == len(hours)


@pytest.mark.parametrize("row,code", [
    ("MSKU0000001,DISC,ACT,2025-07-01T08:00:00,VNHPH,HICT", "TIME_WITHOUT_ZONE"),
    ("MSKU0000001,DISC,ACT,2025-13-01T08:00:00+07:00,VNHPH,HICT", "BAD_TIME"),
    ("MSKU0000001,DISC,ACT,2025-07-01T08:00:00+07:00,VNXXX,HICT", "UNKNOWN_LOCODE"),
    ("MSKU0000001,DISCHARGE,ACT,2025-07-01T08:00:00+07:00,VNHPH,HICT", "UNKNOWN_CODE"),
    ("MSKU0000001,DISC,ACTUAL,2025-07-01T08:00:00+07:00,VNHPH,HICT", "UNKNOWN_CODE"),
    (",DISC,ACT,2025-07-01T08:00:00+07:00,VNHPH,HICT", "MISSING_VALUE"),
])
def test_a_malformed_record_refuses_the_file_whole(ws, tmp_path, row, code):
    good = "MSKU0000002,DISC,ACT,2025-07-01T08:00:00+07:00,VNHPH,HICT\n"
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + good + row + "\n", encoding="utf-8")
    before = len(ws.store.vintages())
    with pytest.raises(InputRejected) as e:
        _ingest(ws, path)
    codes = [p.code for p in e.value.problems]
    assert codes == [code] and e.value.problems[0].row == 3
    assert e.value.problems[0].vi and e.value.problems[0].en and e.value.problems[0].vi != e.value.problems[0].en
    assert len(ws.store.vintages()) == before


def test_a_missing_column_is_named(ws, tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("equipmentReference,eventDateTime\nX,2025-07-01T08:00:00+07:00\n", encoding="utf-8")
    with pytest.raises(InputRejected) as e:
        _ingest(ws, path)
    assert {p.code for p in e.value.problems} == {"MISSING_COLUMN"}
    assert any("equipmentEventTypeCode" in p.en for p in e.value.problems)


def test_sources_must_be_registered_and_own_the_dataset(ws):
    with pytest.raises(UsageError) as e:
        _ingest(ws, EX / "dcsa_events_hai_phong.csv", source="cang-hai-phng")
    assert e.value.code == "UNKNOWN_SOURCE" and "cang-hai-phong" in e.value.en
    with pytest.raises(UsageError) as e:
        _ingest(ws, EX / "dcsa_events_hai_phong.csv", source="hai-quan-hai-phong")
    assert e.value.code == "SOURCE_NOT_OWNER"
    with pytest.raises(UsageError) as e:
        _ingest(ws, EX / "dcsa_events_hai_phong.csv", adapter="dcsa-equipment-event")
    assert e.value.code == "UNKNOWN_ADAPTER" and "dcsa-equipment-events" in e.value.en
    from kinhteso.service.members import MemberAddRequest, add_member

    add_member(ws, MemberAddRequest("TAN_CANG_HP", "Tân Cảng Hải Phòng", "port"))
    assert _ingest(ws, EX / "dcsa_events_hai_phong.csv", source="TAN_CANG_HP").n_rows == 12


def test_the_same_events_twice_are_one_vintage_and_overlaps_count_once(ws, tmp_path):
    first = _ingest(ws, EX / "dcsa_events_hai_phong.csv")
    again = _ingest(ws, EX / "dcsa_events_hai_phong.csv")
    assert again.already_stored and again.vintage_id == first.vintage_id
    text = [x for x in (EX / "dcsa_events_hai_phong.csv").read_text(encoding="utf-8").splitlines()
            if not x.startswith("#")]
    path = tmp_path / "overlap.csv"  # the first six events again, and one new pair
    path.write_text("\n".join(text[:7] + ["ZZZU9990009,DISC,ACT,2025-08-01T00:00:00+07:00,VNHPH,HICT",
                                          "ZZZU9990009,GTOT,ACT,2025-08-01T12:00:00+07:00,VNHPH,HICT"]) + "\n",
                    encoding="utf-8")
    r = _ingest(ws, path)
    assert r.records["stored_already"] == 6
    assert _value(ws, "PORT_IMPORT_CONTAINERS", "2025-Q3") == 4      # 3 before, 1 new; none twice
    assert _value(ws, "PORT_IMPORT_DWELL_H", "2025-Q3") == pytest.approx((24 + 54) / 2)


def test_a_retraction_recomputes_without_the_records(ws, tmp_path):
    from kinhteso.service.data import RetractRequest, retract

    r = _ingest(ws, EX / "dcsa_events_hai_phong.csv")
    assert _value(ws, "PORT_IMPORT_DWELL_H", "2025-Q3") == pytest.approx(54.0)
    retract(ws, RetractRequest(r.vintage_id, reason="test"))
    assert _value(ws, "PORT_IMPORT_DWELL_H", "2025-Q3") is None
    assert _value(ws, "PORT_IMPORT_CONTAINERS", "2025-Q4") is None


def test_a_new_layout_needs_a_mapping_file_not_code(ws, tmp_path):
    (ws.root / "adapters").mkdir()
    (ws.root / "adapters" / "ben-x.yaml").write_text(
        "name: ben-x\ndataset: container_events\ncolumns:\n  equipment: Cont\n  event_type: Loai\n"
        "  classifier: TT\n  event_at: Luc\n  locode: Cang\nvalues:\n  event_type: {Do: DISC, Ra: GTOT}\n"
        "  classifier: {TH: ACT}\ntimezone: \"+07:00\"\n", encoding="utf-8")
    path = tmp_path / "x.csv"
    path.write_text("Cont;Loai;TT;Luc;Cang\nA1;Do;TH;2025-07-01 00:00;VNHPH\nA1;Ra;TH;2025-07-01 10:30;VNHPH\n",
                    encoding="utf-8")
    r = _ingest(ws, path, adapter="ben-x")
    assert r.n_rows == 2 and _value(ws, "PORT_IMPORT_DWELL_H", "2025-Q3") == pytest.approx(10.5)
    (ws.root / "adapters" / "bad.yaml").write_text("name: bad\ndataset: container_events\ncolumns: {equipment: X}\n",
                                                   encoding="utf-8")
    from kinhteso.errors import ReferenceDataError

    with pytest.raises(ReferenceDataError) as e:
        _ingest(ws, path, adapter="ben-x")
    assert "event_type" in e.value.en


def test_the_cli_names_the_checks_commands(tmp_path):
    import json

    from click.testing import CliRunner

    from kinhteso.cli import main

    w = str(tmp_path / "ws")
    run = CliRunner().invoke
    assert run(main, ["init", w]).exit_code == 0
    r = run(main, ["ingest", str(EX / "dcsa_events_hai_phong.csv"), "--adapter", "dcsa-equipment-events",
                   "--source", "cang-hai-phong", "--workspace", w])
    assert r.exit_code == 0, r.output
    r = run(main, ["results", "--indicator", "PORT_IMPORT_DWELL_H", "--territory", "34:31", "--period", "2025-Q3",
                   "--format", "json", "--workspace", w])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert len(rows) == 1 and rows[0]["value"] == pytest.approx(54.0) and rows[0]["unit"] == "HOURS"
    r = run(main, ["--lang", "en", "figure", "--indicator", "PORT_IMPORT_DWELL_P90_H", "--territory", "34:31",
                   "--period", "2025-Q3", "--workspace", w])
    assert r.exit_code == 0 and "97.2" in r.output
    r = run(main, ["quarantine", "--format", "json", "--workspace", w])
    assert json.loads(r.output)[0]["reason"] == "DUPLICATE_EVENT"
    r = run(main, ["adapters", "--format", "json", "--workspace", w])
    assert {a["adapter"] for a in json.loads(r.output)} >= {"dcsa-equipment-events", "cang-hai-phong-container"}


def test_every_sample_file_loads_with_a_shipped_adapter(ws):
    from kinhteso.reference.datasets import adapters

    names = {"dcsa_events_hai_phong.csv": ("dcsa-equipment-events", "cang-hai-phong"),
             "cang_hai_phong_container.csv": ("cang-hai-phong-container", "cang-hai-phong"),
             "vessel_calls_hai_phong.csv": ("vessel-calls", "cang-vu-hai-phong"),
             "customs_declarations_hai_phong.csv": ("customs-declarations", "hai-quan-hai-phong"),
             "delivery_orders_hai_phong.csv": ("delivery-orders", "cang-hai-phong"),
             "eport_payments_hai_phong.csv": ("eport-payments", "cang-hai-phong")}
    from kinhteso.reference.datasets import datasets

    logistics = {n for n, a in adapters().items() if datasets()[a.dataset].path == "datasets.yaml"}
    assert {a for a, _ in names.values()} == logistics                # a sample for every logistics adapter
    for f, (a, src) in names.items():
        assert _ingest(ws, EX / f, adapter=a, source=src).n_rows > 0


def test_the_registry_is_consistent():
    from kinhteso.reference.datasets import datasets, locodes, sources
    from kinhteso.reference.indicators import load_indicators
    from kinhteso.reference.territories import get_territory

    reg = load_indicators()
    for ds in datasets().values():
        assert all(d.code in reg for d in ds.derived)
    for code, terr in locodes().items():
        assert len(code) == 5 and code.startswith("VN") and get_territory(terr).basis == 34
    assert {"cang-hai-phong", "hai-quan-hai-phong", "thue-hai-phong"} <= set(sources())


def test_quarters_follow_viet_nam_time(ws, tmp_path):
    path = tmp_path / "q.csv"  # out at 2025-09-30T20:00Z = 1 October 03:00 in Viet Nam: 2025-Q4
    path.write_text(HEADER + "B1,DISC,ACT,2025-09-29T20:00:00Z,VNHPH,T\nB1,GTOT,ACT,2025-09-30T20:00:00Z,VNHPH,T\n",
                    encoding="utf-8")
    _ingest(ws, path)
    assert _value(ws, "PORT_IMPORT_DWELL_H", "2025-Q4") == pytest.approx(24.0)
    assert _value(ws, "PORT_IMPORT_DWELL_H", "2025-Q3") is None
    pd.testing.assert_index_equal(pd.Index([1]), pd.Index([1]))


def test_a_port_submits_its_events_over_the_api_within_its_grant(tmp_path):
    from fastapi.testclient import TestClient

    from kinhteso.api import create_app
    from kinhteso.service import members as M
    from kinhteso.service.workspace import InitRequest, init
    from kinhteso.workspace import Workspace

    root = tmp_path / "ws"
    init(InitRequest(root))
    with Workspace.open(root) as w:
        M.add_member(w, M.MemberAddRequest("CANG_HP", "Cảng Hải Phòng", "port"))
        M.add_member(w, M.MemberAddRequest("HQ_HP", "Hải quan Hải Phòng", "customs"))
        M.grant(w, M.GrantRequest("CANG_HP", "submitter", ("PORT_IMPORT_DWELL_H", "PORT_IMPORT_DWELL_P90_H",
                                                           "PORT_IMPORT_CONTAINERS"), ("34:31",)))
        M.grant(w, M.GrantRequest("HQ_HP", "submitter", None, ("34:31",)))
        M.grant(w, M.GrantRequest("CANG_HP", "reader", None, ("34:31",)))
        port = M.create_token(w, M.TokenCreateRequest("CANG_HP")).token
        customs = M.create_token(w, M.TokenCreateRequest("HQ_HP")).token
    data = (EX / "dcsa_events_hai_phong.csv").read_bytes()
    with TestClient(create_app(root)) as c:
        c.app.state.ingest_processes = False
        r = c.post("/api/v1/submissions?adapter=dcsa-equipment-events", headers={"Authorization": f"Bearer {customs}"},
                   files={"file": ("events.csv", data, "text/csv")})
        assert r.status_code == 400 and r.json()["code"] == "SOURCE_NOT_OWNER"
        r = c.post("/api/v1/submissions?adapter=dcsa-equipment-events", headers={"Authorization": f"Bearer {port}"},
                   files={"file": ("events.csv", data, "text/csv")})
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["records"]["aside"] == {"DUPLICATE_EVENT": 1} and body["rows"] == 12
        r = c.get("/api/v1/results?indicator=PORT_IMPORT_DWELL_H&territory=34:31&period=2025-Q3",
                  headers={"Authorization": f"Bearer {port}"})
        assert r.status_code == 200 and r.json()[0]["value"] == pytest.approx(54.0)


def test_the_port_indicators_appear_in_the_briefing_and_the_dashboard(ws):
    from fastapi.testclient import TestClient

    from kinhteso.api import create_app
    from kinhteso.service.report import ReportRequest, build_report

    _ingest(ws, EX / "dcsa_events_hai_phong.csv")
    content = build_report(ws, ReportRequest("34:31", "2025", lang="en"))
    port = next(t for t in content.tables() if t.key == "port")
    assert [r[0] for r in port.rows] == ["2025-Q3", "2025-Q4"]
    assert port.rows[0][1:] == [pytest.approx(54.0), pytest.approx(97.2), 3.0]
    root = ws.root
    ws.close()
    with TestClient(create_app(root)) as c:
        page = c.get("/province/34_31?period=2025&lang=en").text
        assert 'id="table-port"' in page and "Import dwell, median" in page
        csv_text = c.get("/download/province/port.csv?territory=34_31&period=2025&lang=en").content.decode("utf-8-sig")
        assert "54.0" in csv_text


def test_vessel_calls_hand_computed(ws):
    r = _ingest(ws, EX / "vessel_calls_hai_phong.csv", adapter="vessel-calls", source="cang-vu-hai-phong")
    assert r.n_rows == 4 and r.records["aside"] == {"TIMES_OUT_OF_ORDER": 1}
    # 2025-Q3 departures: 30 h (NSW), 50 h (not), 20 h (NSW); at berth 20 h and 10 h for 1 500 + 900 TEU
    assert _value(ws, "PORT_NSW_SHARE", "2025-Q3") == pytest.approx(200 / 3)
    assert _value(ws, "PORT_VESSEL_HOURS", "2025-Q3") == pytest.approx(30.0)
    assert _value(ws, "PORT_TEU_PER_BERTH_HOUR", "2025-Q3") == pytest.approx(80.0)
    # the call leaving on 1 October belongs to 2025-Q4: 22 h in port, 1 600 TEU in 14 h at berth
    assert _value(ws, "PORT_VESSEL_HOURS", "2025-Q4") == pytest.approx(22.0)
    assert _value(ws, "PORT_TEU_PER_BERTH_HOUR", "2025-Q4") == pytest.approx(1600 / 14)


def test_a_call_sent_again_with_corrected_times_replaces_the_first(ws, tmp_path):
    _ingest(ws, EX / "vessel_calls_hai_phong.csv", adapter="vessel-calls", source="cang-vu-hai-phong")
    fix = tmp_path / "fix.csv"
    fix.write_text("Số chuyến,Cảng,Bến,Tàu (IMO),Thời gian đến,Thời gian cập cầu,Thời gian rời,GT,TEU xếp dỡ,Qua NSW\n"
                   "HP25-0702,Hải Phòng,TVT,9456721,2025-07-10 08:00,2025-07-10 20:00,2025-07-11 08:00,23000,800,Có\n",
                   encoding="utf-8")
    _ingest(ws, fix, adapter="vessel-calls", source="cang-vu-hai-phong")
    assert _value(ws, "PORT_NSW_SHARE", "2025-Q3") == pytest.approx(100.0)          # now three of three
    assert _value(ws, "PORT_VESSEL_HOURS", "2025-Q3") == pytest.approx(24.0)        # 30, 24, 20
    assert _value(ws, "PORT_TEU_PER_BERTH_HOUR", "2025-Q3") == pytest.approx(3200 / 42)


@pytest.mark.parametrize("cells,code", [("abc", "BAD_NUMBER"), ("-5", "NEGATIVE_NUMBER")])
def test_vessel_call_numbers_are_checked(ws, tmp_path, cells, code):
    bad = tmp_path / "bad.csv"
    bad.write_text("Số chuyến,Cảng,Bến,Tàu (IMO),Thời gian đến,Thời gian cập cầu,Thời gian rời,GT,TEU xếp dỡ,Qua NSW\n"
                   f"X1,Hải Phòng,TVT,1,2025-07-10 08:00,,2025-07-11 08:00,100,{cells},Có\n", encoding="utf-8")
    with pytest.raises(InputRejected) as e:
        _ingest(ws, bad, adapter="vessel-calls", source="cang-vu-hai-phong")
    assert [p.code for p in e.value.problems] == [code] and e.value.problems[0].column == "teu"


def test_declarative_shares_hand_computed(ws, tmp_path):
    r = _ingest(ws, EX / "customs_declarations_hai_phong.csv", adapter="customs-declarations",
                source="hai-quan-hai-phong")
    assert r.n_rows == 5 and r.records["aside"] == {"DUPLICATE_EVENT": 1}
    assert _value(ws, "CUSTOMS_E_DECLARATION_SHARE", "2025-Q3") == pytest.approx(75.0)
    assert _value(ws, "CUSTOMS_GREEN_SHARE", "2025-Q3") == pytest.approx(50.0)
    assert _value(ws, "CUSTOMS_GREEN_SHARE", "2025-Q4") == pytest.approx(100.0)
    _ingest(ws, EX / "delivery_orders_hai_phong.csv", adapter="delivery-orders")
    assert _value(ws, "PORT_EDO_SHARE", "2025-Q3") == pytest.approx(60.0)
    _ingest(ws, EX / "eport_payments_hai_phong.csv", adapter="eport-payments")
    assert _value(ws, "PORT_EPAYMENT_SHARE", "2025-Q3") == pytest.approx(75.0)
    # a declaration sent again with another channel replaces the first
    fix = tmp_path / "fix.csv"
    fix.write_text("Số tờ khai,Cảng làm thủ tục,Ngày đăng ký,Loại hình,Phân luồng,Tờ khai điện tử\n"
                   "105012345604,Hải Phòng,2025-09-05 16:00,Nhập khẩu,Xanh,Có\n", encoding="utf-8")
    _ingest(ws, fix, adapter="customs-declarations", source="hai-quan-hai-phong")
    assert _value(ws, "CUSTOMS_E_DECLARATION_SHARE", "2025-Q3") == pytest.approx(100.0)
    assert _value(ws, "CUSTOMS_GREEN_SHARE", "2025-Q3") == pytest.approx(75.0)
    with pytest.raises(UsageError) as e:  # a port does not submit customs declarations
        _ingest(ws, fix, adapter="customs-declarations", source="cang-hai-phong")
    assert e.value.code == "SOURCE_NOT_OWNER"


def test_a_share_must_name_codes_of_its_field():
    from kinhteso.reference.datasets import datasets

    for ds in datasets().values():
        for d in ds.derived:
            if d.share_field:
                assert set(d.share_values) <= set(ds.field(d.share_field).codes) and ds.period_field
