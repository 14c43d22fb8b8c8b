"""The record engine's general layouts, on a dataset declared in the test itself (a new dataset
needs a registry entry, not code or a migration): a province written as a name, months written as
Vietnamese sheets write them, months across columns under two header rows (an upper cell merged
over its sub-headers, in CSV and in XLSX), a value given by the adapter for every record, and the
declared weighted shares and ratios, each with the number of reporting units behind it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import ingest_records

from kinhteso.errors import InputRejected

DATASETS = textwrap.dedent("""
    datasets:
      - code: clinic_reports
        name_vi: Báo cáo tháng của cơ sở khám chữa bệnh (thử)
        name_en: Clinics' monthly reports (test)
        owner_kind: health
        description_vi: Mỗi bản ghi là một cơ sở trong một tháng.
        description_en: One record per clinic and month.
        key: [clinic, month]
        unit_field: clinic
        period_field: month
        fields:
          - {name: clinic, type: text, required: true, vi: Cơ sở, en: Clinic}
          - {name: place, type: territory, required: true, vi: Tỉnh, en: Province}
          - {name: month, type: month, required: true, vi: Tháng, en: Month}
          - {name: visits, type: number, required: true, vi: Lượt khám, en: Visits}
          - {name: visits_ehr, type: number, required: false, vi: Lượt có HSSKĐT, en: Visits with an EHR}
          - {name: cashless, type: code, codes: [Y, N], required: false, vi: Thanh toán không tiền mặt, en: Cashless}
        derived:
          - code: TEST_EHR_SHARE
            ratio: {numerator: visits_ehr, denominator: visits}
            formula_vi: 100 × Σ lượt có HSSKĐT / Σ lượt khám.
            formula_en: 100 × Σ visits with an EHR / Σ visits.
          - code: TEST_CASHLESS_VISITS
            share: {field: cashless, values: [Y], weight: visits}
            formula_vi: 100 × Σ lượt khám của cơ sở thanh toán không tiền mặt / Σ lượt khám.
            formula_en: 100 × Σ visits of cashless clinics / Σ visits.
""")


@pytest.fixture
def registry(monkeypatch):
    from kinhteso.reference import datasets as D

    shipped = D._dataset_files()
    monkeypatch.setattr(D, "_dataset_files", lambda: [*shipped, ("datasets_test.yaml", DATASETS)])
    D.datasets.cache_clear()
    D._shipped_adapters.cache_clear()
    yield D
    monkeypatch.undo()
    D.datasets.cache_clear()
    D._shipped_adapters.cache_clear()


@pytest.fixture
def ws(tmp_path, registry):
    from kinhteso.service.workspace import InitRequest, init
    from kinhteso.workspace import Workspace

    init(InitRequest(tmp_path / "ws"))
    with Workspace.open(tmp_path / "ws") as w:
        yield w


def _adapter(ws, name: str, text: str) -> str:
    folder = Path(ws.root) / "adapters"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(f"name: {name}\ndataset: clinic_reports\n" + textwrap.dedent(text), encoding="utf-8")
    return name


def _ingest(ws, path, adapter):
    return ingest_records(ws, path, adapter)


def _results(ws, indicator):
    r = ws.store.results(indicator=indicator)
    return {(t, p): (round(v, 6), u) for t, p, v, u in zip(r["territory"], r["period"], r["value"], r["units"])}


LONG = """Cơ sở,Tỉnh,Tháng,Lượt khám,Lượt có HSSKĐT,Không tiền mặt
BV1,Hải Phòng,T7/2025,100,80,Có
BV2,Hai Phong,07/2025,300,150,Không
BV3,34:31,Tháng 8/2025,50,,Có
BV4,Hải Dương,2025-09,50,50,Có
BV9,TP Hồ Chí Minh,2025-07,10,1,Có
"""


def test_long_layout_names_months_and_provinces_as_sheets_write_them(ws, tmp_path):
    name = _adapter(ws, "clinics-long", """
        columns: {clinic: Cơ sở, place: Tỉnh, month: Tháng, visits: Lượt khám, visits_ehr: Lượt có HSSKĐT, cashless: Không tiền mặt}
        values: {cashless: {"Có": Y, "Không": N}}
    """)
    f = tmp_path / "long.csv"
    f.write_text(LONG, encoding="utf-8")
    r = _ingest(ws, f, name)
    assert r.records["kept"] == 5 and r.records["territories"] == ["34:31", "34:79"]
    # Hải Phòng 2025-Q3: EHR (80 + 150 + 50) / (100 + 300 + 50) [BV3 reports no EHR count]; 4 clinics
    ehr = _results(ws, "TEST_EHR_SHARE")
    assert ehr[("34:31", "2025-Q3")] == (round(100 * 280 / 450, 6), 3)
    # weighted share: visits of cashless clinics (100 + 50 + 50) / all visits (500); units: 4 clinics
    cash = _results(ws, "TEST_CASHLESS_VISITS")
    assert cash[("34:31", "2025-Q3")] == (40.0, 4)
    assert cash[("34:79", "2025-Q3")] == (100.0, 1)
    stored = ws.store.records_by_quarter("clinic_reports", "month", ["clinic", "month", "place"], ["clinic", "month"])
    assert set(stored["month"]) == {"2025-07", "2025-08", "2025-09"}
    assert set(stored.loc[stored["clinic"] == "BV4", "place"]) == {"34:31"}  # Hải Dương became Hải Phòng


def test_bad_provinces_and_months_refuse_the_file_with_every_problem(ws, tmp_path):
    name = _adapter(ws, "clinics-long", """
        columns: {clinic: Cơ sở, place: Tỉnh, month: Tháng, visits: Lượt khám}
    """)
    f = tmp_path / "bad.csv"
    f.write_text("Cơ sở,Tỉnh,Tháng,Lượt khám\nBV1,Atlantis,2025-07,1\nBV2,Hải Phòng,2025-Q3,2\nBV3,Việt Nam,13/2025,-1\n",
                 encoding="utf-8")
    with pytest.raises(InputRejected) as e:
        _ingest(ws, f, name)
    found = {(p.row, p.code) for p in e.value.problems}
    assert found == {(2, "UNKNOWN_TERRITORY"), (3, "BAD_MONTH"), (4, "UNKNOWN_TERRITORY"), (4, "BAD_MONTH"),
                     (4, "NEGATIVE_NUMBER")}
    assert all(p.vi and p.en for p in e.value.problems)
    assert ws.store.record_vintages().empty


WIDE = """Báo cáo tháng các bệnh viện (minh họa),,,,,
Bệnh viện,Tháng 7/2025,,Tháng 8/2025,,Ghi chú
,Tổng lượt khám,Có HSSKĐT,Tổng lượt khám,Có HSSKĐT,
BV1,100,80,120,90,
BV2,200,100,,,nghỉ tháng 8
BV3,50,50,60,30,
"""
WIDE_ADAPTER = """
    header_row: 2
    header_rows: 2
    columns: {clinic: Bệnh viện}
    constants: {place: Hải Phòng}
    wide: {field: month, columns: {visits: Tổng lượt khám, visits_ehr: Có HSSKĐT}}
