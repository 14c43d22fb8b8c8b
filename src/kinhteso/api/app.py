"""The FastAPI app of ``kinhteso serve``: thin routes over :mod:`kinhteso.service`.

Every route parses its query into a service request, calls the service, renders JSON (or CSV
with ``Accept: text/csv``). Every :class:`~kinhteso.errors.KinhtesoError` becomes a JSON body
``{"code", "message", "vi", "en", "problems"?}`` with its HTTP status, the message in the
language of ``Accept-Language`` (Vietnamese by default).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import math
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from kinhteso import __version__
from kinhteso.api.auth import ApiAuthError
from kinhteso.errors import InputRejected, KinhtesoError, UsageError, WorkspaceError

__all__ = ["create_app", "PREFIX", "status_of", "language", "render", "ws_of", "error_body"]

PREFIX = "/api/v1"


def language(request: Request) -> str:
    """``vi`` or ``en`` from ``Accept-Language`` (the first of them named; Vietnamese by default)."""
    for part in request.headers.get("accept-language", "").lower().split(","):
        tag = part.split(";")[0].strip()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("vi"):
            return "vi"
    return "vi"


def status_of(exc: KinhtesoError) -> int:
    """The HTTP status of an error: 422 a refused file or request, 400 a usage error, 401/403
    access, 404 an unknown thing, 503 a busy store, 500 otherwise."""
    if isinstance(exc, ApiAuthError) or isinstance(getattr(exc, "status", None), int):
        return exc.status
    if isinstance(exc, InputRejected):
        return 422
    if exc.code.startswith("UNKNOWN_") or exc.code in ("NO_WORKSPACE", "NO_STORE"):
        return 404
    if isinstance(exc, UsageError):
        return 400
    if isinstance(exc, WorkspaceError) and exc.code == "STORE_LOCKED":
        return 503
    if isinstance(exc, WorkspaceError):
        return 500
    return 422


def error_body(exc: KinhtesoError, lang: str) -> dict[str, Any]:
    body: dict[str, Any] = {"code": exc.code, "message": exc.message(lang), "vi": exc.vi, "en": exc.en}
    if isinstance(exc, InputRejected):
        body["problems"] = [p.as_dict() for p in exc.problems]
    return body


def _clean(obj: Any) -> Any:
    """JSON-safe: NaN/inf as null, timestamps as ISO text, numpy scalars as Python numbers."""
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if hasattr(obj, "item"):
        return _clean(obj.item())
    return obj


def render(request: Request, records: list[dict] | dict, *, status: int = 200) -> Response:
    """JSON by default; CSV (cells neutralised, see kinhteso.safe_io) when the client accepts
    ``text/csv`` and the data are a list of records."""
    if isinstance(records, list) and "text/csv" in request.headers.get("accept", ""):
        import pandas as pd  # noqa: PLC0415

        from kinhteso.safe_io import safe_frame  # noqa: PLC0415

        frame = safe_frame(pd.DataFrame(_clean(records)))
        return Response(frame.to_csv(index=False), status_code=status, media_type="text/csv; charset=utf-8")
    return JSONResponse(_clean(records), status_code=status)


def create_app(workspace: Path, *, private: bool = False) -> FastAPI:
    """The app serving ``workspace``; the server owns it (opened at start-up, closed at shutdown)."""
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        ws = Workspace.open(Path(workspace), owner=True)
        ws.store  # open it now: a store that cannot be opened stops the server at once
        app.state.ws = ws
        try:
            yield
        finally:
            ws.close()

    # FastAPI's native OpenTelemetry hooks are off: no provider is configured, and asking whether
    # one is costs a look-up of the environment on every request.
    app = FastAPI(title="kinhteso API", version=__version__, lifespan=lifespan,
                  telemetry={"tracing": False, "metrics": False, "logs": False},
                  description="Đo lường kinh tế số / measuring the digital economy: submissions, results, "
                              "official figures. Vietnamese by default; `Accept-Language: en` for English.")
    app.state.private = private

    @app.exception_handler(KinhtesoError)
    async def _kinhteso_error(request: Request, exc: KinhtesoError) -> JSONResponse:
        return JSONResponse(error_body(exc, language(request)), status_code=status_of(exc),
                            headers=getattr(exc, "headers", None) or None)

    _install_http_errors(app)

    for name in _PARTS:  # each part of the API adds its routes (and middleware) with install(app)
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).install(app)
    return app


def _install_http_errors(app: FastAPI) -> None:
    """FastAPI's own refusals in the API's bilingual shape: an unknown path (404), a method the
    path does not take (405), a query or body that does not parse (422 ``BAD_REQUEST``; malformed
    JSON 400 ``BAD_JSON``). No text of the request is echoed into a response header."""
    from fastapi.exceptions import RequestValidationError  # noqa: PLC0415
    from starlette.exceptions import HTTPException as StarletteHTTPException  # noqa: PLC0415

    texts = {
        404: ("NOT_FOUND", "Không có đường dẫn này; xem /docs hoặc /openapi.json.",
              "No such path; see /docs or /openapi.json."),
        405: ("METHOD_NOT_ALLOWED", "Đường dẫn này không nhận phương thức đó.", "This path does not take that method."),
        413: ("TOO_LARGE", "Nội dung yêu cầu quá lớn.", "The request body is too large."),
        415: ("UNSUPPORTED_MEDIA_TYPE", "Kiểu nội dung không được hỗ trợ.", "Unsupported media type."),
    }

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, vi, en = texts.get(exc.status_code, ("HTTP_ERROR", f"Lỗi HTTP {exc.status_code}.",
                                                   f"HTTP error {exc.status_code}."))
        body = {"code": code, "message": vi if language(request) == "vi" else en, "vi": vi, "en": en}
        headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"}
        return JSONResponse(body, status_code=exc.status_code, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"code": str(e.get("type", "invalid")).upper(), "field": ".".join(str(x) for x in e.get("loc", ())),
                     "vi": f"Giá trị không hợp lệ ở {'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg', '')}",
                     "en": f"Invalid value at {'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg', '')}"}
                    for e in exc.errors()]
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            code, status = "BAD_JSON", 400
            vi, en = "Nội dung JSON không đọc được.", "The JSON body cannot be read."
        else:
            code, status = "BAD_REQUEST", 422
            vi, en = "Tham số của yêu cầu không hợp lệ.", "The request's parameters are not valid."
        body = {"code": code, "message": vi if language(request) == "vi" else en, "vi": vi, "en": en,
                "problems": problems}
        return JSONResponse(body, status_code=status)


#: The modules that make up the server (the API and the dashboard), each with ``install(app: FastAPI) -> None``.
_PARTS = ("kinhteso.api.log", "kinhteso.api.routes", "kinhteso.api.submissions", "kinhteso.api.changes",
          "kinhteso.api.sharing", "kinhteso.api.sdmx", "kinhteso.web")


def ws_of(request: Request):
    """The workspace the server owns."""
    return request.app.state.ws


def dumps(obj: Any) -> str:
    """JSON text of an API body (used by the docs generator and tests)."""
    return json.dumps(_clean(obj), ensure_ascii=False, sort_keys=True)
