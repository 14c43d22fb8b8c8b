"""``kinhteso quarterly`` and ``kinhteso revisions``: quarterly DE figures and how they moved."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd

from kinhteso.cli._common import render_frame, to_json, workspace_option
from kinhteso.errors import MethodError, UsageError
from kinhteso.i18n import DEMO_LABEL, current_lang, tr
from kinhteso.methods.temporal import METHODS
from kinhteso.pipeline import accounts as PA
from kinhteso.pipeline import quarterly as Q
from kinhteso.pipeline.observations import resolve_territories
from kinhteso.workspace import Workspace


@click.command("quarterly")
@click.option("--territory", default=None, help="Địa bàn / territory: VN, 34:31, or a name.")
@click.option("--all", "all_", is_flag=True, help="Cả nước và 34 tỉnh / the nation and the 34 provinces.")
@click.option("--year", type=int, default=None, help="Năm cần xem / year to show (default: all years).")
@click.option("--indicator", "indicator_set", type=click.Choice(list(Q.INDICATOR_SETS)), default="gdp", show_default=True,
              help="gdp: GRDP quý theo ngành (Denton–Cholette); monthly: chỉ báo tháng (Chow–Lin).")
@click.option("--method", type=click.Choice(sorted(METHODS)), default=None,
              help="Phương pháp tách chuỗi / temporal-disaggregation method (default by indicator set).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@workspace_option
def quarterly(territory, all_, year, indicator_set, method, fmt, workspace: Path) -> None:
    """Số liệu KTS theo quý / quarterly DE value added and share from the annual accounts.

    Quarters of a year with an annual figure sum to it exactly (status A); later quarters are
    estimates (status E), benchmarked as a new vintage when the annual figure arrives.
    """
    if bool(territory) == bool(all_):
        raise UsageError("TERRITORY_OR_ALL", "Cần đúng một trong --territory hoặc --all.",
                         "Give exactly one of --territory or --all.")
    with Workspace.open(workspace) as ws:
        keys = PA.territories_for("2025") if all_ else resolve_territories([territory], basis=None)[:1]
        frames, errors, illustrative = [], [], False
        with click.progressbar(keys, label=tr("Tính số quý", "Quarterly figures"), file=sys.stderr) as bar:
            for k in bar:
                try:
                    r = Q.quarterly_de(ws, k, indicator=indicator_set, method=method)
                except MethodError as exc:
                    errors.append((k, exc))
                    continue
                illustrative = illustrative or r.illustrative
                f = r.frame.assign(territory=k, method=r.method)
                if year:
                    f = f[f.period.str.startswith(str(year))]
                frames.append(f)
    if not frames:
        k, exc = errors[0]
        raise exc
    df = pd.concat(frames, ignore_index=True)[["territory", "period", "de_va", "grdp", "de_share", "status", "method"]]
    if fmt == "json":
        click.echo(to_json(df.to_dict(orient="records")))
    elif fmt == "csv":
        click.echo(render_frame(df, "csv"))
    else:
        if illustrative:
            click.echo(f"⚠ {DEMO_LABEL[current_lang()]}")
        click.echo(render_frame(df, "table", title=tr("KTS theo quý (cách đo GSO; A = khớp số năm, E = ước tính)",
                                                      "Quarterly digital economy (GSO view; A = benchmarked, E = estimated)")))
    for k, exc in errors:
        click.echo(f"  ! {k} {exc.code}: {exc.message()}", err=True)


@click.command("revisions")
@click.option("--territory", required=True, help="Địa bàn / territory.")
@click.option("--indicator", default="DE_SHARE", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@workspace_option
def revisions(territory, indicator, fmt, workspace: Path) -> None:
    """Lịch sử hiệu chỉnh / how each period's figure moved across vintages."""
    (key,) = resolve_territories([territory], basis=None)[:1]
    with Workspace.open(workspace) as ws:
        df = Q.revisions(ws, key, indicator=indicator.upper())
    df["revision"] = df["revision"].round(9)
    if fmt == "json":
        click.echo(to_json(df.to_dict(orient="records")))
    else:
        click.echo(render_frame(df, fmt, digits=3))


COMMANDS = [quarterly, revisions]
