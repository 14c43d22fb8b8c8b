"""Hải Phòng's five priority sectors: the departments' records through their adapters, the indicators
derived from them (hand-computed on the sample files of examples/sectors/), bad input, the
``haiphong-priority`` framework (``kinhteso index``) and the gaps to the published targets."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import figure_value, ingest_records

from kinhteso.errors import InputRejected, UsageError

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples" / "sectors"
LOG = ROOT / "examples" / "logistics"

#: (sample file, adapter, source, records kept, records set aside)
SAMPLES = [
    ("so_y_te_bao_cao_thang.csv", "so-y-te-bao-cao-thang", "so-y-te-hai-phong", 12, {}),
    ("co_so_kham_chua_benh_quang_ninh.csv", "co-so-kham-chua-benh", "minh-hoa", 9, {}),
    ("truong_hoc_hai_phong.csv", "so-giao-duc-truong-hoc", "so-giao-duc-hai-phong", 12, {"DUPLICATE_EVENT": 1}),
    ("cap_phep_xay_dung_hai_phong.csv", "cap-phep-xay-dung", "so-xay-dung-hai-phong-cap-phep", 9, {}),
    ("ho_so_dat_dai_moi_truong.csv", "ho-so-dat-dai-moi-truong", "so-nong-nghiep-moi-truong-hai-phong", 11, {}),
    ("ve_phi_giao_thong_hai_phong.csv", "ve-phi-giao-thong", "so-xay-dung-hai-phong", 9, {}),
]
LOGISTICS = [
    ("vessel_calls_hai_phong.csv", "vessel-calls", "cang-vu-hai-phong"),
    ("customs_declarations_hai_phong.csv", "customs-declarations", "hai-quan-hai-phong"),
    ("delivery_orders_hai_phong.csv", "delivery-orders", "cang-hai-phong"),
    ("eport_payments_hai_phong.csv", "eport-payments", "cang-hai-phong"),
]


@pytest.fixture
def ws(tmp_path):
    from kinhteso.service.workspace import InitRequest, init
    from kinhteso.workspace import Workspace

    init(InitRequest(tmp_path / "ws"))
    with Workspace.open(tmp_path / "ws") as w:
        yield w


def _ingest(ws, path, adapter, source, **kw):
    return ingest_records(ws, path, adapter, source=source, **kw)


_value = figure_value


@pytest.fixture(scope="module")
def loaded_once(tmp_path_factory):
    """A workspace holding every sector sample and the logistics samples the framework reads (built once)."""
    from kinhteso.service.workspace import InitRequest, init
    from kinhteso.workspace import Workspace

    root = tmp_path_factory.mktemp("sectors") / "ws"
    init(InitRequest(root))
    with Workspace.open(root) as w:
        for name, adapter, source, *_ in SAMPLES:
            _ingest(w, EX / name, adapter, source, illustrative=True)
        for name, adapter, source in LOGISTICS:
            _ingest(w, LOG / name, adapter, source, illustrative=True)
    return root


@pytest.fixture
def loaded(loaded_once, tmp_path):
    """A copy of :func:`loaded_once`'s workspace, open (a test may add to it)."""
    import shutil

    from kinhteso.workspace import Workspace

    root = tmp_path / "loaded"
    shutil.copytree(loaded_once, root, ignore=shutil.ignore_patterns("tmp", "*.lock", "*.intent"))
    with Workspace.open(root) as w:
        yield w


@pytest.mark.parametrize("name,adapter,source,kept,aside", SAMPLES, ids=[s[1] for s in SAMPLES])
def test_every_shipped_sector_adapter_loads_its_sample(ws, name, adapter, source, kept, aside):
    r = _ingest(ws, EX / name, adapter, source, illustrative=True)
    assert r.records["aside"] == aside and r.n_rows == kept  # n_rows: the records kept


def test_every_sector_adapter_has_a_sample():
    from kinhteso.reference.datasets import adapters, datasets

    sector = {c for c, d in datasets().items() if d.path.startswith("datasets_sectors")}
    assert sector == {"health_facility_months", "school_months", "building_permit_applications",
                      "land_environment_dossiers", "transport_fares"}
    shipped = {a.name for a in adapters().values() if a.dataset in sector}
    assert shipped == {s[1] for s in SAMPLES}
    assert {d.unit_field for c, d in datasets().items() if c in sector} == {"facility", "school", "office", "unit"}


