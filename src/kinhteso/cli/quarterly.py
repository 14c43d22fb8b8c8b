"""``kinhteso quarterly`` and ``kinhteso revisions``: quarterly DE figures and how they moved."""

from __future__ import annotations

from pathlib import Path

import click

from kinhteso.cli._common import TABULAR, output_options, render_frame, to_json, workspace_option
from kinhteso.cli._lazy import LazyChoice
from kinhteso.cli._progress import progress_bar
from kinhteso.errors import UsageError
from kinhteso.i18n import DEMO_LABEL, current_lang, tr


@click.command("quarterly")
@click.option("--territory", default=None, help="Địa bàn / territory: VN, 34:31, or a name.")
@click.option("--all", "all_", is_flag=True, help="Cả nước và 34 tỉnh / the nation and the 34 provinces.")
@click.option("--year", type=int, default=None, help="Năm cần xem / year to show (default: all years).")
@click.option("--indicator", "indicator_set", type=LazyChoice.of("kinhteso.pipeline.quarterly", "INDICATOR_SETS"), default="gdp", show_default=True,
              help="gdp: GRDP quý theo ngành (Denton–Cholette); monthly: chỉ báo tháng (Chow–Lin).")
@click.option("--method", type=LazyChoice.of("kinhteso.methods.temporal", "METHODS", sort=True), default=None,
              help="Phương pháp tách chuỗi / temporal-disaggregation method (default by indicator set).")
@click.option("--view", type=LazyChoice.of("kinhteso.methods.accounts", "VIEWS"), default="gso", show_default=True, help="Cách đo / view.")
@output_options("table", "csv", "json")
@workspace_option
def quarterly(territory, all_, year, indicator_set, method, view, fmt, workspace: Path) -> None:
    """Số liệu KTS theo quý / quarterly DE value added and share from the annual accounts.

    Quarters of a year with an annual figure sum to it exactly (basis benchmarked); later
    quarters are extrapolated (basis estimated) and benchmarked when the annual figure arrives.
    Every result has status E (kinhteso's estimate, never a submission) and is stored as a run,
    once for the same inputs; `kinhteso results` reads them back.
    """
    from kinhteso.service.figures import QuarterlyRequest, quarterly as run  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    if bool(territory) == bool(all_):
        raise UsageError("TERRITORY_OR_ALL", "Cần đúng một trong --territory hoặc --all.",
                         "Give exactly one of --territory or --all.")
    req = QuarterlyRequest(None if all_ else (territory,), indicator_set=indicator_set, method=method, view=view)
    with Workspace.open(workspace) as ws, progress_bar(tr("Tính số quý", "Quarterly figures")) as progress:
        out = run(ws, req, progress=progress)
    if not out.results:
        raise out.errors[0][1]
    df = out.frame(year)
    if fmt == "json":
        click.echo(to_json(df.to_dict(orient="records")))
    elif fmt in TABULAR:
        click.echo(render_frame(df, fmt, sheet=tr("theo_quy", "quarterly"),
                                meta={"unit": "VND_BN", "illustrative": bool(out.illustrative)}))
    else:
        if out.illustrative:
            click.echo(f"⚠ {DEMO_LABEL[current_lang()]}")
        click.echo(render_frame(df.drop(columns=["run_id"]), "table", title=tr(
            f"KTS theo quý (cách đo {view.upper()}; benchmarked = khớp số năm, estimated = ngoại suy; trạng thái E)",
            f"Quarterly digital economy ({view.upper()} view; benchmarked = sums to the annual figure, "
            "estimated = extrapolated; status E)")))
    for k, exc in out.errors:
        click.echo(f"  ! {k} {exc.code}: {exc.message()}", err=True)


@click.command("revisions")
@click.option("--territory", required=True, help="Địa bàn / territory.")
@click.option("--indicator", default="DE_SHARE", show_default=True)
@click.option("--sector", default="_T", show_default=True,
              help="Ngành VSIC / VSIC sector code (C, 26, 465…), _T for the total.")
@output_options("table", "csv", "json")
@workspace_option
def revisions(territory, indicator, sector, fmt, workspace: Path) -> None:
    """Lịch sử hiệu chỉnh / how each period's figure moved across vintages.

    One row per period, one column per vintage (a retracted one marked [retracted]) and per
    stored quarterly run, and the total revision (latest − first, retracted vintages left out).
    """
    from kinhteso.pipeline import quarterly as Q  # noqa: PLC0415
    from kinhteso.pipeline.observations import resolve_territories  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    (key,) = resolve_territories([territory], basis=None)[:1]
    code = sector.strip()
    code = code.upper() if code.isalpha() or code.upper() == "_T" else code
    with Workspace.open(workspace) as ws:
        df = Q.revisions(ws, key, indicator=indicator.upper(), sector=code)
    df["revision"] = df["revision"].round(9)
    if fmt == "json":
        click.echo(to_json(df.to_dict(orient="records")))
    else:
        click.echo(render_frame(df, fmt, digits=3, sheet=tr("hieu_chinh", "revisions"), meta={"territory": key}))


COMMANDS = [quarterly, revisions]
