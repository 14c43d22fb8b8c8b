"""Pieces every command shares: the workspace option, output formats, rendering."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
import pandas as pd

from kinhteso.i18n import current_lang, fmt_number

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


def _json_default(o: Any):
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def to_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=_json_default)


def render_frame(df: pd.DataFrame, fmt: str, *, digits: int = 2, title: str | None = None) -> str:
    """Render a data frame as an aligned table (numbers in the language's format), CSV or JSON."""
    if fmt == "csv":
        return df.to_csv(index=False).rstrip("\n")
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