"""


def test_months_across_columns_under_merged_header_rows(ws, tmp_path):
    name = _adapter(ws, "clinics-wide", WIDE_ADAPTER)
    f = tmp_path / "wide.csv"
    f.write_text(WIDE, encoding="utf-8")
    r = _ingest(ws, f, name)
    assert r.records["kept"] == 5  # BV2 did not report August: no record, not an empty one
    ehr = _results(ws, "TEST_EHR_SHARE")
    assert ehr[("34:31", "2025-Q3")] == (round(100 * (80 + 90 + 100 + 50 + 30) / (100 + 120 + 200 + 50 + 60), 6), 3)


def test_the_same_sheet_as_a_workbook_with_merged_cells(ws, tmp_path):
    import csv
    import io

    from openpyxl import Workbook

    wb = Workbook()
    sh = wb.active
    for row in csv.reader(io.StringIO(WIDE)):
        sh.append([int(c) if c.isdigit() else (c or None) for c in row])
    sh.merge_cells("A1:F1")
    sh.merge_cells("B2:C2")
    sh.merge_cells("D2:E2")
    sh.merge_cells("A2:A3")
    f = tmp_path / "wide.xlsx"
    wb.save(f)
    name = _adapter(ws, "clinics-wide", WIDE_ADAPTER)
    r = _ingest(ws, f, name)
    assert r.records["kept"] == 5
    assert _results(ws, "TEST_EHR_SHARE")[("34:31", "2025-Q3")][0] == pytest.approx(100 * 350 / 530)
    rows = ws.store.quarantine()
    assert rows.empty


def test_a_wide_sheet_without_month_columns_is_refused(ws, tmp_path):
    name = _adapter(ws, "clinics-wide", WIDE_ADAPTER)
    f = tmp_path / "nomonths.csv"
    f.write_text("Báo cáo,,\nBệnh viện,Quý 3,\n,Tổng lượt khám,Có HSSKĐT\nBV1,1,1\n", encoding="utf-8")
    with pytest.raises(InputRejected) as e:
        _ingest(ws, f, name)
    assert [p.code for p in e.value.problems] == ["WIDE_NO_MONTHS"]


def test_adapters_are_checked_when_loaded(ws):
    from kinhteso.errors import ReferenceDataError
    from kinhteso.reference.datasets import adapters

    _adapter(ws, "bad-wide", """
        header_rows: 1
        columns: {clinic: Bệnh viện}
        constants: {place: Hải Phòng}
        wide: {field: month, columns: {visits: Tổng}}
    """)
    with pytest.raises(ReferenceDataError) as e:
        adapters(Path(ws.root))
    assert e.value.code == "DATASET_REGISTRY_INVALID" and "header" in e.value.en


def test_a_dataset_without_a_place_is_refused(registry, monkeypatch):
    bad = DATASETS.replace("type: territory", "type: text")
    monkeypatch.setattr(registry, "_dataset_files", lambda: [("datasets_bad.yaml", bad)])
    registry.datasets.cache_clear()
    from kinhteso.errors import ReferenceDataError

    with pytest.raises(ReferenceDataError):
        registry.datasets()
