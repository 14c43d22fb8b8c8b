"""The dashboard's content (kinhteso.service.dashboard) and its pages over HTTP (TestClient), on a
copy of the demo workspace: the official figures of the map and ranking follow the one rule, every
table downloads as CSV, XLSX and SDMX-CSV, the data page checks a file without storing it, bad
requests get a bilingual page, nothing on a page points to another host.

The browser tests (headless Chromium) are in test_dashboard_browser.py."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dash_ws(demo_run, tmp_path_factory):
    root, result = demo_run
    assert result.exit_code == 0, result.output
    copy = tmp_path_factory.mktemp("dash") / "ws"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("*.lock", "tmp"))
    return copy


@pytest.fixture(scope="module")
def client(dash_ws):
    from fastapi.testclient import TestClient

    from kinhteso.api import create_app

    with TestClient(create_app(dash_ws)) as c:
        yield c


@pytest.fixture(scope="module")
def ws(client):
    return client.app.state.ws


# --- the content --------------------------------------------------------------------------------
def test_bulk_official_figures_follow_the_single_figure_rule(ws):
    from kinhteso.service.dashboard import tile_layout
    from kinhteso.service.figures import FigureRequest, figure, figures

    keys = list(tile_layout())
    for period in ("2024", "2025", "2025-Q3"):
        many = figures(ws, keys, FigureRequest("VN", period))
        assert list(many) == keys
        for k in keys[::5]:
            one = figure(ws, FigureRequest(k, period))
            assert (one.value, one.basis, one.source, one.run_id) == (many[k].value, many[k].basis, many[k].source,
                                                                       many[k].run_id), (k, period)


def test_the_tile_map_holds_the_34_provinces_once_each():
    import pandas as pd

    from kinhteso.service.dashboard import tile_layout

    layout = tile_layout()
    terr = pd.read_csv(ROOT / "src/kinhteso/reference/data/territories.csv", dtype=str)
    assert set(layout) == set(terr.key[terr.key.str.startswith("34:")])
    places = [(r, c) for r, c, _ in layout.values()]
    assert len(set(places)) == 34


def test_overview_ranks_every_province_by_its_official_figure(ws):
    from kinhteso.service.dashboard import OverviewRequest, overview
    from kinhteso.service.figures import FigureRequest, figure

    page = overview(ws, OverviewRequest(lang="vi"))
    assert len(page.tiles) == 34 and page.period in page.periods
    ranking = page.table("ranking")
    shares = [r[2] for r in ranking.rows if r[2] is not None]
    assert shares == sorted(shares, reverse=True) and len(shares) == sum(t.value is not None for t in page.tiles)
    top = ranking.rows[0]
    tile = next(t for t in page.tiles if t.name == top[1])
    assert figure(ws, FigureRequest(tile.key, page.period)).value == pytest.approx(top[2])
    assert page.illustrative and "MINH HỌA" in page.label           # the demo is illustrative
    assert {s.key for s in page.sections} >= {"map", "national_quarterly", "national_targets"}
    en = overview(ws, OverviewRequest(period=page.period, lang="en"))
    assert en.label.startswith("ILLUSTRATIVE") and en.table("ranking").rows[0][2] == top[2]


def test_overview_refuses_a_quarter_and_an_unknown_view(ws):
    from kinhteso.errors import UsageError
    from kinhteso.service.dashboard import OverviewRequest, overview

    with pytest.raises(UsageError) as e:
        overview(ws, OverviewRequest(period="2025-Q3"))
    assert e.value.code == "BAD_PERIOD"
    with pytest.raises(UsageError) as e:
        overview(ws, OverviewRequest(view="imf"))
    assert e.value.code == "UNKNOWN_VIEW"


def test_compare_takes_two_to_four_and_resolves_names_by_the_period(ws):
    from kinhteso.errors import UsageError
    from kinhteso.service.dashboard import CompareRequest, compare

    page = compare(ws, CompareRequest(("Hải Phòng", "34:79", "Hà Nội"), period="2025"))
    assert page.territories == ("34:31", "34:79", "34:01")
    head = page.table("headline")
    assert [r[0] for r in head.rows] == ["Thành phố Hải Phòng", "Thành phố Hồ Chí Minh", "Thành phố Hà Nội"]
    assert all(isinstance(r[1], float) for r in head.rows)
    for bad in (("34:31",), ("34:31", "34:31"), ("34:01", "34:31", "34:79", "34:48", "34:92")):
        with pytest.raises(UsageError) as e:
            compare(ws, CompareRequest(bad, period="2025"))
        assert e.value.code == "COMPARE_COUNT"


def test_a_table_as_sdmx_csv_has_one_observation_per_number(ws):
    from kinhteso.service.dashboard import CompareRequest, compare, table_sdmx

    page = compare(ws, CompareRequest(("34:31", "34:79"), period="2025", lang="en"))
    text = table_sdmx(page, "headline")
    rows = list(csv.DictReader(io.StringIO(text)))
    numbers = sum(v is not None for r in page.table("headline").rows for v, c in zip(r, page.table("headline").columns)
                  if c.digits is not None)
    assert len(rows) == numbers
    assert {r["STRUCTURE_ID"] for r in rows} == {"KINHTESO_DASHBOARD:COMPARE_HEADLINE(1.0)"}
    assert {r["TIME_PERIOD"] for r in rows} == {"2025"} and {r["ILLUSTRATIVE"] for r in rows} == {"true"}
    official = [r for r in rows if r["MEASURE"] == "OFFICIAL"]
    assert [float(r["OBS_VALUE"]) for r in official] == [r[1] for r in page.table("headline").rows]


# --- the pages ----------------------------------------------------------------------------------
PAGES = ["/", "/province/34_31", "/province/VN", "/compare?t=34_31&t=34_79", "/compare", "/methodology", "/data"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_page_in_both_languages_and_nothing_from_another_host(client, path, lang):
    url = path + (("&" if "?" in path else "?") + "lang=en" if lang == "en" else "")
    r = client.get(url)
    assert r.status_code == 200, r.text[:500]
    text = r.text
    assert f'<html lang="{lang}">' in text
    assert ("Tổng quan" if lang == "vi" else "Overview") in text
    # every script, stylesheet, font and image comes from this server
    for attr in re.findall(r'(?:src|href)="([^"]+)"', text):
        assert not re.match(r"(?i)^(https?:)?//", attr), attr
    if path in ("/", "/province/34_31", "/compare?t=34_31&t=34_79"):
        assert ("SỐ LIỆU MINH HỌA" if lang == "vi" else "ILLUSTRATIVE DEMO DATA") in text
        assert "/static/plotly.min.js" in text
        assert ("GSO/NSO") in text                       # the view named beside the shares
    if lang == "en" and path != "/compare":
        assert 'href="/?lang=en"' in text                  # internal links keep the language


def test_vietnamese_numbers_in_vietnamese(client):
    vi, en = client.get("/compare?t=34_31&t=34_79&period=2025").text, client.get("/compare?t=34_31&t=34_79&period=2025&lang=en").text
    assert re.search(r">\s*22,28\s*<", vi) and re.search(r">\s*22\.28\s*<", en)


def test_static_assets_come_from_the_installed_packages(client):
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000 and b"plotly" in js.content[:2000].lower()
    assert client.get("/static/fonts/DejaVuSans.ttf").content[:4] == b"\x00\x01\x00\x00"
    assert client.get("/static/dashboard.css").status_code == 200
    assert client.get("/static/../pyproject.toml").status_code == 404
    assert client.get("/static/fonts/../../../../etc/passwd").status_code == 404


@pytest.mark.parametrize("page,query", [("overview", ""), ("province", "territory=34_31"),
                                        ("compare", "t=34_31&t=34_79")])
def test_every_table_downloads_in_three_formats(client, ws, page, query):
    from openpyxl import load_workbook

    from kinhteso.service import dashboard as D

    content = {"overview": lambda: D.overview(ws, D.OverviewRequest()),
               "province": lambda: D.province(ws, D.ProvinceRequest("34:31")),
               "compare": lambda: D.compare(ws, D.CompareRequest(("34:31", "34:79")))}[page]()
    for table in content.tables():
        base = f"/download/{page}/{table.key}"
        r = client.get(f"{base}.csv?{query}")
        assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf"), (table.key, r.text[:300])
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert len(rows) == len(table.rows) + 1
        assert rows[0][: len(table.columns)] == [c.header for c in table.columns]
        x = client.get(f"{base}.xlsx?{query}")
        assert x.status_code == 200
        sheet = load_workbook(io.BytesIO(x.content)).active
        assert sheet.freeze_panes == "A2" and sheet.max_row == len(table.rows) + 1
        for j, c in enumerate(table.columns, start=1):
            if c.digits is not None:
                cells = [sheet.cell(i, j).value for i in range(2, sheet.max_row + 1)]
                assert all(v is None or isinstance(v, int | float) for v in cells), (table.key, c.code, cells[:3])
        s = client.get(f"{base}.sdmx.csv?{query}")
        assert s.status_code == 200 and s.text.startswith("STRUCTURE,STRUCTURE_ID,ACTION")


def test_bad_requests_get_a_bilingual_page(client):
    r = client.get("/province/Atlantis")
    assert r.status_code == 404 and "UNKNOWN_TERRITORY" in r.text and "Unknown territory" in r.text
    r = client.get("/download/overview/nothing.csv")
    assert r.status_code == 404 and "UNKNOWN_TABLE" in r.text
    r = client.get("/download/overview/ranking.pdf")
    assert r.status_code == 400 and "BAD_FORMAT" in r.text
    r = client.get("/download/elsewhere/ranking.csv")
    assert r.status_code == 404 and "UNKNOWN_PAGE" in r.text
    r = client.get("/compare?t=34_31&lang=en")
    assert r.status_code == 400 and "COMPARE_COUNT" in r.text and "Choose 2 to 4" in r.text
    r = client.get("/?period=2025-Q3")
    assert r.status_code == 400 and "BAD_PERIOD" in r.text
    r = client.get("/methodology/../../etc/passwd")
    assert r.status_code == 404
    assert client.get("/methodology/nothing-here").status_code == 404


def test_the_data_page_checks_a_file_whole_and_stores_nothing(client, ws, tmp_path):
    before = ws.store.data_version()
    bad = (ROOT / "examples" / "bad.csv").read_bytes()
    r = client.post("/data", files={"file": ("bad.csv", bad, "text/csv")})
    assert r.status_code == 422
    assert 'id="problems"' in r.text and r.text.count("<tr>") >= 3
    assert str(ws.tmp) not in r.text                         # no server path on the page
    good = (ROOT / "examples" / "va_hai_phong.csv").read_bytes()
    r = client.post("/data?lang=en", files={"file": ("va_hai_phong.csv", good, "text/csv")})
    assert r.status_code == 200 and "The file is valid" in r.text and "Nothing was stored" in r.text
    r = client.post("/data", data={"decimal": "."})
    assert r.status_code == 422 and "NO_FILE" in r.text
    assert ws.store.data_version() == before
    assert not list(ws.tmp.glob("check-*"))                  # the upload is gone


def test_the_data_page_refuses_a_file_over_its_limit(client):
    from kinhteso.web import DATA_CHECK_BYTES

    big = b"indicator,territory,sector,period,value,unit\n" + b"x" * (DATA_CHECK_BYTES + 10)
    r = client.post("/data", files={"file": ("big.csv", big, "text/csv")})
    assert r.status_code == 413


def test_templates_download_from_the_data_page(client):
    from openpyxl import load_workbook

    r = client.get("/data/template/GRDP_VA.xlsx")
    assert r.status_code == 200 and load_workbook(io.BytesIO(r.content)).sheetnames
    r = client.get("/data/template/GRDP_VA.csv")
    assert r.status_code == 200 and b"indicator" in r.content.lower()
    r = client.get("/data/template/NOT_AN_INDICATOR.xlsx")
    assert r.status_code in (400, 404, 422) and "NOT_AN_INDICATOR" in r.text


def test_a_private_server_refuses_the_dashboard(dash_ws, tmp_path):
    from fastapi.testclient import TestClient

    from kinhteso.api import create_app

    copy = tmp_path / "ws"
    shutil.copytree(dash_ws, copy, ignore=shutil.ignore_patterns("*.lock", "tmp"))
    with TestClient(create_app(copy, private=True)) as c:
        for path in ("/", "/province/34_31", "/compare?t=34_31&t=34_79", "/download/overview/ranking.csv"):
            r = c.get(path)
            assert r.status_code == 403 and "DASHBOARD_PRIVATE" in r.text, path


def test_the_province_page_shows_words_and_the_downloads_keep_the_codes(client):
    page = client.get("/province/34_31?lang=en").text
    assert "(for analysts)" not in page                      # the code columns are for the XLSX and CSV
    assert 'id="table-sectors"' in page and 'id="table-dti"' in page
    csv_text = client.get("/download/province/sectors.csv?territory=34_31&lang=en").content.decode("utf-8-sig")
    assert "(for analysts)" in csv_text.splitlines()[0]


def test_the_province_page_shows_every_dataset_s_indicators_under_the_rule(ws):
    """Generalised from the registry: each owner kind of the datasets with stored values for the
    territory has its table (the priority sectors beside the port), a suppressed cell shows C with
    the rule, and the agencies whose records fed them are named (docs/sharing.md)."""
    from kinhteso.reference.datasets import datasets
    from kinhteso.service.dashboard import ProvinceRequest, province
    from kinhteso.service.sharing import RULE

    derived = {d.code: ds.owner_kind for ds in datasets().values() for d in ds.derived}
    stored = ws.store.results(territory="34:31")
    stored = stored[stored["indicator"].isin(derived) & stored["value"].notna() & stored["period"].str.startswith("2025")]
    page = province(ws, ProvinceRequest("34:31", "2025", lang="en"))
    keys = {t.key for t in page.tables()}
    assert {derived[i] for i in stored["indicator"]} <= keys
    for t in page.tables():
        if t.key in {derived[i] for i in stored["indicator"]}:
            cells = [v for r in t.rows for v in r[1:]]
            assert all(v is None or v == "C" or isinstance(v, float) for v in cells)
            if "C" in cells:
                assert RULE["en"] in t.notes
    if len(stored):
        assert "record_sources" in keys
