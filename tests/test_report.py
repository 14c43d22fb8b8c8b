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
    flat = " ".join(text.split())
    assert codes and not any(code in text for code in codes)  # warnings in words, their codes left to JSON
    assert "Mục tiêu đặt cho Hải Phòng cũ trước sáp nhập 2025" in flat
    # the target measured on its own basis and boundary, in words
    assert "tỷ trọng theo cách tính của Bộ TT&TT (MIC), địa giới 63 tỉnh (Hải Phòng cũ)" in flat
    assert "@63:" not in text and "DE_SHARE" not in text
    assert re.search(r"lần nộp \d+", text)  # the official figure's vintage
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


# --- no internal codes where a leader reads -------------------------------------------------------
_CODE_TOKENS = re.compile(r"@|\b(?:63|34):\d{2}\b|\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|kinhteso:[a-z]|kinhteso\.methods|--[a-z]")


def html_words(page: str) -> str:
    """The text a reader sees on the page: no tags, no style, no embedded image."""
    import html as _html

    page = re.sub(r"<style>.*?</style>", "", page, flags=re.DOTALL)
    page = re.sub(r'src="data:[^"]*"', "", page)
    return _html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_words_put_codes_in_words():
    from kinhteso.service.report import Words

    vi, en = Words("vi"), Words("en")
    assert vi.series("DE_SHARE_MIC", "63:31") == "tỷ trọng theo cách tính của Bộ TT&TT (MIC), địa giới 63 tỉnh (Hải Phòng cũ)"
    assert en.series("DE_SHARE_MIC", "63:31") == "MIC-style share, on the 63-province boundary (former Hai Phong)"
    assert en.series("DE_SHARE", "VN") == "official-statistics share (GSO/NSO), the whole country"
    assert vi.ind("ECOMMERCE_SHARE") == "Tỷ trọng thương mại điện tử trong tổng mức bán lẻ"
    assert en.ind("DIGITAL_FIRMS_PER_1000") == "Digital-technology enterprises per 1,000 people"
    assert vi.term("denton-cholette") == "phân bổ theo quý Denton–Cholette" and en.term("coef") == "digitalisation coefficients"
    assert en.source("kinhteso:accounts") == "kinhteso (digital-economy accounts)" and en.source("NSO") == "NSO"
    text = vi.plain("Mục tiêu đặt cho 63:31 (Hải Phòng) trước sáp nhập; muốn đo trên 34:31 thì quy đổi (--convert-boundary); "
                    "trạng thái 'at_risk'; tỷ lệ phân bổ (ALLOC_RATIO); hệ số số hóa DIGITAL_COEF của A, B, C, D, E, F.")
    assert text == ("Mục tiêu đặt cho Hải Phòng cũ trước sáp nhập; muốn đo trên Hải Phòng thì quy đổi; trạng thái 'có nguy cơ'; "
                    "tỷ lệ phân bổ; hệ số số hóa của 6 ngành cấp 1.")
    assert not _CODE_TOKENS.search(en.plain("34:79 2025: DIGITAL_COEF of A; VN"))


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_demo_html_shows_no_codes_and_every_run_in_words(demo, tmp_path, lang):
    from kinhteso.service.report import ReportRequest, build_report
    from kinhteso.workspace import Workspace

    for territory in ("Hải Phòng", "VN", "Thành phố Hồ Chí Minh"):
        out = tmp_path / f"r-{lang}.html"
        r = run("--lang", lang, "report", "--territory", territory, "--period", "2025", "--format", "html", "--out", str(out),
                "--workspace", str(demo))
        assert r.exit_code == 0, r.output
        words = html_words(out.read_text(encoding="utf-8"))
        found = _CODE_TOKENS.findall(words)
        assert not found, (territory, lang, sorted(set(found)))
        assert "_SHARE" not in words and "@63:" not in words
        if territory == "Hải Phòng":
            assert (("địa giới 63 tỉnh (Hải Phòng cũ)" in words) if lang == "vi"
                    else ("on the 63-province boundary (former Hai Phong)" in words))
    with Workspace.open(demo) as ws:
        c = build_report(ws, ReportRequest("Hải Phòng", "2025", lang=lang))
    tables = {t.key: t for t in c.tables()}
    runs = tables["runs"]
    cols = [col.code for col in runs.columns]
    kinds = [row[cols.index("kind")] for row in runs.rows]
    methods = [row[cols.index("method")] for row in runs.rows]
    assert len(runs.rows) >= 3 and "–" not in kinds + methods and None not in kinds + methods
    assert not any(_CODE_TOKENS.search(str(x)) for x in kinds + methods)
    assert ("hệ số số hóa" if lang == "vi" else "digitalisation coefficients") in kinds  # the runs met only as inputs
    # codes stay for analysts, in the XLSX only, in columns that say so
    targets = tables["targets"]
    code_cols = [col for col in targets.columns if col.xlsx_only]
    assert code_cols and all("(" in col.label for col in code_cols)
    assert "DE_SHARE_MIC@63:31" in [row[[col.code for col in targets.columns].index("series_code")] for row in targets.rows]
    assert all(not k.startswith("trajectory_DE") for k in (ch.key for ch in c.charts()))
    assert not any(_CODE_TOKENS.search(ch.title + ch.y_label + ch.note + "".join(ln.label for ln in ch.lines))
                   for ch in c.charts())


