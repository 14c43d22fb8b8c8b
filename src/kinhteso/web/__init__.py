"""The dashboard of ``kinhteso serve``: HTML pages over :mod:`kinhteso.service.dashboard`.

Pages (Vietnamese by default, ``?lang=en`` for English; every internal link keeps the language):

- ``/`` the overview: the 34 provinces on a tile map coloured by their digital-economy share, a
  sortable ranking, the nation's quarterly trend against its targets;
- ``/province/{territory}`` one territory's page (a key such as ``34_31`` or ``34:31``, or a name);
- ``/compare?t=34_31&t=34_79`` two to four territories side by side;
- ``/methodology`` (and ``/methodology/{doc}``) the project's methodology documents rendered;
- ``/data`` templates to download, and a file checked whole in the browser (nothing stored).

Every table is downloadable: ``/download/{page}/{table}.csv|xlsx|sdmx.csv`` with the page's own
query. The pages render only: the content comes from the service (cached per query and data
version, as the API's reads, :class:`kinhteso.api.routes._ReadCache`). JavaScript, CSS and fonts
are served by the app itself (``/static/``: plotly.js from the plotly package, DejaVu Sans from
matplotlib's): no page fetches anything from another host. Under ``serve --private`` the pages
are refused (403): they show results to whoever asks.
"""

from __future__ import annotations

import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from kinhteso.errors import InputRejected, KinhtesoError, UsageError

__all__ = ["install", "PAGES", "DATA_CHECK_BYTES", "STATIC", "docs_folder"]

#: The pages whose tables can be downloaded.
PAGES = ("overview", "province", "compare")
#: The largest file the data page checks (bytes of the request): 20 MB.
DATA_CHECK_BYTES = 20 * 1024 * 1024
_HERE = Path(__file__).parent
STATIC = _HERE / "static"
_FORMATS = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "sdmx.csv": "application/vnd.sdmx.data+csv; version=2.0.0; charset=utf-8"}


# --- assets -----------------------------------------------------------------------------------------
def _asset(name: str) -> Path | None:
    """A file ``/static/`` serves: the project's CSS and JS, plotly.js from the plotly package,
    the DejaVu Sans fonts from matplotlib's."""
    if name == "plotly.min.js":
        import plotly  # noqa: PLC0415

        return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if name.startswith("fonts/") and name[6:] in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        import matplotlib  # noqa: PLC0415

        return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name[6:]
    path = (STATIC / name).resolve()
    return path if path.parent == STATIC.resolve() and path.is_file() else None


def docs_folder() -> Path | None:
    """The project's ``docs/`` (beside ``src/`` in a checkout or an editable install), or None."""
    for parent in _HERE.parents:
        if (parent / "docs" / "methodology.md").is_file():
            return parent / "docs"
    return None


# --- the pages' words ---------------------------------------------------------------------------------
def _lang(request: Request) -> str:
    lang = request.query_params.get("lang", "vi")
    return lang if lang in ("vi", "en") else "vi"


def _url(path: str, lang: str, **query: Any) -> str:
    """An internal link that keeps the language (Vietnamese needs no parameter)."""
    items: list[tuple[str, str]] = []
    for k, v in query.items():
        if v is None or v == "":
            continue
        items += [(k, str(x)) for x in v] if isinstance(v, list | tuple) else [(k, str(v))]
    if lang != "vi":
        items.append(("lang", lang))
    return path + ("?" + urllib.parse.urlencode(items) if items else "")


def _env():
    import jinja2  # noqa: PLC0415

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_HERE / "templates")),
                             autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    from kinhteso.report._format import cell_text  # noqa: PLC0415

    env.globals.update(cell=cell_text, url=_url)
    return env


_ENV = None


def _render(request: Request, template: str, *, status: int = 200, **ctx: Any) -> HTMLResponse:
    global _ENV  # noqa: PLW0603
    if _ENV is None:
        _ENV = _env()
    from kinhteso import __version__  # noqa: PLC0415

    lang = ctx.get("lang") or _lang(request)
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    other = "en" if lang == "vi" else "vi"
    switch = request.url.path + ("?" + urllib.parse.urlencode(query + ([("lang", other)] if other != "vi" else []))
                                 if query or other != "vi" else "")
    text = _ENV.get_template(template).render(lang=lang, t=_words(lang), switch=switch, version=__version__,
                                               path=request.url.path, **ctx)
    return HTMLResponse(text, status_code=status)


