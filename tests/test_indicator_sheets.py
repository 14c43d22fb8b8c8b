"""Indicator sheets (issue 14, item 9): the metadata the statistical law asks of every indicator,
``kinhteso indicator show|list|export``, ``GET /api/v1/indicators/{code}``, the Decision 1354
list and docs/indicators.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kinhteso.cli import main
from kinhteso.reference import indicator_sheets as S
from kinhteso.reference.indicators import load_indicators
from kinhteso.reference.targets import DERIVED

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str):
    return CliRunner().invoke(main, list(args))


# --------------------------------------------------------------------------- every indicator has a sheet


def test_every_registry_and_derived_indicator_has_a_complete_sheet():
    """Every indicator the registry holds now (other items add some) and every derived one."""
    sheets = S.load_sheets()
    expected = [*load_indicators(), *DERIVED]
    assert list(sheets) == expected
    incomplete = {c: s.missing for c, s in sheets.items() if not s.complete}
    assert not incomplete, f"indicators without a complete sheet (add them to indicator_sheets.yaml): {incomplete}"
    for code, s in sheets.items():
        for f in S.TEXT_FIELDS:
            t = getattr(s, f)
            assert t.vi.strip() and t.en.strip(), (code, f)
        assert s.name.vi and s.name.en and s.units and all(label.vi and label.en for _, label in s.units), code
        assert s.breakdowns and set(s.breakdowns) <= set(S.BREAKDOWNS), code
        assert s.legal_basis and all(r.applies.vi and r.applies.en for r in s.legal_basis), code
        assert s.sources, code
    # a derived indicator's kinhteso formula is its declaration, not a copy
    d = DERIVED["ECOMMERCE_SHARE"]
    assert sheets["ECOMMERCE_SHARE"].kinhteso_formula == f"ECOMMERCE_SHARE = {d.numerator} / {d.denominator} × 100"


def test_a_registry_indicator_without_a_sheet_is_listed_as_incomplete():
    from kinhteso.reference.indicators import Indicator

    extra = Indicator("WS_OWN", "Của tôi", "Mine", ("COUNT",), True, 0, None, ("A",), "total", "d", "d", "me")
    sheets = S.load_sheets({**load_indicators(), "WS_OWN": extra})
    own = sheets["WS_OWN"]
    assert not own.complete and {"definition", "legal_basis", "periodicity"} <= set(own.missing)
    assert own.name.en == "Mine" and own.units[0][0] == "COUNT"
    assert sheets["DE_SHARE"].complete


# --------------------------------------------------------------------------- show


def test_show_de_share_json_has_the_official_metadata():
    r = _cli("indicator", "show", "DE_SHARE", "--format", "json")
    assert r.exit_code == 0, r.output
    sheet = json.loads(r.output)
    for f in ("definition", "formula", "breakdowns", "periodicity", "source_agency", "legal_basis",
              "responsible_unit", "release_calendar", "data_sources", "unit", "notes"):
        assert sheet[f], f
    assert "× 100" in sheet["formula"]["vi"] and "GDP (GRDP)" in sheet["formula"]["en"]
    assert sheet["kinhteso_formula"].startswith("DE_SHARE = 100 × DE_VA / GRDP")
    assert {b["code"] for b in sheet["breakdowns"]} >= {"industry", "ownership", "province", "region"}
    assert sheet["periodicity"] == {"vi": "Năm.", "en": "Annual."}
    assert "Cục Thống kê" in sheet["source_agency"]["vi"] and "Ministry of Finance" in sheet["source_agency"]["en"]
    docs = {r["document"]["number"]: r["document"]["date"] for r in sheet["legal_basis"] if r["document"]}
    assert docs["01/2021/QH15"] == "2021-11-12"        # Statistics Law amended 2021
    assert docs["13/2021/TT-BKHĐT"] == "2021-12-31"
    assert docs["94/2022/NĐ-CP"] == "2022-11-07"
    assert docs["05/2023/QĐ-TTg"] == "2023-02-24"
    assert {(p["level"], p["no"]) for p in sheet["decision_1354"]} == {("national", 1), ("provincial", 1)}
    assert sheet["complete"] is True and sheet["missing"] == []


def test_show_table_speaks_the_chosen_language_and_reads_lower_case():
    vi = _cli("--lang", "vi", "indicator", "show", "de_share")
    en = _cli("--lang", "en", "indicator", "show", "DE_SHARE")
    assert vi.exit_code == en.exit_code == 0
    assert "Kỳ công bố: Năm." in vi.output and "Căn cứ pháp lý:" in vi.output and "94/2022/NĐ-CP" in vi.output
    assert "Periodicity: Annual." in en.output and "Legal basis:" in en.output
    derived = _cli("--lang", "en", "indicator", "show", "DIGITAL_FIRMS_PER_1000")
    assert "derived indicator" in derived.output and "DIGITAL_FIRMS / POPULATION × 1000" in derived.output


@pytest.mark.parametrize("lang, word", [("vi", "Mã gần nhất"), ("en", "Nearest codes")])
def test_an_unknown_code_is_refused_with_the_nearest_codes(lang, word):
    r = _cli("--lang", lang, "indicator", "show", "DE_SHAR")
    assert r.exit_code == 2
    assert "UNKNOWN_INDICATOR" in r.output and word in r.output and "DE_SHARE" in r.output


def test_the_api_serves_a_sheet_and_refuses_an_unknown_code(tmp_path):
    from fastapi.testclient import TestClient

    from kinhteso.api import create_app
    from kinhteso.service.workspace import InitRequest, init

    init(InitRequest(tmp_path / "ws", published=False))
    with TestClient(create_app(tmp_path / "ws")) as client:
        r = client.get("/api/v1/indicators/ETAX_SHARE")
        assert r.status_code == 200
        body = r.json()
        assert body["code"] == "ETAX_SHARE" and {(p["level"], p["no"]) for p in body["decision_1354"]} == {
            ("national", 4), ("provincial", 7)}
        r = client.get("/api/v1/indicators/NO_SUCH", headers={"Accept-Language": "vi"})
        assert r.status_code == 404 and r.json()["code"] == "UNKNOWN_INDICATOR" and r.json()["vi"]


def test_a_workspace_indicator_has_a_sheet_that_lists_what_it_lacks(tmp_path):
    from kinhteso.service.indicators import IndicatorShowRequest, show_indicator
    from kinhteso.service.workspace import InitRequest, init
    from kinhteso.workspace import Workspace

    init(InitRequest(tmp_path / "ws", published=False))
    (tmp_path / "ws" / "indicators.yaml").write_text(
        "indicators:\n  - {code: HP_OWN, name_vi: Của Hải Phòng, name_en: Hai Phong's own, units: [COUNT],\n"
        "     additive: true, min: 0, max: null, frequencies: [A], sector: total, description_vi: x,\n"
        "     description_en: x, source: HP}\n", encoding="utf-8")
    with Workspace.open(tmp_path / "ws") as ws:
        sheet = show_indicator(IndicatorShowRequest("hp_own"), ws)
    assert sheet.name.en == "Hai Phong's own" and not sheet.complete and "legal_basis" in sheet.missing
    with pytest.raises(Exception) as e:
        show_indicator(IndicatorShowRequest("HP_OWN"))   # not without its workspace
    assert e.value.code == "UNKNOWN_INDICATOR"


# --------------------------------------------------------------------------- the Decision 1354 list


def test_the_decision_1354_list_has_its_three_levels_and_says_what_is_not_retrievable():
    levels = S.decision_1354_levels()
    assert {k: v[0] for k, v in levels.items()} == {"national": 6, "ministry": 5, "provincial": 12}
    prov = S.decision_1354("provincial")
    assert [e.no for e in prov] == list(range(1, 13))
    found = [e for e in prov if e.status == "identified"]
    missing = [e for e in prov if e.status == "not_retrievable"]
    # items 1–9 are named in the sources; 10–12 are not (facts/README.md §5.1), and are not guessed
    assert [e.no for e in found] == list(range(1, 10)) and [e.no for e in missing] == [10, 11, 12]
    assert all(e.indicator is None and "not in the stored sources" in e.name.en for e in missing)
    sheets = S.load_sheets()
    for e in found:   # each named provincial indicator is measured by an indicator whose sheet names it back
        assert e.indicator in sheets, e
        assert ("provincial", e.no) in {(p.level, p.no) for p in sheets[e.indicator].decision_1354}
    assert {e.indicator for e in found} >= {"DIGITAL_PLATFORM_FIRMS", "SMEDX_SMES", "ETAX_SHARE",
                                            "POSTAL_POINTS_BROADBAND", "VOSO_POSTMART_TX"}
    assert all(e.status == "identified" for e in S.decision_1354("national"))
    assert [e.status for e in S.decision_1354("ministry")].count("not_retrievable") == 2


def test_list_by_level_and_all():
    r = _cli("indicator", "list", "--level", "provincial", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert len(rows) == 12 and rows[6]["indicator"] == "ETAX_SHARE"
    assert [x["status"] for x in rows].count("not_retrievable") == 3
    r = _cli("indicator", "list", "--format", "csv")
    assert r.exit_code == 0 and r.output.splitlines()[0].startswith("code,kind,name_vi,name_en")
    assert len(r.output.splitlines()) == 1 + len(S.load_sheets())
    bad = _cli("indicator", "list", "--level", "district")
    assert bad.exit_code == 2 and "USAGE_ERROR" in bad.output


# --------------------------------------------------------------------------- export


def test_export_xlsx_opens_and_holds_every_indicator(tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "sheets.xlsx"
    r = _cli("--lang", "en", "indicator", "export", "--format", "xlsx", "--out", str(out))
    assert r.exit_code == 0, r.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["Phiếu - Sheets", "QĐ 1354", "Văn bản - Documents"]
    ws = wb["Phiếu - Sheets"]
    header = [c.value for c in ws[1]]
    assert ws.freeze_panes == "B2" and ws["C2"].alignment.wrap_text
    assert "Khái niệm (vi)" in header and "Definition (en)" in header and "Legal basis (en)" in header
    codes = [row[0] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert codes == list(S.load_sheets())
    de = next(row for row in ws.iter_rows(min_row=2, values_only=True) if row[0] == "DE_SHARE")
    assert "94/2022/NĐ-CP" in de[header.index("Legal basis (en)")]
    assert de[header.index("Periodicity (en)")] == "Annual."
    assert ws.max_row - 1 == len(S.load_sheets()) and wb["QĐ 1354"].max_row == 1 + 23


def test_export_md_is_the_markdown_rendering_and_a_bad_destination_is_refused(tmp_path):
    from kinhteso.service.indicators import sheets_markdown

    out = tmp_path / "sheets.md"
    assert _cli("indicator", "export", "--format", "md", "--out", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert text == sheets_markdown() + "\n"
    assert all(f"## {code}\n" in text for code in S.load_sheets())
    folder = tmp_path / "a-folder"
    folder.mkdir()
    r = _cli("indicator", "export", "--format", "md", "--out", str(folder))
    assert r.exit_code in (1, 2) and "Traceback" not in r.output


def test_docs_indicators_md_is_current():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_indicator_docs.py"), "--check"], capture_output=True,
                       check=False)
    assert r.returncode == 0, "docs/indicators.md is out of date: run .venv/bin/python scripts/gen_indicator_docs.py"


# --------------------------------------------------------------------------- a bad sheet file is refused


@pytest.fixture
def patched(monkeypatch):
    """Replace the file's content with an edited copy (caches cleared before and after)."""
    import copy

    original = S._raw()
    cached = (S._raw, S.documents, S._decision, S._shipped_sheets)

    def clear():
        for f in cached:
            f.cache_clear()

    def use(edit) -> None:
        doc = copy.deepcopy(original)
        edit(doc)
        clear()
        monkeypatch.setattr(S, "_raw", lambda: doc)

    yield use
    clear()


