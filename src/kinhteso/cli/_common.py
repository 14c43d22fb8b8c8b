"""Pieces every command shares: the workspace option, output formats, rendering."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kinhteso.i18n import current_lang, fmt_number
from kinhteso.periods import period

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("table", "csv", "json")


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
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Định dạng đầu ra / output format.",
    )(f)


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


def _json_default(o: Any):
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def to_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=_json_default)


def render_frame(df: pd.DataFrame, fmt: str, *, digits: int = 2, title: str | None = None) -> str:
    """Render a data frame as an aligned table (numbers in the language's format), CSV or JSON.

    CSV is meant to be opened in a spreadsheet: its text cells are neutralised
    (:func:`kinhteso.safe_io.safe_cell`: ``=cmd`` is written ``'=cmd``; numbers stay numbers)."""
    import pandas as pd  # noqa: PLC0415

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
    text = shown.to_string(index=False) if len(shown) else "(0)"
    return f"{title}\n{text}" if title else text
