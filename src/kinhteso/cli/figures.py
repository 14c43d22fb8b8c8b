"""``kinhteso results`` and ``kinhteso figure``: what kinhteso computed, and the figure to report."""

from __future__ import annotations

from pathlib import Path

import click

from kinhteso.cli._common import PERIOD, TABULAR, output_options, render_frame, to_json, workspace_option
from kinhteso.cli._lazy import LazyChoice
from kinhteso.i18n import DEMO_LABEL, FIGURE_BASIS, current_lang, fmt_number, tr


_BASIS_VI = {k: v[0] for k, v in FIGURE_BASIS.items()}


@click.command("results")
@click.option("--indicator", default=None, help="Chỉ tiêu / indicator (DE_SHARE, DE_VA, GRDP, DIGITAL_COEF…).")
@click.option("--territory", default=None, help="Địa bàn / territory: VN, 34:31, or a name.")
@click.option("--period", type=PERIOD, default=None, help="Kỳ / period: 2025, 2025-Q3.")
@click.option("--kind", type=click.Choice(["accounts", "quarterly", "nowcast", "coef"]), default=None,
              help="Loại lần chạy / kind of run.")
@click.option("--view", default=None, help="Cách đo / view: gso, mic (kiểu MIC, ước tính của kinhteso / MIC-style, a kinhteso estimate), oecd; or a nowcast engine.")
@click.option("--sector", default="_T", show_default=True, help="Ngành / sector ('*' for every sector).")
@click.option("--as-of", "as_of", default=None, help="Kết quả tại thời điểm / results as of a past moment.")
@click.option("--all-runs", is_flag=True, help="Mọi lần chạy, không chỉ lần mới nhất / every run, not only the latest.")
@output_options("table", "csv", "json")
@workspace_option
def results(indicator, territory, period, kind, view, sector, as_of, all_runs, fmt, workspace: Path) -> None:
    """Kết quả kinhteso đã tính / what kinhteso computed and stored (never a submission).

    Each result names its run (method, parameters, the vintages and runs it read, when it was
    computed). Status is E (estimated) or F (forecast), never A; `kinhteso observations` shows
    what agencies submitted and `kinhteso figure` which figure to report.
    """
    import pandas as pd  # noqa: PLC0415

    from kinhteso.pipeline.observations import parse_as_of  # noqa: PLC0415
    from kinhteso.service.figures import ResultsRequest, results as run  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    req = ResultsRequest(indicator=indicator, territory=territory, period=period, kind=kind, view=view,
                         sector=None if sector == "*" else sector, as_of=parse_as_of(as_of), all_runs=all_runs)
    with Workspace.open(workspace) as ws:
        df = run(ws, req)
    # units: the reporting units a value derived from records rests on (the disclosure rule of what is
    # shared back, docs/sharing.md); the workspace's own analyst sees every value with it
    cols = ["indicator", "territory", "sector", "period", "view", "value", "unit", "units", "status", "basis",
            "run_id", "kind", "method", "computed_at", "inputs", "illustrative"]
    df = df.reindex(columns=cols)
    df["units"] = pd.Series([None if pd.isna(n) else int(n) for n in df["units"]], index=df.index, dtype=object)
    if fmt == "json":
        recs = df.assign(computed_at=df.computed_at.map(lambda t: t.isoformat())).to_dict(orient="records")
        click.echo(to_json(recs))
        return
    if fmt in TABULAR:
        click.echo(render_frame(df.assign(inputs=df.inputs.map(to_json_compact)), fmt, sheet=tr("ket_qua", "results")))
        return
    if len(df) and df.illustrative.any():
        click.echo(f"⚠ {DEMO_LABEL[current_lang()]}")
    shown = df.drop(columns=["inputs", "illustrative"]).assign(run_id=df.run_id.str[:12],
                                                               units=df.units.map(lambda n: "" if n is None else n))
    click.echo(render_frame(shown, "table", digits=3, title=tr(
        "Kết quả kinhteso tính (không phải số được gửi):", "Results computed by kinhteso (not submissions):")))


def to_json_compact(obj) -> str:
    import json  # noqa: PLC0415

    return json.dumps(obj, ensure_ascii=False, sort_keys=True)


