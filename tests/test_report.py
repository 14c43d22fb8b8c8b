"""``kinhteso report``: briefings as PDF, XLSX and HTML (issue 13, item 2).

Fast tests run on a small workspace (two provinces, 2025); the slow ones on the demo workspace
(``demo_run``, built once per session), where the data are illustrative and every page must say so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ingest_rows

from kinhteso.cli import main
from kinhteso.i18n import DEMO_LABEL

pypdf = pytest.importorskip("pypdf")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def pdf_pages(path: Path) -> list[str]:
    """The text of every page (each page must be readable)."""
    reader = pypdf.PdfReader(str(path))
    return [page.extract_text() for page in reader.pages]


def font_names(path: Path) -> list[tuple[str, bool]]:
    """(base font, embedded?) of every font used on every page."""
    out = []
    for page in pypdf.PdfReader(str(path)).pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            f = ref.get_object()
            descs = [f.get("/FontDescriptor")] + [d.get_object().get("/FontDescriptor") for d in f.get("/DescendantFonts", [])]
            embedded = any(d is not None and any(k in d.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                           for d in descs)
            out.append((str(f.get("/BaseFont")), embedded))
    return out


def no_remote_reference(text: str) -> bool:
    return not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""", text, re.IGNORECASE)


# --- a small workspace -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    from kinhteso.workspace import Workspace

    d = tmp_path_factory.mktemp("report")
    ws = Workspace.init(d / "ws")
    rows = []
    for code, core, other, grdp in (("31", 50, 350, 500), ("79", 120, 700, 1000)):
        rows += [["GRDP_VA", code, "34", "62", "2025", str(core), "VND_BN"],
                 ["GRDP_VA", code, "34", "10", "2025", str(other), "VND_BN"],
                 ["GRDP", code, "34", "_T", "2025", str(grdp), "VND_BN"]]
    rows.append(["DIGITAL_COEF", "VN", "", "C", "2025", "0.05", "RATIO"])
    ingest_rows(ws, d / "in.csv", rows)
    ws.close()
    return d / "ws"


def test_pdf_has_the_names_with_diacritics_embedded_fonts_and_2_to_6_pages(small, tmp_path):
    for key, name in (("34:31", "Hải Phòng"), ("34:79", "Thành phố Hồ Chí Minh")):
        out = tmp_path / f"{key.replace(':', '_')}.pdf"
        r = run("report", "--territory", key, "--period", "2025", "--out", str(out), "--workspace", str(small))
        assert r.exit_code == 0, r.output
        pages = pdf_pages(out)
        assert 2 <= len(pages) <= 6, len(pages)
        text = "\n".join(pages)
        assert name in text and "Báo cáo kinh tế số" in text
        fonts = font_names(out)
        assert fonts and all(emb for _, emb in fonts), fonts
        assert all("DejaVu" in base for base, _ in fonts), fonts
        assert DEMO_LABEL["vi"] not in text  # not illustrative data: no label
        if shutil.which("pdftoppm"):
            png = tmp_path / "page"
            subprocess.run(["pdftoppm", "-r", "30", "-png", str(out), str(png)], check=True, capture_output=True)
            assert len(list(tmp_path.glob("page*.png"))) == len(pages)
            for p in tmp_path.glob("page*.png"):
                p.unlink()


def test_the_headline_is_the_service_s_figure_and_estimate(small):
    from kinhteso.service.figures import FigureRequest, MeasureRequest, figure, measure
    from kinhteso.service.report import ReportRequest, build_report
    from kinhteso.workspace import Workspace

    with Workspace.open(small) as ws:
        c = build_report(ws, ReportRequest("Hải Phòng", "2025", lang="en"))
        fig = figure(ws, FigureRequest("34:31", "2025"))
        m = measure(ws, MeasureRequest("2025", ("34:31",))).results[0]
    assert [s.key for s in c.sections] == ["headline", "quarterly", "targets", "peers", "plan", "method"]
    assert c.territory == "34:31" and c.name == "Hai Phong" and not c.illustrative and c.label == ""
    official = {t.key: t for t in c.tables()}["official"]
    assert official.rows[0][1] == pytest.approx(fig.value) and fig.value == pytest.approx((50 + 350 * 0.05) / 500 * 100)
    comps = {t.key: t for t in c.tables()}["components"]
    assert comps.rows[-1][1] == pytest.approx(m.result.de_va) and comps.columns[1].unit == "VND bn"
    sources = {t.key: t for t in c.tables()}["sources"]
    assert [row[0] for row in sources.rows] == [1]  # the one vintage that fed the figures


