"""``kinhteso indicator show|list|export``: the indicator sheets (the metadata the statistical law asks for)."""

from __future__ import annotations

from pathlib import Path

import click

from kinhteso.cli._common import output_options, render_frame, to_json
from kinhteso.i18n import current_lang, tr

_LEVELS = ("national", "ministry", "provincial")


@click.group("indicator")
def indicator_group() -> None:
    """Phiếu chỉ tiêu / indicator sheets: definition, formula, breakdowns, periodicity, agencies,
    release calendar and legal basis of every indicator, and the Decision 1354/QĐ-BTTTT list."""


@indicator_group.command("show")
@click.argument("code")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True,
              help="Định dạng đầu ra / output format (json: both languages).")
def indicator_show(code: str, fmt: str) -> None:
    """Phiếu của một chỉ tiêu / the sheet of one indicator (CODE: DE_SHARE, ECOMMERCE_SHARE…).

    The table is in the language of --lang; JSON gives every text in Vietnamese and English. An
    unknown code is refused (UNKNOWN_INDICATOR) with the nearest codes.
    """
    from kinhteso.service.indicators import (  # noqa: PLC0415
        IndicatorShowRequest,
        sheet_rows,
        show_indicator,
    )

    sheet = show_indicator(IndicatorShowRequest(code=code))
    if fmt == "json":
        click.echo(to_json(sheet.as_dict()))
        return
    lang = current_lang()
    kind = tr("chỉ tiêu dẫn xuất", "derived indicator") if sheet.kind == "derived" else tr("danh mục", "registry")
    click.echo(f"{sheet.code} — {sheet.name.get(lang)} ({kind})")
    if not sheet.complete:
        click.echo(tr(f"⚠ Phiếu chưa đủ: {', '.join(sheet.missing)}", f"⚠ Incomplete sheet: {', '.join(sheet.missing)}"))
    for label, text in sheet_rows(sheet, lang)[1:]:
        lines = text.split("\n")
        if len(lines) == 1:
            click.echo(f"  {label}: {text}")
        else:
            click.echo(f"  {label}:")
            for line in lines:
                click.echo(f"    - {line}")


@indicator_group.command("list")
@click.option("--level", type=click.Choice(_LEVELS), default=None,
              help="Cấp trong QĐ 1354/QĐ-BTTTT / a level of the Decision 1354 list (its indicators, "
                   "numbered, with the kinhteso code); all indicators when omitted.")
@output_options("table", "json", "csv")
def indicator_list(level: str | None, fmt: str) -> None:
    """Các chỉ tiêu có phiếu / every indicator with a sheet, or the Decision 1354 list at a level."""
    import pandas as pd  # noqa: PLC0415

    from kinhteso.service.indicators import IndicatorListRequest, list_indicators  # noqa: PLC0415

    res = list_indicators(IndicatorListRequest(level=level))
    df = pd.DataFrame(res.rows)
    if fmt == "table" and len(df):
        lang = current_lang()
        if level is None:
            df = df[["code", "kind", f"name_{lang}", "unit", f"periodicity_{lang}", f"decision_1354_{lang}", "complete"]]
        else:
            df = df[["no", f"name_{lang}", "indicator", "status"]]
    click.echo(render_frame(df, fmt, sheet=tr("chi_tieu", "indicators")))


@indicator_group.command("export")
@click.option("--format", "fmt", type=click.Choice(("xlsx", "md")), required=True,
              help="xlsx (một dòng mỗi chỉ tiêu, hai thứ tiếng / a row per indicator, both languages) or md.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Tệp ghi ra / the file to write (atomically).")
def indicator_export(fmt: str, out: Path) -> None:
    """Xuất mọi phiếu chỉ tiêu / export every indicator sheet as XLSX or Markdown.

    XLSX: one row per indicator with every field in Vietnamese and English (frozen header, wrapped
    text, filters), the Decision 1354 list and the legal documents on their own sheets. Markdown:
    one section per indicator (docs/indicators.md is this export).
    """
    from kinhteso.service.indicators import IndicatorExportRequest, export_indicators  # noqa: PLC0415

    res = export_indicators(IndicatorExportRequest(fmt=fmt, out=out))
    click.echo(tr(f"✓ Đã ghi {res.sheets} phiếu chỉ tiêu vào {res.path}.",
                  f"✓ Wrote {res.sheets} indicator sheets to {res.path}."), err=True)


COMMANDS = [indicator_group]