@click.command("figure")
@click.option("--territory", required=True, help="Địa bàn / territory: VN, 34:31, or a name.")
@click.option("--indicator", default="DE_SHARE", show_default=True, help="Chỉ tiêu / indicator.")
@click.option("--period", type=PERIOD, required=True, help="Kỳ / period: 2025, 2025-Q3.")
@click.option("--view", type=LazyChoice.of("kinhteso.methods.accounts", "VIEWS"), default="gso", show_default=True,
              help="Cách đo cho số kinhteso tính / view of kinhteso's own figures.")
@click.option("--as-of", "as_of", default=None, help="Tại thời điểm / as of a past moment.")
@click.option("--no-compute", is_flag=True, help="Chỉ dùng số đã lưu / only stored figures, compute nothing.")
@output_options("table", "json")
@workspace_option
def figure(territory, indicator, period, view, as_of, no_compute, fmt, workspace: Path) -> None:
    """Số chính thức cần báo cáo / the figure to report, by one documented rule.

    published/submitted › benchmarked quarter › estimate › nowcast: a figure an agency or
    publisher submitted for that territory (on its own basis) wins; else kinhteso's quarterly
    figure benchmarked to the annual accounts; else kinhteso's estimate; else the nowcast. The
    answer names its basis, source, vintage or run, and the alternatives it passed over.
    """
    from kinhteso.pipeline.observations import parse_as_of  # noqa: PLC0415
    from kinhteso.service.figures import FigureRequest, figure as run  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    req = FigureRequest(territory=territory, period=period, indicator=indicator, view=view,
                        as_of=parse_as_of(as_of), compute=not no_compute)
    with Workspace.open(workspace) as ws:
        fig = run(ws, req)
    if fmt == "json":
        click.echo(to_json(fig.as_json()))
        return
    if fmt == "xlsx":
        import pandas as pd  # noqa: PLC0415

        d = fig.as_json()
        row = {k: v for k, v in d.items() if not isinstance(v, (dict, list))}
        click.echo(render_frame(pd.DataFrame([row]), fmt, sheet=tr("so_lieu", "figure"),
                                meta={"view": fig.view, "illustrative": bool(fig.illustrative)}))
        alts = pd.DataFrame(fig.alternatives)
        if len(alts):
            click.echo(render_frame(alts, fmt, sheet=tr("bo_qua", "passed_over")))
        return
    if fig.illustrative:
        click.echo(f"⚠ {DEMO_LABEL[current_lang()]}")
    if fig.value is None:
        click.echo(tr(f"{fig.territory} {fig.indicator} {fig.period}: không có số nào (chưa được gửi, chưa tính được).",
                      f"{fig.territory} {fig.indicator} {fig.period}: no figure (none submitted, none computable)."))
        return
    where = f"vintage {fig.vintage}" if fig.vintage is not None else f"run {fig.run_id or '-'}"
    click.echo(tr(
        f"{fig.territory} {fig.indicator} {fig.period}: {fmt_number(fig.value, 2)} {fig.unit} — cơ sở: "
        f"{_BASIS_VI.get(fig.basis, fig.basis)}; nguồn {fig.source}; {where}; trạng thái {fig.status}"
        + (f"; cách đo {fig.view.upper()}" if fig.view else "") + ("" if fig.stored else "; tính lúc hỏi, không lưu"),
        f"{fig.territory} {fig.indicator} {fig.period}: {fmt_number(fig.value, 2)} {fig.unit} — basis: {fig.basis}; "
        f"source {fig.source}; {where}; status {fig.status}" + (f"; {fig.view.upper()} view" if fig.view else "")
        + ("" if fig.stored else "; computed for this answer, not stored")))
    for a in fig.alternatives:
        click.echo(tr(f"  bỏ qua: {fmt_number(a['value'], 2)} ({_BASIS_VI.get(a['basis'], a['basis'])}, {a['source']})",
                      f"  passed over: {fmt_number(a['value'], 2)} ({a['basis']}, {a['source']})"))
    click.echo(tr(f"  Quy tắc: {fig.rule['vi']}", f"  Rule: {fig.rule['en']}"))


COMMANDS = [results, figure]