@pytest.mark.parametrize("edit, code, words", [
    (lambda d: d["sheets"].__setitem__("NOT_AN_INDICATOR", d["sheets"]["GRDP"]), "INDICATOR_SHEET_UNKNOWN",
     "NOT_AN_INDICATOR"),
    (lambda d: d["sheets"]["GRDP"].pop("release_calendar"), "INDICATOR_SHEET_INVALID", "release_calendar"),
    (lambda d: d["sheets"]["GRDP"].__setitem__("breakdowns", ["district"]), "INDICATOR_SHEET_INVALID", "breakdowns"),
    (lambda d: d["sheets"]["GRDP"]["legal_basis"][0].__setitem__("doc", "ND99_2099"), "INDICATOR_SHEET_INVALID",
     "ND99_2099"),
    (lambda d: d["sheets"]["GRDP"].__setitem__("definition", {"vi": "x", "en": ""}), "INDICATOR_SHEET_INVALID",
     "definition"),
    (lambda d: d["sheets"]["GRDP"].__setitem__("periodicity", "=NO_SUCH_TEXT"), "INDICATOR_SHEET_INVALID",
     "NO_SUCH_TEXT"),
    (lambda d: d["sheets"]["ECOMMERCE_SHARE"].__setitem__("kinhteso_formula", "x"), "INDICATOR_SHEET_INVALID",
     "kinhteso_formula"),
    (lambda d: d["decision_1354"]["entries"].pop(20), "INDICATOR_SHEET_INVALID", "1..12"),
    (lambda d: d["decision_1354"]["entries"][21].__setitem__("vi", "Đoán"), "INDICATOR_SHEET_INVALID",
     "not_retrievable"),
    (lambda d: d["decision_1354"]["entries"][0].__setitem__("indicator", "NOPE"), "INDICATOR_SHEET_UNKNOWN", "NOPE"),
    (lambda d: d["documents"]["ND94_2022"].__setitem__("date", "07/11/2022"), "INDICATOR_SHEET_INVALID",
     "YYYY-MM-DD"),
])
def test_a_bad_sheet_file_is_refused_naming_the_entry(patched, edit, code, words):
    from kinhteso.errors import ReferenceDataError

    patched(edit)
    with pytest.raises(ReferenceDataError) as e:
        S.load_sheets()
    assert e.value.code == code and words in e.value.en and words in e.value.vi