def test_xlsx_one_sheet_per_table_numbers_as_numbers_frozen_headers(small, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "r.xlsx"
    r = run("--lang", "en", "report", "--territory", "34:31", "--period", "2025", "--format", "xlsx", "--out", str(out),
            "--workspace", str(small))
    assert r.exit_code == 0, r.output
    wb = load_workbook(out)
    assert {"official", "components", "sources"} <= set(wb.sheetnames)
    for name in wb.sheetnames[1:]:
        assert wb[name].freeze_panes == "A3", name
    comp = wb["components"]
    headers = [c.value for c in comp[2]]
    assert headers == ["Component", "Value added (VND bn)", "Share of GRDP (%)"]
    for row in comp.iter_rows(min_row=3, values_only=True):
        assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row[1:])
    assert comp.cell(3, 3).value == pytest.approx(10.0)  # 50 of 500, the core


def test_html_is_self_contained_and_in_the_language_asked(small, tmp_path):
    out = tmp_path / "r.html"
    r = run("report", "--territory", "34:79", "--period", "2025", "--format", "html", "--out", str(out),
            "--workspace", str(small))
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    assert '<html lang="vi">' in text and "Thành phố Hồ Chí Minh" in text and "1. Số chính" in text
    assert no_remote_reference(text) and "<script" not in text
    assert "data:image/png;base64," in text or "Xu hướng" in text
    out_en = tmp_path / "r_en.html"
    r = run("--lang", "en", "report", "--territory", "34:79", "--period", "2025", "--format", "html", "--out",
            str(out_en), "--workspace", str(small))
    assert r.exit_code == 0, r.output
    en = out_en.read_text(encoding="utf-8")
    assert '<html lang="en">' in en and "1. Headline" in en and "Targets, gaps and status" in en
    assert "1. Số chính" not in en
    assert not no_remote_reference('<img src="https://cdn.example/x.png">')  # the check itself catches one


def test_english_pdf_headings(small, tmp_path):
    out = tmp_path / "en.pdf"
    r = run("--lang", "en", "report", "--territory", "34:31", "--period", "2025", "--out", str(out), "--workspace", str(small))
    assert r.exit_code == 0, r.output
    text = "\n".join(pdf_pages(out))
    assert "Digital economy briefing" in text and "Method notes and sources" in text and "Số chính" not in text


def test_default_file_name_in_the_current_folder(small, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("report", "--territory", "34:31", "--period", "2025", "--format", "html", "--workspace", str(small))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "bao-cao-34_31-2025.html").is_file() and "bao-cao-34_31-2025.html" in r.output


@pytest.mark.parametrize(("args", "code"), [
    (["--territory", "Nowhere", "--period", "2025"], "UNKNOWN_TERRITORY"),
    (["--territory", "34:31", "--period", "2025-Q9"], "BAD_PERIOD"),
    (["--territory", "34:04", "--period", "2025"], "REPORT_NO_DATA"),   # a province without data
    (["--territory", "34:31", "--period", "2031"], "REPORT_NO_DATA"),
])
def test_refusals_are_bilingual_and_write_nothing(small, tmp_path, args, code):
    for lang in ("vi", "en"):
        out = tmp_path / f"x-{lang}.pdf"
        r = run("--lang", lang, "report", *args, "--out", str(out), "--workspace", str(small))
        assert r.exit_code == 2 and code in r.output and "Traceback" not in r.output, r.output
        assert not out.exists()
    from kinhteso.errors import UsageError
    from kinhteso.service.report import ReportRequest, build_report
    from kinhteso.workspace import Workspace

    if code == "REPORT_NO_DATA":
        with Workspace.open(small) as ws, pytest.raises(UsageError) as exc:
            build_report(ws, ReportRequest(args[1], args[3]))
        assert exc.value.vi != exc.value.en and "kinhteso ingest" in exc.value.vi


