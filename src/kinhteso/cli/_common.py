"""Pieces every command shares: the workspace option, output formats, rendering."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import io
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kinhteso.i18n import current_lang, fmt_number
from kinhteso.periods import period

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("table", "csv", "json", "xlsx")


def workspace_option(f):
    """``--workspace DIR`` (default ``./workspace`` or ``KINHTESO_WORKSPACE``)."""
    return click.option(
        "--workspace",
        "workspace",
        type=click.Path(file_okay=False, path_type=Path),
        default=lambda: os.environ.get("KINHTESO_WORKSPACE", "workspace"),
        show_default="./workspace, or KINHTESO_WORKSPACE",
        help="Thư mục không gian làm việc / workspace directory.",
    )(f)


def format_option(f):
    """``--format table|csv|json|xlsx`` and ``--out FILE`` (see :func:`output_options`)."""
    return output_options("table", "csv", "json")(f)


class PeriodParam(click.ParamType):
    """A period option: any form :mod:`kinhteso.periods` reads (``2025-Q3``, ``Q3/2025``,
    ``Quý 3/2025``, ``07/2025``...), passed on as its SDMX code (``2025-Q3``); a malformed period
    is the usage error ``BAD_PERIOD`` (exit code 2), in the language of the command.
    ``many=True`` reads a comma-separated list and passes on the codes joined by commas.

    >>> PeriodParam().convert("Quý 3/2025", None, None)
    '2025-Q3'
    """

    name = "period"

    def __init__(self, *, many: bool = False) -> None:
        self.many = many

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str | None:
        if value is None:
            return None
        if not self.many:
            return period(value).code
        return ",".join(period(v).code for v in str(value).split(",") if v.strip())


#: ``type=`` of an option that takes one period, or a comma-separated list of periods.
PERIOD = PeriodParam()
PERIODS = PeriodParam(many=True)


def to_json(obj: Any) -> str:
    from kinhteso.safe_io import _json_text  # noqa: PLC0415

    return json.dumps(obj, ensure_ascii=False, indent=2, default=_json_text)


def render_frame(df: pd.DataFrame, fmt: str, *, digits: int = 2, title: str | None = None,
                 sheet: str | None = None, meta: dict | None = None) -> str:
    """Render a data frame as an aligned table (numbers in the language's format), CSV, JSON or
    (under ``--out``) an XLSX sheet named ``sheet``.

    CSV and XLSX are meant for a spreadsheet: the :data:`META_COLUMNS` the frame lacks are added
    from ``meta``, numbers are rounded to their unit's precision, and text cells are neutralised
    (:func:`kinhteso.safe_io.safe_cell`: ``=cmd`` is written ``'=cmd``; numbers stay numbers).
    A table in Vietnamese names its columns in words (:mod:`kinhteso.labels`); JSON keeps codes."""
    import pandas as pd  # noqa: PLC0415

    if fmt in TABULAR:
        df = _tabular(df, meta)
    if fmt == "xlsx":
        session = _OUTPUT.get()
        if session is None:
            raise click.UsageError("--format xlsx needs --out FILE")
        if (meta or {}).get("illustrative") or ("illustrative" in df.columns and df["illustrative"].fillna(False).astype(bool).any()):
            session.illustrative = True
        session.sheets.append((sheet or "data", df))
        return ""
    if fmt == "csv":
        from kinhteso.safe_io import csv_text  # noqa: PLC0415

        return csv_text(df).rstrip("\n")
    if fmt == "json":
        records = json.loads(df.to_json(orient="records", date_format="iso", force_ascii=False))
        return to_json(records)
    shown = df.copy()
    lang = current_lang()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = [fmt_number(v, digits, lang=lang) for v in shown[col]]
    if lang == "vi":
        from kinhteso.labels import column_name  # noqa: PLC0415

        shown.columns = [column_name(str(c), lang) for c in shown.columns]
    text = shown.to_string(index=False) if len(shown) else "(0)"
    return f"{title}\n{text}" if title else text


# --- Output files: --format xlsx and --out FILE (one place for every command) -----------------

#: Formats that are tables meant for a spreadsheet: rounded to the unit's precision, with metadata columns.
TABULAR = ("csv", "xlsx")
#: Columns added (when the command knows them) to every row of a csv/xlsx table; see docs/data-formats.md.
META_COLUMNS = ("territory", "period", "unit", "view", "illustrative")


class _Output:
    """What one command invocation writes with ``--out``: its format, file, and (xlsx) the tables."""

    def __init__(self, fmt: str, path: Path) -> None:
        self.fmt, self.path = fmt, path
        self.sheets: list[tuple[str, pd.DataFrame]] = []
        self.illustrative = False


_OUTPUT: contextvars.ContextVar[_Output | None] = contextvars.ContextVar("kinhteso_output", default=None)


def _usage(ctx: click.Context, vi: str, en: str) -> None:
    from kinhteso.i18n import tr  # noqa: PLC0415

    raise click.UsageError(tr(vi, en), ctx=ctx)


#: Appended to the help of every command with :func:`output_options`: where its columns are explained.
_LEGEND_HELP = ("Cột của bảng: trong tệp --format xlsx, trang chu_giai/legend giải thích từng cột (tên, mã, đơn vị) / "
                "columns: the legend sheet of an xlsx file explains every column; docs/data-formats.md, "
                "\"Output formats\".")


def output_options(*choices: str, default: str = "table", help: str | None = None):
    """``--format`` (``choices`` and ``xlsx``) and ``--out FILE`` for a command.

    ``--format xlsx`` needs ``--out`` (usage error, exit 2). With ``--out`` the command's output
    goes to the file (atomically, through :mod:`kinhteso.safe_io`): CSV starts with a UTF-8 BOM so
    that Excel reads Vietnamese; XLSX gets one sheet per table given to :func:`render_frame`, a
    legend sheet and an about sheet. The command itself only passes its frames to
    :func:`render_frame` with ``fmt``."""
    choices = tuple(choices) or ("table", "csv", "json")
    all_choices = choices + (("xlsx",) if "xlsx" not in choices else ())

    def deco(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            ctx = click.get_current_context()
            out = kwargs.pop("out", None)
            fmt = kwargs.get("fmt")
            if fmt == "xlsx" and out is None:
                _usage(ctx, "--format xlsx cần --out TỆP (tệp Excel không in ra màn hình).",
                       "--format xlsx needs --out FILE (an Excel file is not printed to the terminal).")
            if out is None:
                return f(*args, **kwargs)
            if fmt not in ("csv", "json", "xlsx"):
                _usage(ctx, f"--out chỉ dùng với --format csv, json hoặc xlsx (không phải {fmt}).",
                       f"--out works with --format csv, json or xlsx (not {fmt}).")
            from kinhteso.safe_io import check_destination  # noqa: PLC0415

            check_destination(out)
            session = _Output(fmt, out)
            token = _OUTPUT.set(session)
            buf = io.StringIO()
            try:
                with contextlib.redirect_stdout(buf):
                    result = f(*args, **kwargs)
            finally:
                _OUTPUT.reset(token)
            _write_output(session, buf.getvalue(), ctx, kwargs)
            from kinhteso.i18n import tr  # noqa: PLC0415

            click.echo(tr(f"Đã ghi {out}", f"Wrote {out}"), err=True)
            return result

        import inspect  # noqa: PLC0415

        wrapper.__doc__ = (inspect.cleandoc(f.__doc__ or "") + "\n\n" + _LEGEND_HELP).strip()
        wrapper = click.option(
            "--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
            help="Ghi vào tệp / write to FILE (needed by xlsx; csv files get a UTF-8 BOM for Excel).")(wrapper)
        return click.option(
            "--format", "fmt", type=click.Choice(all_choices), default=default, show_default=True,
            help=help or "Định dạng đầu ra / output format (xlsx needs --out).")(wrapper)

    return deco


def _write_output(session: _Output, text: str, ctx: click.Context, params: dict) -> None:
    from kinhteso.safe_io import write_text_atomic  # noqa: PLC0415

    if session.fmt == "csv":
        write_text_atomic(session.path, text, encoding="utf-8-sig")
    elif session.fmt == "json":
        write_text_atomic(session.path, text)
    else:
        _write_workbook(session, ctx, params)


def _tabular(df: pd.DataFrame, meta: dict | None) -> pd.DataFrame:
    """``df`` for a spreadsheet: the metadata columns it lacks added (``meta``), numbers rounded
    to their unit's precision (:func:`kinhteso.reference.indicators.unit_precision`)."""
    import pandas as pd  # noqa: PLC0415

    from kinhteso.labels import column_precision  # noqa: PLC0415
    from kinhteso.reference.indicators import unit_precision  # noqa: PLC0415

    df = df.copy()
    for k in META_COLUMNS:
        if meta and k in meta and meta[k] is not None and k not in df.columns:
            df[k] = meta[k]
    for col in df.columns:
        if not pd.api.types.is_float_dtype(df[col]):
            continue
        if col in ("value", "low", "high") and "unit" in df.columns:
            df[col] = [v if pd.isna(v) or unit_precision(u) is None else round(float(v), unit_precision(u))
                       for v, u in zip(df[col], df["unit"], strict=True)]
        else:
            p = column_precision(str(col))
            if p is not None:
                df[col] = df[col].round(p)
    return df


def _sheet_name(name: str, used: set[str]) -> str:
    import re  # noqa: PLC0415

    base = re.sub(r"[\[\]:*?/\\']", "_", name).strip() or "data"
    base = base[:31]
    out, i = base, 2
    while out.lower() in used:
        out = f"{base[:28]}_{i}"
        i += 1
    used.add(out.lower())
    return out


def _write_workbook(session: _Output, ctx: click.Context, params: dict) -> None:
    """The xlsx file: one sheet per table (headers with names and units, numbers typed, header
    frozen), then ``chu_giai``/``legend`` (every column explained) and ``thong_tin``/``about``."""
    import datetime as dt  # noqa: PLC0415

    import pandas as pd  # noqa: PLC0415
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    from kinhteso.labels import column_header, column_legend  # noqa: PLC0415
    from kinhteso.i18n import DEMO_LABEL, tr  # noqa: PLC0415
    from kinhteso.safe_io import save_workbook_atomic, xlsx_cell  # noqa: PLC0415

    lang = current_lang()
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    seen_cols: list[str] = []

    def put(ws, rows: list[list[Any]]) -> None:
        for row in rows:
            ws.append([xlsx_cell(v) for v in row])
        for i, col in enumerate(ws.iter_cols(values_only=True), start=1):
            width = max((len(str(v)) for v in col if v is not None), default=8)
            ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), 60)
        ws.freeze_panes = "A2"

    sheets = session.sheets or [("data", pd.DataFrame())]
    for name, df in sheets:
        ws = wb.create_sheet(_sheet_name(name, used))
        cols = [str(c) for c in df.columns]
        seen_cols += [c for c in cols if c not in seen_cols]
        put(ws, [[column_header(c, lang) for c in cols], *df.itertuples(index=False, name=None)])
    ws = wb.create_sheet(_sheet_name(tr("chu_giai", "legend"), used))
    put(ws, [[tr("Cột", "Column"), tr("Mã", "Code"), tr("Ý nghĩa", "Meaning")],
             *[[column_header(c, lang), c, column_legend(c, lang)] for c in seen_cols]])
    ws = wb.create_sheet(_sheet_name(tr("thong_tin", "about"), used))
    shown = {k: v for k, v in params.items() if v not in (None, (), False) and k not in ("fmt", "workspace")}
    rows = [[tr("Lệnh", "Command"), " ".join([ctx.command_path, *(f"--{k.replace('_', '-')}={v}" for k, v in shown.items())])],
            [tr("Thời điểm", "Time"), dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")],
            [tr("Không gian làm việc", "Workspace"), str(params.get("workspace") or "")],
            [tr("Ngôn ngữ", "Language"), lang],
            [tr("Cách đo", "View"), str(params.get("view") or "")]]
    if session.illustrative:
        rows.append([tr("Lưu ý", "Note"), DEMO_LABEL[lang]])
    put(ws, [[tr("Mục", "Item"), tr("Giá trị", "Value")], *rows])
    save_workbook_atomic(wb, session.path)