def test_hand_computed_health_indicators_from_the_wide_sheet(ws):
    _ingest(ws, EX / "so_y_te_bao_cao_thang.csv", "so-y-te-bao-cao-thang", "so-y-te-hai-phong")
    # 2025-Q3 (July–September), three facilities: visits 3 000 + 1 500 + 500, with a record 2 100 + 450 + 150
    assert _value(ws, "HEALTH_EHR_SHARE", "2025-Q3") == pytest.approx(100 * (2100 + 450 + 150) / (3000 + 1500 + 500))
    # fees 1 200 + 300 + 150 million đồng, without cash 720 + 90 + 15 million
    assert _value(ws, "HEALTH_CASHLESS_SHARE", "2025-Q3") == pytest.approx(100 * (720 + 90 + 15) / (1200 + 300 + 150))
    # 2025-Q4 (October only): 900 + 250 + 40 of 1 000 + 500 + 200 visits; 300 + 50 + 35 of 400 + 100 + 50 million
    assert _value(ws, "HEALTH_EHR_SHARE", "2025-Q4") == pytest.approx(100 * 1190 / 1700)
    assert _value(ws, "HEALTH_CASHLESS_SHARE", "2025-Q4") == pytest.approx(100 * 385 / 550)
    res = ws.store.results(indicator="HEALTH_EHR_SHARE", territory="34:31")
    assert set(res["kind"]) == {"logistics"} and set(res["unit"]) == {"PCT"} and set(res["basis"]) == {"estimated"}


def test_the_same_dataset_in_a_long_layout_gives_each_province_its_own_figure(ws):
    _ingest(ws, EX / "so_y_te_bao_cao_thang.csv", "so-y-te-bao-cao-thang", "so-y-te-hai-phong")
    _ingest(ws, EX / "co_so_kham_chua_benh_quang_ninh.csv", "co-so-kham-chua-benh", "minh-hoa")
    # Quảng Ninh (34:22), three facilities × three months: 3 × (400 + 100 + 175) of 3 × (800 + 400 + 300)
    assert _value(ws, "HEALTH_EHR_SHARE", "2025-Q3", "34:22") == pytest.approx(100 * 3 * 675 / (3 * 1500))
    assert _value(ws, "HEALTH_CASHLESS_SHARE", "2025-Q3", "34:22") == pytest.approx(100 * 3 * 200 / (3 * 500))
    assert _value(ws, "HEALTH_EHR_SHARE", "2025-Q3") == pytest.approx(54.0)  # Hải Phòng unchanged


def test_hand_computed_education_construction_environment_transport(ws):
    for name, adapter, source, *_ in SAMPLES[2:]:
        _ingest(ws, EX / name, adapter, source)
    # schools: digital records in 3 + 1 + 2 + 3 of 12 school-months (the duplicate set aside, not counted)
    assert _value(ws, "EDU_DIGITAL_RECORD_SHARE", "2025-Q3") == pytest.approx(100 * 9 / 12)
    # fees 3 × (100 + 50 + 50 + 100) million, without cash 3 × (80 + 20 + 10 + 40) million
    assert _value(ws, "EDU_CASHLESS_FEE_SHARE", "2025-Q3") == pytest.approx(100 * 450 / 900)
    # permits: 5 of 8 online in Q3 (23:30 on 30 September, Viet Nam time, is Q3); Q4: 1 of 1
    assert _value(ws, "CONSTR_ONLINE_PERMIT_SHARE", "2025-Q3") == pytest.approx(62.5)
    assert _value(ws, "CONSTR_ONLINE_PERMIT_SHARE", "2025-Q4") == pytest.approx(100.0)
    # land and environment dossiers: 4 of 10 online
    assert _value(ws, "ENV_ONLINE_DOSSIER_SHARE", "2025-Q3") == pytest.approx(40.0)
    # tickets and tolls: (3 × 5 000 + 54 000 + 54 000 + 57 000 + 3 × 1 000) of 3 × 100 000
    assert _value(ws, "TRANSPORT_E_TICKET_SHARE", "2025-Q3") == pytest.approx(100 * 183_000 / 300_000)
    units = ws.store.results(indicator="CONSTR_ONLINE_PERMIT_SHARE", territory="34:31", period="2025-Q3")["units"]
    assert int(units.iloc[0]) == 3  # three receiving offices: the cell may be shared (disclosure)