def _words(lang: str):
    return lambda vi, en: vi if lang == "vi" else en


def _error_page(request: Request, exc: KinhtesoError, status: int | None = None) -> HTMLResponse:
    from kinhteso.api.app import status_of  # noqa: PLC0415

    lang = _lang(request)
    problems = [p.as_dict() for p in exc.problems] if isinstance(exc, InputRejected) else []
    return _render(request, "error.html", status=status or status_of(exc), title=exc.message(lang), code=exc.code,
                   vi=exc.vi, en=exc.en, problems=problems)


def _private(request: Request) -> HTMLResponse | None:
    if getattr(request.app.state, "private", False):
        err = UsageError("DASHBOARD_PRIVATE",
                         "Máy chủ chạy --private: bảng điều khiển không mở cho người chưa đăng nhập; dùng API với mã truy cập.",
                         "The server runs --private: the dashboard is not open to anonymous readers; use the API with a token.")
        return _error_page(request, err, 403)
    return None


# --- content, cached ----------------------------------------------------------------------------------
def _territory_text(text: str) -> str:
    """A territory as the URL gives it: ``34_31`` (SDMX-safe) or ``34:31`` or a name."""
    from kinhteso.sdmx import territory_key  # noqa: PLC0415

    return territory_key(text) or text


def _request_of(kind: str, request: Request, territory: str | None = None):
    """The service request a page's query names."""
    from kinhteso.service import dashboard as D  # noqa: PLC0415

    q = request.query_params
    lang, view, period = _lang(request), q.get("view") or "gso", (q.get("period") or "").strip() or None
    if kind == "overview":
        return D.OverviewRequest(period, view, lang)
    if kind == "province":
        return D.ProvinceRequest(_territory_text(territory or q.get("territory") or ""), period, view, lang)
    if kind == "compare":
        return D.CompareRequest(tuple(_territory_text(t) for t in q.getlist("t") if t.strip()), period, view, lang)
    raise UsageError("UNKNOWN_PAGE", f"Không có trang '{kind}'; các trang có bảng: {', '.join(PAGES)}.",
                     f"No page '{kind}'; the pages with tables: {', '.join(PAGES)}.")


async def _page(request: Request, kind: str, territory: str | None = None):
    """The page's content from the read cache (computed in a worker thread when it is not at hand)."""
    from kinhteso.api.app import ws_of  # noqa: PLC0415
    from kinhteso.api.routes import _cache  # noqa: PLC0415
    from kinhteso.service import dashboard as D  # noqa: PLC0415

    req = _request_of(kind, request, territory)
    run = {"overview": D.overview, "province": D.province, "compare": D.compare}[kind]
    entry = await _cache(request).fetch(request, ("dashboard", kind, req), lambda: run(ws_of(request), req), fresh=False)
    return entry


def _charts(page) -> list[dict]:
    """Plotly figures (data and layout) of the page's charts, keyed by ``chart-<n>``."""
    out = []
    dash = {"solid": None, "dashed": "dash"}
    n = 0
    for sec in page.sections:
        for ch in sec.charts:
            traces = []
            for ln in ch.lines:
                tr: dict[str, Any] = {"x": ln.x, "y": ln.y, "name": ln.label, "type": "scatter",
                                      "hovertemplate": "%{y:.2f}<extra>" + ln.label.replace("<", "&lt;") + "</extra>"}
                if ln.style == "points":
                    tr["mode"] = "markers"
                    tr["marker"] = {"size": 9}
                else:
                    tr["mode"] = "lines+markers"
                    tr["line"] = {"dash": dash.get(ln.style) or "solid"}
                if ln.lower is not None and ln.upper is not None:
                    tr["error_y"] = {"type": "data", "symmetric": False,
                                     "array": [None if u is None or y is None else u - y for u, y in zip(ln.upper, ln.y)],
                                     "arrayminus": [None if lo is None or y is None else y - lo for lo, y in zip(ln.lower, ln.y)]}
                traces.append(tr)
            n += 1
            out.append({"id": f"chart-{n}", "section": sec.key, "title": ch.title, "note": ch.note,
                        "figure": {"data": traces, "layout": {
                            "title": {"text": ch.title, "font": {"size": 14}},
                            "xaxis": {"title": {"text": "năm" if page.lang == "vi" else "year"}, "dtick": 1, "tickformat": "d"},
                            "yaxis": {"title": {"text": ch.y_label}},
                            "separators": ",." if page.lang == "vi" else ".,",
                            "legend": {"orientation": "h", "y": -0.25}, "margin": {"l": 60, "r": 20, "t": 50, "b": 40},
                            "font": {"family": "DejaVu Sans, sans-serif"}}}})
    return out


