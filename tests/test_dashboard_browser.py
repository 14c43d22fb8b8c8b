"""The dashboard in a real browser: headless Debian Chromium (/usr/bin/chromium, installed by
scripts/install_browser.sh from `make test`) driven by Playwright, against `kinhteso serve`'s app
(uvicorn on a free loopback port) over a copy of the demo workspace.

Every page in both languages, a province opened from the map (by mouse and by keyboard), the
ranking sorted, a bad file uploaded and its problems shown, a table downloaded and opened with
openpyxl, the pages on a phone's width; every request the browser makes is recorded, and any
that would leave 127.0.0.1 is blocked and fails the test. Screenshots of each page go to
``build/screenshots/`` (not committed) for a person to look at.

Chromium missing is a failure, not a skip: `make test` installs it.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "build" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(demo_run, tmp_path_factory):
    """The dashboard over a copy of the demo workspace, served by uvicorn in a thread."""
    import uvicorn

    from kinhteso.api import create_app

    root, result = demo_run
    assert result.exit_code == 0, result.output
    copy = tmp_path_factory.mktemp("browser") / "ws"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("*.lock", "tmp"))
    app = create_app(copy)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    for _ in range(400):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started
    base = f"http://127.0.0.1:{port}"
    import httpx

    for path in ("/", "/?lang=en", "/province/34_31", "/province/34_31?lang=en"):  # warm the page cache
        httpx.get(base + path, timeout=120)
    yield base, app
    srv.should_exit = True
    t.join(15)


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.exists(), ("Debian's Chromium is missing: `make test` installs it (scripts/install_browser.sh); "
                               "or run `apt-get install chromium chromium-driver` as root")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser, site):
    """A fresh page whose every request is recorded; one that would leave 127.0.0.1 is aborted."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    seen: list[str] = []
    away: list[str] = []
    errors: list[str] = []

    def route(r):
        url = r.request.url
        seen.append(url)
        host = urlparse(url).hostname
        if url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            r.continue_()
        else:
            away.append(url)
            r.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.seen, pg.away, pg.errors = seen, away, errors
    yield pg
    context.close()
    assert not away, f"requests leaving 127.0.0.1: {away}"
    assert not errors, f"JavaScript errors: {errors}"


#: A page taller or wider than this (px) is captured as its first screen only: the methodology page is
#: a long document, and Chromium does not capture the whole of it within a screenshot's time.
SHOT_MAX = (4_000, 12_000)


def _shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    width, height = pg.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    whole = width <= SHOT_MAX[0] and height <= SHOT_MAX[1]
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=whole)


PAGES = {"overview": "/", "province": "/province/34_31", "nation": "/province/VN", "compare": "/compare?t=34_31&t=34_79&t=34_01",
         "methodology": "/methodology", "data": "/data"}


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_each_page_loads_in_both_languages(page, site, name, lang):
    base, _ = site
    path = PAGES[name]
    url = base + path + (("&" if "?" in path else "?") + "lang=en" if lang == "en" else "")
    response = page.goto(url, timeout=120_000)
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == lang
    nav = page.locator("nav[aria-label]").first.inner_text()
    assert ("Tổng quan" in nav and "Phương pháp" in nav) if lang == "vi" else ("Overview" in nav and "Methodology" in nav)
    if name in ("overview", "province", "nation", "compare"):
        label = page.locator("#demo-label")
        assert label.is_visible()
        assert ("SỐ LIỆU MINH HỌA" if lang == "vi" else "ILLUSTRATIVE DEMO DATA") in label.inner_text()
        page.wait_for_selector(".plot .main-svg", timeout=30_000)      # plotly drew the charts
        assert page.locator(".plot .main-svg").count() >= 1
        assert page.locator("a.download[data-format='xlsx']").count() >= 1
    if name == "province":
        assert ("Hải Phòng" if lang == "vi" else "Hai Phong") in page.locator("h1").inner_text()
    if name == "methodology":
        assert page.locator("article.markdown h1").count() >= 1
    _shot(page, f"{name}-{lang}")  # the page in the language it is named after, before the switch
    # the one click to the other language
    page.locator("#lang-switch").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == ("en" if lang == "vi" else "vi")
    assert all(urlparse(u).hostname == "127.0.0.1" for u in page.seen if u.startswith("http"))