def test_a_workbook_with_merged_header_cells_reads_as_its_csv(ws, tmp_path):
    import csv

    from openpyxl import Workbook

    rows = [r for r in csv.reader((EX / "so_y_te_bao_cao_thang.csv").read_text(encoding="utf-8").splitlines())
            if r and not r[0].startswith("#")]
    wb = Workbook()
    sh = wb.active
    for r in rows:
        sh.append([int(c) if c.isdigit() else (c or None) for c in r])
    for col in range(2, len(rows[1]) + 1, 4):  # each month's cell merged over its four measures
        sh.merge_cells(start_row=2, start_column=col, end_row=2, end_column=col + 3)
    sh.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[1]))
    path = tmp_path / "so_y_te.xlsx"
    wb.save(path)
    r = _ingest(ws, path, "so-y-te-bao-cao-thang", "so-y-te-hai-phong")
    assert r.n_rows == 12
    assert _value(ws, "HEALTH_EHR_SHARE", "2025-Q3") == pytest.approx(54.0)
    assert _value(ws, "HEALTH_CASHLESS_SHARE", "2025-Q4") == pytest.approx(70.0)


BAD = [  # a school row with one problem each: the file is refused whole, with the row and a vi/en reason
    ("Trường X,Atlantis,T7/2025,THCS,Có,100,50", "UNKNOWN_TERRITORY"),
    ("Trường X,Hải Phòng,Tháng 13/2025,THCS,Có,100,50", "BAD_MONTH"),
    ("Trường X,Hải Phòng,quý 3,THCS,Có,100,50", "BAD_MONTH"),
    ("Trường X,Hải Phòng,T7/2025,THCS,Có,-100,50", "NEGATIVE_NUMBER"),
    ("Trường X,Hải Phòng,T7/2025,THCS,Có,một trăm,50", "BAD_NUMBER"),
    ("Trường X,Hải Phòng,T7/2025,THCS,Chưa rõ,100,50", "UNKNOWN_CODE"),
]
SCHOOL_HEADER = "Tên trường,Tỉnh/thành phố,Tháng báo cáo,Cấp học,Học bạ số,Tổng thu (đồng),Thu không dùng tiền mặt (đồng)\n"
SCHOOL_OK = "Trường Y,Hải Phòng,T7/2025,THPT,Có,100,50\n"


@pytest.mark.parametrize("row,code", BAD, ids=[f"{c}-{i}" for i, (_, c) in enumerate(BAD)])
def test_a_malformed_record_refuses_the_file_whole(ws, tmp_path, row, code):
    path = tmp_path / "schools.csv"
    path.write_text(SCHOOL_HEADER + SCHOOL_OK + row + "\n", encoding="utf-8")
    with pytest.raises(InputRejected) as e:
        _ingest(ws, path, "so-giao-duc-truong-hoc", "so-giao-duc-hai-phong")
    [p] = e.value.problems
    assert p.code == code and p.row == 3 and p.vi and p.en and p.vi != p.en
    assert ws.store.results(indicator="EDU_DIGITAL_RECORD_SHARE").empty  # nothing stored


def test_a_part_larger_than_its_whole_refuses_the_file(ws, tmp_path):
    path = tmp_path / "transport.csv"
    path.write_text("Đơn vị/Trạm,Địa bàn,Tháng,Loại hình,Tổng giao dịch,Giao dịch điện tử\n"
                    "Trạm X,Hải Phòng,2025-07,Trạm thu phí,100,120\n"
                    "Trạm Y,Hải Phòng,2025-07,Trạm thu phí,100,100\n", encoding="utf-8")
    with pytest.raises(InputRejected) as e:
        _ingest(ws, path, "ve-phi-giao-thong", "so-xay-dung-hai-phong")
    [p] = e.value.problems
    assert (p.code, p.row, p.column) == ("PART_EXCEEDS_WHOLE", 2, "transactions_electronic")
    assert "120" in p.en and "100" in p.vi
    assert ws.store.record_vintages().empty