def _page_context(request: Request, kind: str, page) -> dict:
    q = request.query_params
    query = {"period": q.get("period"), "view": q.get("view")}
    if kind == "compare":
        query["t"] = q.getlist("t")
    return {"page": page, "charts": _charts(page), "download_query": query, "kind": kind}


def _palette(page) -> list[dict]:
    """Six classes of the map's colour scale (ColorBrewer Blues) at the sixths of the provinces'
    values (quantile classes: one outlier does not wash the others out), each with its range."""
    colours = ["#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"]
    values = sorted(t.value for t in page.tiles if t.value is not None)
    if not values:
        return []
    n = len(colours)
    cuts = [values[min(len(values) - 1, round(len(values) * (i + 1) / n) - 1)] for i in range(n)]
    out, lo = [], values[0]
    for i, (c, hi) in enumerate(zip(colours, cuts)):
        if out and hi <= out[-1]["hi"]:
            continue  # ties: no empty class
        out.append({"colour": c, "lo": lo, "hi": hi, "dark": i >= 4})
        lo = hi
    return out


def _tile_class(value: float | None, classes: list[dict]) -> dict | None:
    if value is None or not classes:
        return None
    for c in classes:
        if value <= c["hi"] + 1e-9:
            return c
    return classes[-1]


# --- routes -----------------------------------------------------------------------------------------------
def install(app: FastAPI) -> None:
    """Add the dashboard's pages, downloads and static files to ``app``."""
    limits = dict(getattr(app.state, "path_limits", None) or {})
    limits["/data"] = DATA_CHECK_BYTES
    app.state.path_limits = limits
    html = {"include_in_schema": False}

    @app.get("/static/{name:path}", **html)
    def static(name: str) -> Response:
        path = _asset(name)
        if path is None or not path.is_file():
            return Response(status_code=404)
        media = {".js": "text/javascript", ".css": "text/css", ".ttf": "font/ttf"}.get(path.suffix, None)
        return FileResponse(path, media_type=media, headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/favicon.ico", **html)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/", **html)
    async def overview_page(request: Request) -> Response:
        if (refused := _private(request)) is not None:
            return refused
        try:
            entry = await _page(request, "overview")
        except KinhtesoError as exc:
            return _error_page(request, exc)
        return _cached_html(request, entry, "overview", lambda: _render(
            request, "overview.html", **_page_context(request, "overview", entry.value),
            classes=(classes := _palette(entry.value)),
            tile_class=lambda v: _tile_class(v, classes), territories=_choices(request)))

    @app.get("/province/{territory}", **html)
    async def province_page(request: Request, territory: str) -> Response:
        if (refused := _private(request)) is not None:
            return refused
        try:
            entry = await _page(request, "province", territory)
        except KinhtesoError as exc:
            return _error_page(request, exc)
        return _cached_html(request, entry, "province", lambda: _render(
            request, "province.html", **_page_context(request, "province", entry.value), territories=_choices(request),
            territory_path=entry.value.territory.replace(":", "_")))

    @app.get("/province", **html)
    def province_pick(request: Request) -> Response:
        """The province form of the navigation (``?territory=``) → the province's page."""
        t = (request.query_params.get("territory") or "").strip()
        q = {k: request.query_params.get(k) for k in ("period", "view")}
        if not t:
            return RedirectResponse(_url("/", _lang(request)), status_code=303)
        return RedirectResponse(_url(f"/province/{urllib.parse.quote(t.replace(':', '_'))}", _lang(request), **q),
                                status_code=303)

    @app.get("/compare", **html)
    async def compare_page(request: Request) -> Response:
        if (refused := _private(request)) is not None:
            return refused
        chosen = [t for t in request.query_params.getlist("t") if t.strip()]
        if not chosen:  # the form alone
            return _render(request, "compare.html", page=None, charts=[], territories=_choices(request), chosen=[],
                           kind="compare", download_query={})
        try:
            entry = await _page(request, "compare")
        except KinhtesoError as exc:
            return _render(request, "compare.html", status=400 if isinstance(exc, UsageError) else 422, page=None,
                           charts=[], territories=_choices(request), chosen=chosen, kind="compare", download_query={},
                           error={"code": exc.code, "message": exc.message(_lang(request))})
        return _cached_html(request, entry, "compare", lambda: _render(
            request, "compare.html", **_page_context(request, "compare", entry.value), territories=_choices(request),
            chosen=[t.replace(":", "_") for t in entry.value.territories]))

    @app.get("/methodology", **html)
    @app.get("/methodology/{doc}", **html)
    def methodology_page(request: Request, doc: str = "methodology") -> Response:
        return _methodology(request, doc)

    @app.get("/data", **html)
    def data_page(request: Request) -> Response:
        return _data(request)

    @app.post("/data", **html)
    async def data_check(request: Request) -> Response:
        return await _data_check(request)

    @app.get("/data/template/{codes}.{fmt}", **html)
    def data_template(request: Request, codes: str, fmt: str) -> Response:
        from kinhteso.api.app import ws_of  # noqa: PLC0415
        from kinhteso.service.dashboard import template_file  # noqa: PLC0415

        folder = Path(tempfile.mkdtemp(dir=ws_of(request).tmp))
        try:
            path = template_file(ws_of(request), codes.split(","), fmt, folder)
            body = Path(path).read_bytes()
        except KinhtesoError as exc:
            return _error_page(request, exc)
        finally:
            import shutil  # noqa: PLC0415

            shutil.rmtree(folder, ignore_errors=True)
        return Response(body, media_type=_FORMATS[fmt],
                        headers={"Content-Disposition": f'attachment; filename="{Path(path).name}"'})

    @app.get("/download/{kind}/{file}", **html)
    async def download(request: Request, kind: str, file: str) -> Response:
        if (refused := _private(request)) is not None:
            return refused
        fmt = next((f for f in sorted(_FORMATS, key=len, reverse=True) if file.endswith("." + f)), None)
        if fmt is None:
            return _error_page(request, UsageError("BAD_FORMAT", f"Định dạng của '{file}' không có; dùng .csv, .xlsx hoặc .sdmx.csv.",
                                                   f"No format for '{file}'; use .csv, .xlsx or .sdmx.csv."), 400)
        table = file[: -len(fmt) - 1]
        try:
            if kind not in PAGES:
                _request_of(kind, request)  # the bilingual refusal
            entry = await _page(request, kind, request.query_params.get("territory"))
            body = _table_file(entry.value, table, fmt)
        except KinhtesoError as exc:
            return _error_page(request, exc)
        page = entry.value
        who = (page.territory or "-".join(page.territories) or "34").replace(":", "_")
        name = f"kinhteso-{kind}-{who}-{page.period or ''}-{table}.{fmt}"
        return Response(body, media_type=_FORMATS[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _cached_html(request: Request, entry, kind: str, make) -> Response:
    """The page's HTML, rendered once per cached content and query."""
    key = "html:" + str(request.url.query)
    body = entry.bodies.get(key)
    if body is None:
        body = entry.bodies[key] = make()
    return Response(body.body, status_code=body.status_code, media_type="text/html; charset=utf-8")


def _choices(request: Request) -> list[tuple[str, str]]:
    """The 34 provinces and the nation for the navigation's forms: (URL key, name)."""
    from kinhteso.reference.territories import get_territory  # noqa: PLC0415
    from kinhteso.service.dashboard import tile_layout  # noqa: PLC0415

    lang = _lang(request)
    out = [("VN", "Việt Nam" if lang == "vi" else "Viet Nam")]
    names = []
    for key in tile_layout():
        t = get_territory(key)
        names.append((key.replace(":", "_"), t.name_vi if lang == "vi" else t.name_en))
    return out + sorted(names, key=lambda x: _sort_key(x[1]))


def _sort_key(text: str) -> str:
    from kinhteso.reference.territories import strip_diacritics  # noqa: PLC0415

    return strip_diacritics(text).lower()


def _table_file(page, table: str, fmt: str) -> bytes:
    import io  # noqa: PLC0415

    from openpyxl import Workbook  # noqa: PLC0415

    from kinhteso.safe_io import csv_text, xlsx_cell  # noqa: PLC0415
    from kinhteso.service.dashboard import table_frame, table_sdmx  # noqa: PLC0415

    if fmt == "sdmx.csv":
        return table_sdmx(page, table).encode("utf-8")
    frame = table_frame(page, table)
    if fmt == "csv":
        return ("\ufeff" + csv_text(frame)).encode("utf-8")
    wb = Workbook()
    ws = wb.active
    ws.title = table[:31]
    ws.append([xlsx_cell(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        ws.append([xlsx_cell(v) for v in row])
    ws.freeze_panes = "A2"
    for i, col in enumerate(frame.columns, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = min(60, max(10, len(str(col)) + 2))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _methodology(request: Request, doc: str) -> Response:
    import re  # noqa: PLC0415

    from markdown_it import MarkdownIt  # noqa: PLC0415

    lang = _lang(request)
    folder = docs_folder()
    if not re.fullmatch(r"[a-z0-9\-]+", doc) or folder is None or not (folder / f"{doc}.md").is_file():
        return _error_page(request, UsageError(
            "UNKNOWN_DOCUMENT", f"Không có tài liệu '{doc}'" + ("" if folder else " (thư mục docs/ không được cài cùng gói)") + ".",
            f"No document '{doc}'" + ("" if folder else " (the docs/ folder is not installed with the package)") + "."), 404)
    text = (folder / f"{doc}.md").read_text(encoding="utf-8")
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    body = md.render(text)
    # links between the documents stay in the dashboard; a link's anchor is kept
    body = re.sub(r'href="(?:\./)?([a-z0-9\-]+)\.md(#[^"]*)?"',
                  lambda m: f'href="{_url("/methodology/" + m.group(1), lang)}{m.group(2) or ""}"', body)
    docs = sorted(p.stem for p in folder.glob("*.md"))
    return _render(request, "methodology.html", body=body, doc=doc, docs=docs)


def _data(request: Request, *, result: dict | None = None, status: int = 200) -> Response:
    from kinhteso.api.app import ws_of  # noqa: PLC0415
    from kinhteso.service.dashboard import templates  # noqa: PLC0415

    return _render(request, "data.html", status=status, indicators=templates(ws_of(request), _lang(request)),
                   result=result, limit_mb=DATA_CHECK_BYTES // 1024 // 1024)


async def _data_check(request: Request) -> Response:
    """Check an uploaded file whole, as ``kinhteso ingest`` would, and show every problem; nothing
    is stored (:func:`kinhteso.service.data.validate`)."""
    import shutil  # noqa: PLC0415
    import uuid  # noqa: PLC0415

    from starlette.concurrency import run_in_threadpool  # noqa: PLC0415

    from kinhteso.api.app import ws_of  # noqa: PLC0415
    from kinhteso.api.submissions import safe_name  # noqa: PLC0415
    from kinhteso.service.data import validate  # noqa: PLC0415

    lang = _lang(request)
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception:  # noqa: BLE001 - a body that does not parse
        return _data(request, status=400, result={"ok": False, "code": "BAD_MULTIPART", "message": _words(lang)(
            "Không đọc được tệp gửi lên.", "The upload cannot be read."), "problems": []})
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return _data(request, status=422, result={"ok": False, "code": "NO_FILE", "message": _words(lang)(
            "Chưa chọn tệp: chọn một tệp CSV hoặc XLSX.", "No file chosen: choose a CSV or XLSX file."), "problems": []})
    decimal = str(form.get("decimal") or ".")
    vsic = str(form.get("vsic") or "").strip() or None
    ws = ws_of(request)
    name = safe_name(upload.filename)
    folder = ws.tmp / f"check-{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    try:
        target = folder / name
        with open(target, "wb") as fh:
            while chunk := await upload.read(1 << 20):
                fh.write(chunk)
        await upload.close()
        try:
            summary = await run_in_threadpool(validate, ws, target, decimal=decimal if decimal in (".", ",") else ".",
                                              vsic=vsic if vsic in ("2018", "2025", "auto") else None)
        except InputRejected as exc:
            probs = [p.as_dict() for p in exc.problems]
            for p in probs:  # never a server path in a page
                for k in ("vi", "en", "message"):
                    if isinstance(p.get(k), str):
                        p[k] = p[k].replace(str(target), name)
            return _data(request, status=422, result={"ok": False, "code": exc.code, "file": name,
                                                      "message": exc.message(lang).replace(str(target), name),
                                                      "problems": probs})
        except KinhtesoError as exc:
            return _data(request, status=422, result={"ok": False, "code": exc.code, "file": name,
                                                      "message": exc.message(lang).replace(str(target), name), "problems": []})
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _data(request, result={"ok": True, "file": name, **summary})