def test_open_a_province_from_the_map_by_mouse_and_by_keyboard(page, site):
    base, _ = site
    page.goto(base + "/", timeout=120_000)
    tiles = page.locator("svg.tilemap a.tile")
    assert tiles.count() == 34
    page.locator("svg.tilemap a.tile[data-key='34:31']").click()
    page.wait_for_url("**/province/34_31**")
    assert "Hải Phòng" in page.locator("h1").inner_text()
    page.goto(base + "/?lang=en", timeout=120_000)
    page.locator("svg.tilemap a.tile[data-key='34:79']").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/province/34_79**", timeout=120_000)
    assert "Ho Chi Minh" in page.locator("h1").inner_text()
    assert page.locator("html").get_attribute("lang") == "en"     # the language kept


def test_the_ranking_sorts_by_a_column(page, site):
    base, _ = site
    page.goto(base + "/?lang=en", timeout=120_000)
    table = page.locator("#table-ranking table")
    share = table.locator("button.sort").nth(2)
    share.click()                                        # ascending
    values = [float(v) for v in table.locator("tbody td:nth-child(3)").evaluate_all(
        "cells => cells.map(c => c.getAttribute('data-value')).filter(v => v)")]
    assert values == sorted(values) and len(values) >= 2
    share.press("Enter")                                 # the keyboard reverses it
    again = [float(v) for v in table.locator("tbody td:nth-child(3)").evaluate_all(
        "cells => cells.map(c => c.getAttribute('data-value')).filter(v => v)")]
    assert again == sorted(values, reverse=True)


def test_upload_a_bad_file_and_see_its_problems(page, site):
    base, app = site
    before = app.state.ws.store.data_version()
    page.goto(base + "/data", timeout=120_000)
    page.set_input_files("#file", str(ROOT / "examples" / "bad.csv"))
    page.locator("#check-form button[type=submit]").click()
    page.wait_for_selector("#check-result")
    assert "bad" in page.locator("#check-result").get_attribute("class")
    rows = page.locator("#problems tbody tr")
    assert rows.count() >= 2
    text = page.locator("#problems").inner_text()
    assert str(app.state.ws.tmp) not in text                 # no server path shown
    _shot(page, "data-problems-vi")
    page.goto(base + "/data?lang=en", timeout=120_000)
    page.set_input_files("#file", str(ROOT / "examples" / "va_hai_phong.csv"))
    page.locator("#check-form button[type=submit]").click()
    page.wait_for_selector("#check-result.ok")
    assert "Nothing was stored" in page.locator("#check-result").inner_text()
    assert app.state.ws.store.data_version() == before


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "sdmx.csv"])
def test_download_a_table_and_open_it(page, site, tmp_path, fmt):
    base, _ = site
    page.goto(base + "/province/34_31?lang=en", timeout=120_000)
    link = page.locator(f"#table-components a.download[data-format='{fmt}']")
    with page.expect_download() as info:
        link.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.name.endswith(f"components.{fmt}")
    if fmt == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(target).active
        header = [c.value for c in sheet[1]]
        assert any("Value added" in str(h) and "VND bn" in str(h) for h in header), header
        values = [sheet.cell(i, 2).value for i in range(2, sheet.max_row + 1)]
        assert values and all(isinstance(v, int | float) for v in values), values
    elif fmt == "csv":
        assert target.read_bytes().startswith(b"\xef\xbb\xbf")
    else:
        assert target.read_text(encoding="utf-8").startswith("STRUCTURE,STRUCTURE_ID,ACTION")


@pytest.mark.parametrize("name", ["overview", "province", "compare", "data"])
def test_readable_on_a_phone(browser, site, name):
    base, _ = site
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    pg = context.new_page()
    pg.goto(base + PAGES[name], timeout=120_000)
    overflow = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name}: the page is {overflow}px wider than the phone"
    size = pg.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 14
    _shot(pg, f"{name}-phone")
    context.close()


def test_keyboard_reaches_the_content_first(page, site):
    base, _ = site
    page.goto(base + "/", timeout=120_000)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"                              # the skip link comes first
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