def test_a_department_submits_only_its_own_dataset(ws):
    with pytest.raises(UsageError) as e:
        _ingest(ws, EX / "truong_hoc_hai_phong.csv", "so-giao-duc-truong-hoc", "so-y-te-hai-phong")
    assert e.value.code == "SOURCE_NOT_OWNER"


def test_a_record_sent_again_replaces_the_earlier_one(ws, tmp_path):
    _ingest(ws, EX / "ve_phi_giao_thong_hai_phong.csv", "ve-phi-giao-thong", "so-xay-dung-hai-phong")
    fix = tmp_path / "fix.csv"  # the ferry's September corrected: 3 000 electronic instead of 1 000
    fix.write_text("Đơn vị/Trạm,Địa bàn,Tháng,Loại hình,Tổng giao dịch,Giao dịch điện tử\n"
                   "Bến phà Y,Hải Phòng,2025-09,Phà,20000,3000\n", encoding="utf-8")
    _ingest(ws, fix, "ve-phi-giao-thong", "so-xay-dung-hai-phong")
    assert _value(ws, "TRANSPORT_E_TICKET_SHARE", "2025-Q3") == pytest.approx(100 * 185_000 / 300_000)


# --- the framework -------------------------------------------------------------------------------
#: 2025-Q3 of the samples, each on its goalposts [0, max] (clipped), then pillars and index (equal weights)
HAND_Q3 = {
    "y_te": (54 / 90 + 50 / 100) / 2,
    "giao_duc": (75 / 100 + 50 / 100) / 2,
    "xay_dung": min(1.0, 62.5 / 50),
    "moi_truong": 40 / 50,
    "giao_thong": 61 / 100,
    "logistics": (100 * 2 / 3 / 100 + 60 / 100 + 75 / 100 + 75 / 100) / 4,  # NSW, eDO, ePort, e-declarations
}


def _score(ws, period, **kw):
    from kinhteso.service.index import IndexRequest, score_index

    return score_index(ws, IndexRequest(period=period, framework="haiphong-priority", n=0, **kw))


def test_the_priority_framework_scores_hai_phong_by_hand(loaded):
    res = _score(loaded, "2025-Q3")
    assert res.table["territory"].tolist() == ["34:31"]  # Quảng Ninh has health data only: left out
    assert res.table["score"].iloc[0] == pytest.approx(sum(HAND_Q3.values()) / 6)
    pillars = res.coin.data["Aggregated"]
    for code, value in HAND_Q3.items():
        assert pillars.loc["34:31", code] == pytest.approx(value)
    p = res.provenance
    assert p["framework"] == "haiphong-priority" and p["illustrative"] and p["input_runs"]
    assert [x["territory"] for x in p["left_out"]] == ["34:22"] and "HEALTH_EHR_SHARE" not in p["left_out"][0]["missing"]
    assert any("34:22" in en for _vi, en in res.notes) and p["input_vintages"]


def test_a_submitted_figure_comes_before_the_derived_one(loaded, tmp_path):
    sub = tmp_path / "ehr.csv"
    sub.write_text("indicator,territory,basis,sector,period,value,unit,status\n"
                   "HEALTH_EHR_SHARE,Hải Phòng,34,_T,2025-Q3,81,PCT,A\n", encoding="utf-8")
    from kinhteso.service.data import IngestRequest, ingest

    [out] = ingest(loaded, IngestRequest(files=(sub,), source="so-y-te-hai-phong"))
    assert out.rejected is None
    res = _score(loaded, "2025-Q3")
    hand = dict(HAND_Q3, y_te=(81 / 90 + 50 / 100) / 2)
    assert res.table["score"].iloc[0] == pytest.approx(sum(hand.values()) / 6)


def test_a_year_is_computed_from_its_records(loaded):
    res = _score(loaded, "2025")
    raw = res.coin.data["Raw"].loc["34:31"]
    # the year's ratio of sums, not the mean of its quarters (54 %, 70 %): EHR visits
    # (600+700+800 + 100+150+200 + 50+50+50) + October's (900 + 250 + 40) / visits (5 000 + 1 700)
    assert raw["HEALTH_EHR_SHARE"] == pytest.approx(100 * 3890 / 6700)
    assert raw["TRANSPORT_E_TICKET_SHARE"] == pytest.approx(61)  # Q3 only
    assert any("fewer than 4 quarters" in en for _vi, en in res.notes)