# --- the demo workspace (illustrative) -----------------------------------------------------------
@pytest.fixture(scope="module")
def demo(demo_run):
    root, res = demo_run
    assert res.exit_code == 0, res.output[-2000:]
    return root


@pytest.mark.slow
def test_demo_pdf_labels_every_page_and_names_the_warnings(demo, tmp_path):
    from kinhteso.service.targets import GapsRequest, gaps
    from kinhteso.workspace import Workspace

    out = tmp_path / "hp.pdf"
    r = run("report", "--territory", "34:31", "--period", "2025", "--out", str(out), "--workspace", str(demo))
    assert r.exit_code == 0, r.output
    pages = pdf_pages(out)
    assert 2 <= len(pages) <= 6
    assert all(DEMO_LABEL["vi"] in p for p in pages)
    text = "\n".join(pages)
    assert "Hải Phòng" in text and "Thành phố Hải Phòng" in text
    with Workspace.open(demo) as ws:
        rows = gaps(ws, GapsRequest("34:31")).rows
    codes = {w["code"] for row in rows for w in row["warnings"]}
    assert codes and all(code in text for code in codes)
    assert "DE_SHARE_MIC@63:31" in text  # the target measured on its own basis and boundary
    assert re.search(r"vintage \d+", text)  # the official figure's vintage
    out = tmp_path / "hcm.pdf"
    r = run("report", "--territory", "Thành phố Hồ Chí Minh", "--period", "2025", "--out", str(out), "--workspace", str(demo))
    assert r.exit_code == 0, r.output
    text = "\n".join(pdf_pages(out))
    assert "Thành phố Hồ Chí Minh" in text and all(emb for _, emb in font_names(out))


@pytest.mark.slow
def test_demo_content_charts_sources_and_other_formats(demo, tmp_path):
    from openpyxl import load_workbook

    from kinhteso.service.report import ReportRequest, build_report
    from kinhteso.workspace import Workspace

    with Workspace.open(demo) as ws:
        c = build_report(ws, ReportRequest("34:31", "2025", lang="en"))
        vint = ws.store.vintages()
    assert c.illustrative and c.label == DEMO_LABEL["en"]
    charts = {ch.key: ch for ch in c.charts()}
    assert "quarterly" in charts and any(k.startswith("trajectory_") for k in charts)
    nowcast = [ln for ln in charts["quarterly"].lines if ln.style == "points"]
    assert nowcast and nowcast[0].lower[0] < nowcast[0].y[0] < nowcast[0].upper[0]
    src = {t.key: t for t in c.tables()}["sources"]
    used = {row[0] for row in src.rows}
    assert used <= set(vint.vintage_id) and len(used) >= 2
    assert {t.key for t in c.tables()} >= {"official", "components", "quarterly", "targets", "peers", "plan", "sources", "runs"}
    out = tmp_path / "hp.xlsx"
    r = run("--lang", "en", "report", "--territory", "34:31", "--period", "2025", "--format", "xlsx", "--out", str(out),
            "--workspace", str(demo))
    assert r.exit_code == 0, r.output
    wb = load_workbook(out)
    q = wb["quarterly"]
    assert DEMO_LABEL["en"] in q["A1"].value and q.freeze_panes == "A3"
    assert all(isinstance(v, float) for (v,) in q.iter_rows(min_row=3, min_col=2, max_col=2, values_only=True))
    out = tmp_path / "hp.html"
    r = run("report", "--territory", "34:31", "--period", "2025", "--format", "html", "--out", str(out), "--workspace", str(demo))
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    assert no_remote_reference(text) and DEMO_LABEL["vi"] in text and text.count("data:image/png;base64,") == len(charts)