# --- sector contributions and DTI pillars (fast: a workspace with 14 sections and the DTI of the 34) ---
#: division → (its VSIC section, the national digitalisation coefficient of that section)
_DIVISIONS = {"01": ("A", 0.01), "05": ("B", 0.02), "10": ("C", 0.05), "35": ("D", 0.1), "36": ("E", 0.03),
              "41": ("F", 0.02), "46": ("G", 0.15), "49": ("H", 0.07), "55": ("I", 0.04), "64": ("K", 0.2),
              "68": ("L", 0.03), "70": ("M", 0.06), "85": ("P", 0.05)}


@pytest.fixture(scope="module")
def rich(tmp_path_factory) -> Path:
    """Hải Phòng (34:31) and the nation with value added in 14 sections (J the core), national
    coefficients, and the DTI main indices of all 34 provinces for 2025."""
    from kinhteso.pipeline.index import default_framework
    from kinhteso.reference.frameworks import load_framework
    from kinhteso.reference.territories import territories
    from kinhteso.workspace import Workspace

    d = tmp_path_factory.mktemp("report_rich")
    ws = Workspace.init(d / "ws")
    rows = []
    for code, basis, scale in (("31", "34", 1), ("VN", "", 20)):
        va = {div: (40 + 10 * i) * scale for i, div in enumerate(["62", *_DIVISIONS])}
        rows += [["GRDP_VA", code, basis, div, "2025", str(v), "VND_BN"] for div, v in va.items()]
        rows.append(["GRDP", code, basis, "_T", "2025", str(sum(va.values())), "VND_BN"])
    rows += [["DIGITAL_COEF", "VN", "", sec, "2025", str(coef), "RATIO"] for sec, coef in _DIVISIONS.values()]
    fw = load_framework(default_framework("2025"))
    for i, t in enumerate(t for t in territories() if t.basis == 34):
        rows += [["DTI_MAIN_INDEX", t.code, "34", code, "2025", f"{0.4 + ((7 * i + 3 * j) % 50) / 100:.4f}", "INDEX01"]
                 for j, code in enumerate(fw.main_indices)]
    ingest_rows(ws, d / "in.csv", rows)
    ws.close()
    return d / "ws"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_sector_contributions_add_up_to_the_share_and_name_sections_in_words(rich, small, lang):
    from kinhteso.reference.targets import section_name
    from kinhteso.service.figures import MeasureRequest, measure
    from kinhteso.service.report import TOP_SECTIONS, ReportRequest, build_report
    from kinhteso.workspace import Workspace

    for ws_path, territory, n_sections in ((rich, "34:31", 14), (rich, "VN", 14), (small, "34:31", 2)):
        with Workspace.open(ws_path) as ws:
            c = build_report(ws, ReportRequest(territory, "2025", lang=lang))
            m = measure(ws, MeasureRequest("2025", (territory,))).results[0].result
        headline = c.sections[0]
        tables = {t.key: t for t in headline.tables}
        assert [t.key for t in headline.tables] == ["official", "components", "sectors"]
        t = tables["sectors"]
        cols = [col.code for col in t.columns]
        assert cols == ["section", "va", "de_va", "contribution_pp", "vsic"]
        assert [col.digits for col in t.columns[1:4]] == [0, 0, 2] and [col.xlsx_only for col in t.columns] == [False] * 4 + [True]
        assert t.columns[1].unit == t.columns[2].unit == ("tỷ đồng" if lang == "vi" else "VND bn")
        assert t.columns[3].unit == ("điểm %" if lang == "vi" else "pp")
        # the contributions still add up to the share: the headline's estimate and the components' total
        total = sum(row[3] for row in t.rows)
        assert total == pytest.approx(m.de_share, abs=0.005)
        assert total == pytest.approx(tables["components"].rows[-1][2], abs=0.005)
        assert sum(row[2] for row in t.rows) == pytest.approx(m.de_va)
        # the first sections by name, in words; the rest in one row when there are more
        shown = min(n_sections, TOP_SECTIONS)
        assert len(t.rows) == shown + (n_sections > TOP_SECTIONS)
        for row in t.rows[:shown]:
            assert row[0] == section_name(row[4], lang) and not re.fullmatch(r"[A-V]", row[0])
        assert [row[4] for row in t.rows[:shown]] == list(m.by_section.section[:shown])
        if n_sections > TOP_SECTIONS:
            other = t.rows[-1]
            assert other[0] == (f"Các ngành khác ({n_sections - shown} ngành cấp 1)" if lang == "vi"
                                else f"Other sections ({n_sections - shown})")
            assert other[4].split(", ") == list(m.by_section.section[shown:])
            assert other[3] == pytest.approx(m.by_section.contribution_pp[shown:].sum())
        # one sentence naming the top three contributors
        lead = [p for p in headline.paragraphs if p.startswith("Ngành đóng góp nhiều nhất" if lang == "vi"
                                                                else "The sections contributing most")]
        assert len(lead) == 1
        top = [row[0] for row in t.rows[:min(3, shown)]]
        assert all(name in lead[0] for name in top)
        assert not re.search(r"\b[A-V]\b", lead[0].split(":", 1)[1].replace(" và ", " ").replace(" and ", " "))


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_dti_pillars_against_the_34(rich, tmp_path, lang):
    from kinhteso.service.index import IndexRequest, score_index
    from kinhteso.service.report import ReportRequest, build_report
    from kinhteso.workspace import Workspace

    with Workspace.open(rich) as ws:
        c = build_report(ws, ReportRequest("Hải Phòng", "2025", lang=lang))
        vn = build_report(ws, ReportRequest("VN", "2025", lang=lang))
        idx = score_index(ws, IndexRequest("2025", basis=34, n=0))
    peers = c.sections[3]
    assert peers.key == "peers" and "dti" in [t.key for t in peers.tables]
    assert "dti" not in {t.key for t in vn.tables()}  # no DTI for the nation
    t = {t.key: t for t in peers.tables}["dti"]
    cols = [col.code for col in t.columns]
    assert cols == ["pillar", "score", "median", "best_score", "best", "code"] and t.columns[-1].xlsx_only
    assert all(col.digits == 4 for col in t.columns[1:4])
    meta = idx.framework.meta.set_index("iCode")
    pillars = idx.framework.main_indices
    assert [row[5] for row in t.rows] == pillars  # one row per pillar, in the framework's order
    agg = idx.coin.data["Aggregated"]
    assert len(agg) == 34
    for row in t.rows:
        code = row[5]
        assert row[0] == meta.at[code, "iName" if lang == "vi" else "iName_en"] and "_" not in row[0]
        values = agg[code]
        assert values.min() <= row[1] <= values.max()
        assert row[1] == pytest.approx(agg.at["34:31", code])
        assert row[2] == pytest.approx(values.median()) and row[3] == pytest.approx(values.max())
        assert row[3] >= row[1]
        best = values[values == values.max()].index
        assert row[4].split(", ") == [_name(k, lang) for k in best]
    # rendered, in words
    out = tmp_path / f"dti-{lang}.pdf"
    r = run("--lang", lang, "report", "--territory", "34:31", "--period", "2025", "--out", str(out), "--workspace", str(rich))
    assert r.exit_code == 0, r.output
    text = " ".join("\n".join(pdf_pages(out)).split())
    assert t.title in text and t.rows[0][0] in text and not any(code in text for code in pillars)
    out = tmp_path / f"dti-{lang}.html"
    r = run("--lang", lang, "report", "--territory", "34:31", "--period", "2025", "--format", "html", "--out", str(out),
            "--workspace", str(rich))
    assert r.exit_code == 0, r.output
    words = html_words(out.read_text(encoding="utf-8"))
    assert t.title in words and not any(code in words for code in pillars) and not _CODE_TOKENS.findall(words)


def _name(key: str, lang: str) -> str:
    from kinhteso.service.report import Words

    return Words(lang).place(key)