def test_no_data_for_the_period_is_said(loaded):
    from kinhteso.errors import MethodError

    with pytest.raises(MethodError) as e:
        _score(loaded, "2024-Q3")
    assert e.value.code == "INDEX_NO_DATA" and "2025-Q3" in e.value.en


def test_index_cli_scores_the_framework(loaded):
    from click.testing import CliRunner

    from kinhteso.cli import main

    out = CliRunner().invoke(main, ["--lang", "en", "index", "--framework", "haiphong-priority", "--period", "2025-Q3",
                                    "--workspace", str(loaded.root), "--format", "json"])
    assert out.exit_code == 0, out.output
    assert '"34:31"' in out.output and "haiphong-priority" in out.output


def test_gaps_show_the_e_health_target(loaded):
    from kinhteso.service.targets import GapsRequest, gaps

    rows = gaps(loaded, GapsRequest(territory="34:31", indicator="HEALTH_EHR_SHARE", inherit_national=True)).rows
    r25 = next(r for r in rows if r["target_year"] == 2025)
    # no submitted annual figure: the year derived from the year's records, 3 890 / 6 700
    assert r25["latest_value"] == pytest.approx(100 * 3890 / 6700) and r25["latest_period"] == "2025"
    assert r25["target_value"] == 90 and r25["gap"] == pytest.approx(90 - 100 * 3890 / 6700) and r25["inherited"]
    assert "QĐ 411" in r25["target_source"] and "kinhteso:logistics" in r25["source"] and r25["illustrative"]


def test_no_target_is_invented_for_the_sectors_without_one():
    from kinhteso.reference.targets import load_targets

    have = {t.indicator for t in load_targets()}
    assert {"HEALTH_EHR_SHARE", "CONSTR_ONLINE_PERMIT_SHARE", "ENV_ONLINE_DOSSIER_SHARE"} <= have
    assert not have & {"HEALTH_CASHLESS_SHARE", "EDU_DIGITAL_RECORD_SHARE", "EDU_CASHLESS_FEE_SHARE",
                       "TRANSPORT_E_TICKET_SHARE"}


def test_every_framework_indicator_is_registered_and_derived():
    from kinhteso.pipeline.derived import record_indicators
    from kinhteso.pipeline.index import FRAMEWORK_INPUTS
    from kinhteso.reference.frameworks import load_framework
    from kinhteso.reference.indicator_sheets import load_sheets
    from kinhteso.reference.indicators import load_indicators

    fw = load_framework("haiphong-priority")
    cols = FRAMEWORK_INPUTS["haiphong-priority"].resolve(fw)
    assert set(cols) == set(fw.indicators)
    for code in fw.indicators:
        assert code in record_indicators() and code in load_sheets() and load_indicators()[code].units == ("PCT",)
    meta = fw.meta.set_index("iCode")
    assert meta.loc["HEALTH_EHR_SHARE", "Max"] == 90 and meta.loc["HEALTH_CASHLESS_SHARE", "Max"] == 100
    assert {a["code"] for a in fw.assumptions} >= {"max_100", "ehr_people_as_visits", "online_services_as_dossiers"}


# --- the demo generator --------------------------------------------------------------------------
def test_the_demo_generator_is_seeded_labelled_and_loads(ws, tmp_path):
    from kinhteso.demo.sectors import write_sector_files

    a = write_sector_files(tmp_path / "a", seed=3)
    b = write_sector_files(tmp_path / "b", seed=3)
    assert [p.read_bytes() for _, _, p in a] == [p.read_bytes() for _, _, p in b]
    for adapter, source, path in a:
        assert "ILLUSTRATIVE" in path.read_text(encoding="utf-8").splitlines()[1]
        _ingest(ws, path, adapter, source, illustrative=True)
    res = ws.store.results(kind="logistics", indicator="HEALTH_EHR_SHARE", period="2025-Q4")
    assert set(res["territory"]) == {"34:31", "34:79", "34:01", "34:48"}
    assert res["units"].astype(int).min() >= 3 and res["illustrative"].all()
    q = ws.store.results(kind="logistics", indicator="CONSTR_ONLINE_PERMIT_SHARE", territory="34:31")
    by = q.set_index("period")["value"]
    assert by["2025-Q4"] > by["2025-Q1"]  # the share rises over the year (the generator's setting)
