"""``kinhteso gaps``, ``plan``, ``scenario``, ``peers`` and ``target add|list``: targets, gaps and plans."""

from __future__ import annotations

import math
from pathlib import Path

import click

from kinhteso.cli._common import TABULAR, output_options, render_frame, to_json, workspace_option
from kinhteso.cli._lazy import LazyChoice
from kinhteso.cli._progress import progress_bar
from kinhteso.i18n import DEMO_LABEL, TARGET_STATUS, current_lang, fmt_number, tr


_FORMAT = output_options("table", "json", "csv")
_SOURCE = click.option("--source", type=LazyChoice.of("kinhteso.pipeline.targets", "SOURCES"), default="auto", show_default=True,
                       help="Chuỗi DE_SHARE: auto (tính nếu được, không thì số công bố), computed, published / "
                            "where the DE_SHARE series comes from.")
_VIEW = click.option("--view", type=LazyChoice.of("kinhteso.methods.accounts", "VIEWS"), default="gso", show_default=True,
                     help="Cách đo khi tính DE_SHARE / accounts view of a computed DE_SHARE: gso (core + digitalised); "
                          "mic = MIC-style: ICT + platforms + sectoral digitalisation, kinhteso estimate (not MIC's own "
                          "figures, which are DE_SHARE_MIC); oecd (OECD ICT sector).")
_AGAINST = click.option("--against", default=None,
                        help="So với chuỗi của chỉ tiêu khác cơ sở của mục tiêu (cần --indicator; mỗi dòng báo "
                             "BASIS_MISMATCH) / compare with another basis than the target's, e.g. --indicator "
                             "DE_SHARE_MIC --against DE_SHARE.")
_CONVERT = click.option("--convert-boundary", is_flag=True,
                        help="Đo mục tiêu đặt cho tỉnh cũ (63) trên chuỗi của tỉnh mới (34), giữ nguyên giá trị "
                             "(BOUNDARY_CONVERTED) / measure a target carried over across the 2025 merger on the "
                             "territory holding it, value unchanged.")
_MODEL = click.option("--model", type=LazyChoice.of("kinhteso.methods.targets", "TREND_MODELS"), default="loglinear", show_default=True,
                      help="Mô hình xu hướng / trend model (OLS on the last 3–5 years).")
_LABOUR = click.option("--labour", type=LazyChoice.of("kinhteso.methods.sectoral", "LABOUR_METHODS"), default="core",
                       show_default=True,
                       help="DE_LABOUR_SHARE tính từ EMPLOYMENT: core (lao động các ngành lõi) hoặc coef (thêm phần số hóa "
                            "theo DIGITAL_COEF, giả định của kinhteso) / digital-economy workers: core industries only, "
                            "or with the digitalised part at DIGITAL_COEF (a kinhteso assumption).")
_LEVEL = click.option("--level", type=float, default=0.90, show_default=True,
                      help="Mức của khoảng dự báo / prediction-interval level.")


def _msg(d: dict) -> str:
    return d.get("vi") if current_lang() == "vi" else d.get("en")


def _clean(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


_STATUS = TARGET_STATUS


def _status(s: str | None) -> str:
    if s is None:
        return "–"
    vi, en = _STATUS[s]
    return tr(vi, en)


@click.command("gaps")
@click.option("--territory", default=None, help="Địa bàn / territory (VN, 34:31, 63:79 or a name); default: all with a target.")
@click.option("--indicator", default=None, help="Chỉ tiêu / indicator code (DE_SHARE, ECOMMERCE_SHARE, ...).")
@click.option("--inherit-national", is_flag=True,
              help="Tỉnh chưa có mục tiêu riêng được so với mục tiêu quốc gia / measure provinces without their own target against the national one.")
@_AGAINST
@_CONVERT
@_SOURCE
@_VIEW
@_LABOUR
@_MODEL
@_LEVEL
@_FORMAT
@workspace_option
def gaps_cmd(territory, indicator, inherit_national, against, convert_boundary, source, view, labour, model, level, fmt,
             workspace: Path) -> None:
    """Khoảng cách tới mục tiêu / how far each territory is from each of its targets.

    For each territory × target: latest value and period, gap, required annual growth (CAGR)
    against the trend's, the projection to the target year with its prediction interval, the
    probability of reaching it, the status (achieved, on_track, at_risk, off_track) and years
    behind schedule. Rates are fractions in JSON/CSV, shares in percent.

    Each target is measured on the series it was set on: its basis (DE_SHARE, the NSO
    statistic; DE_SHARE_MIC, MIC's published estimates; a province's own series) on its boundary
    (63:79, the city before the 2025 merger). Another basis only with --against, another
    boundary only with --convert-boundary; the rows say so.

    DE_SHARE_SECTOR (the digital share within each VSIC section): one row per section, with the
    count of sections meeting the target; DE_LABOUR_SHARE: from EMPLOYMENT by industry (--labour).
    """
    import pandas as pd  # noqa: PLC0415

    from kinhteso.service.targets import GapsRequest, gaps as run  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    req = GapsRequest(territory=territory, indicator=indicator, inherit_national=inherit_national, source=source,
                      view=view, model=model, level=level, against=against, convert_boundary=convert_boundary,
                      labour=labour)
    with Workspace.open(workspace) as ws, progress_bar(tr("Khoảng cách tới mục tiêu", "Gaps to the targets")) as progress:
        res = run(ws, req, progress=progress)
    rows = res.rows
    if fmt == "json":
        click.echo(to_json([{k: _clean(v) for k, v in r.items()} for r in rows]))
        return
    flat = pd.DataFrame([{k: v for k, v in r.items() if k not in ("warnings", "error")} for r in rows])
    if fmt in TABULAR:
        click.echo(render_frame(flat, fmt, sheet=tr("khoang_cach", "gaps"),
                                meta={"view": view, "illustrative": bool(res.illustrative)}))
        return
    if res.illustrative:
        click.echo(f"⚠ {DEMO_LABEL[current_lang()]}")
    if flat.empty:
        click.echo("(0)")
        return
    flat["measured_on"] = [f"{r['series_indicator']}@{r['series_territory']}"
                           + (" ≠ " + r["basis"] if r["basis_mismatch"] else "") for r in rows]
    by_section = any(r["sections_total"] is not None for r in rows)
    shown = flat[["territory", "indicator", *(["sector"] if by_section else []), "measured_on", "latest_value", "latest_period", "comparison", "target_value",
                  "target_year", "gap", "required_cagr", "trend_cagr", "projected_value", "projected_low",
                  "projected_high", "probability", "status", "years_behind"]].copy()
    for c in ("required_cagr", "trend_cagr", "probability"):
        shown[c] = shown[c].astype(float) * 100
    shown["status"] = [_status(s) for s in shown.status]
    shown = shown.rename(columns={"required_cagr": "required_%", "trend_cagr": "trend_%", "probability": "prob_%"})
    click.echo(render_frame(shown, "table", title=tr(
        f"Khoảng cách tới mục tiêu (xu hướng {model}, khoảng dự báo {level:.0%})",
        f"Gaps to targets ({model} trend, {level:.0%} prediction interval)")))
    for m in res.summaries:
        click.echo(tr(
            f"{m['territory']} {m['indicator']} {m['target_year']} ({m['comparison']} {fmt_number(m['target_value'], 2)}, "
            f"đo trên {m['series_territory']}): {m['achieved']}/{m['sections_total']} ngành đạt; {m['on_track']} đúng hướng, "
            f"{m['at_risk']} có nguy cơ, {m['off_track']} chệch hướng, {m['no_data']} không có số liệu",
            f"{m['territory']} {m['indicator']} {m['target_year']} ({m['comparison']} {fmt_number(m['target_value'], 2)}, "
            f"measured on {m['series_territory']}): {m['achieved']}/{m['sections_total']} sections meet it; "
            f"{m['on_track']} on track, {m['at_risk']} at risk, {m['off_track']} off track, {m['no_data']} without data"))
    seen: set[tuple] = set()  # a series' warning shared by its sections' rows is printed once
    for r in rows:
        for w in [*r["warnings"], *([r["error"]] if r["error"] else [])]:
            sec = f" {r['sector']}" if r.get("sections_total") is not None else ""
            k = (r["territory"], r["indicator"], r["target_year"], w["code"], _msg(w))
            if k not in seen:
                seen.add(k)
                click.echo(f"  ! {r['territory']} {r['indicator']}{sec} {r['target_year']} {w['code']}: {_msg(w)}")
    click.echo(tr(f"Nguồn chuỗi: {', '.join(res.sources)}", f"Series source: {', '.join(res.sources)}"))


@click.command("plan")
@click.option("--territory", required=True, help="Địa bàn / territory.")
@click.option("--indicator", required=True, help="Chỉ tiêu / indicator code.")
@click.option("--target-year", type=int, required=True, help="Năm mục tiêu / target year.")
@click.option("--value", "value", type=float, default=None,
              help="Giá trị mục tiêu thay số trong danh mục / target value replacing the registry's.")
@click.option("--growth", type=float, default=None,
              help="Kịch bản tăng GRDP danh nghĩa/năm (0.08) / nominal GRDP growth scenario; default: the last 3 years' average.")
@click.option("--sector", default=None,
              help="Ngành cấp 1 VSIC (A–U) của kế hoạch DE_SHARE_SECTOR / the VSIC section a DE_SHARE_SECTOR plan is "
                   "for (required there, refused elsewhere).")
@_AGAINST
@_CONVERT
@_SOURCE
@_VIEW
@_LABOUR
@_MODEL
@_LEVEL
@_FORMAT
@workspace_option
def plan_cmd(territory, indicator, target_year, value, growth, sector, against, convert_boundary, source, view, labour,
             model, level, fmt, workspace: Path) -> None:
    """Kế hoạch đạt mục tiêu / the plan to close a gap: quarterly milestones and, for the DE
    share, what each industry must contribute (ranked by leverage) under a GRDP growth scenario.

    The target is measured on its own basis and boundary, like `gaps` (--against,
    --convert-boundary to ask otherwise); the industry breakdown needs a DE_SHARE computed from
    the accounts. DE_SHARE_SECTOR is planned for one section (--sector C): its divisions'
    contributions to the share within the section."""
    import pandas as pd  # noqa: PLC0415

    from kinhteso.service.targets import PlanRequest, plan as run  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    req = PlanRequest(territory=territory, indicator=indicator, target_year=target_year, value=value, growth=growth,
                      source=source, view=view, model=model, level=level, against=against,
                      convert_boundary=convert_boundary, sector=sector, labour=labour)
    with Workspace.open(workspace) as ws, progress_bar(tr("Kế hoạch", "Plan")) as progress:
        res = run(ws, req, progress=progress)
    out = res.as_dict()
    g = res.gap
    if fmt == "json":
        click.echo(to_json({k: ({kk: _clean(vv) for kk, vv in v.items()} if isinstance(v, dict) else v)
                            for k, v in out.items()}))
        return
    ms = pd.DataFrame(out["milestones"])
    sectors = pd.DataFrame(out["sectors"])
    if fmt in TABULAR:
        meta = {"territory": g.get("territory"), "view": view, "illustrative": bool(g["illustrative"])}
        if fmt == "xlsx":  # one sheet per table
            click.echo(render_frame(ms, fmt, meta=meta, sheet=tr("lo_trinh", "milestones")))
            if len(sectors):
                click.echo(render_frame(sectors, fmt, meta=meta, sheet=tr("nganh", "sectors")))
            return
        frames = [ms.assign(part="milestone")] if len(ms) else []
        if len(sectors):
            frames.append(sectors.assign(part="sector"))
        click.echo(render_frame(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(), fmt, meta=meta))
        return
    if g["illustrative"]:
        click.echo(f"⚠ {DEMO_LABEL[current_lang()]}")
    sec = f" {g['sector']} ({g['sector_name']})" if g.get("sector") not in (None, "_T", "*") else ""
    click.echo(tr(
        f"{g['name']} ({g['territory']}) — {indicator}{sec}, đo trên {g['series_indicator']}@{g['series_territory']} "
        f"(mục tiêu đặt trên {g['basis']}@{g['boundary']}): {fmt_number(g['latest_value'], 2)} ({g['latest_period']}) → "
        f"{g['comparison']} {fmt_number(g['target_value'], 2)} ({target_year}); khoảng cách {fmt_number(g['gap'], 2)}; "
        f"trạng thái {_status(g['status'])} [{g['source']}]",
        f"{g['name']} ({g['territory']}) — {indicator}{sec}, measured on {g['series_indicator']}@{g['series_territory']} "
        f"(target set on {g['basis']}@{g['boundary']}): {fmt_number(g['latest_value'], 2)} ({g['latest_period']}) → "
        f"{g['comparison']} {fmt_number(g['target_value'], 2)} ({target_year}); gap {fmt_number(g['gap'], 2)}; "
        f"status {_status(g['status'])} [{g['source']}]"))
    for w in out["warnings"] + g["warnings"]:
        click.echo(f"  ! {w['code']}: {_msg(w)}")
    if len(ms):
        click.echo(render_frame(ms, "table", digits=3, title=tr("Lộ trình theo quý (hình học)", "Quarterly milestones (geometric path)")))
    s = out["sector_summary"]
    if s:
        click.echo(tr(
            f"Phân rã theo ngành: GRDP tăng {fmt_number(out['growth']['rate'] * 100, 1)}%/năm ({out['growth']['basis']}); "
            f"tỷ trọng nếu hệ số giữ nguyên {fmt_number(s['baseline_share'], 2)}%; cần thêm {fmt_number(s['required_pp'], 2)} điểm %; "
            f"mỗi ngành khép θ = {fmt_number(s['effort_theta'] * 100, 1)}% khoảng trống số hóa"
            + ("" if s["reachable"] else " — KHÔNG đạt được chỉ bằng số hóa"),
            f"By industry: GRDP growing {fmt_number(out['growth']['rate'] * 100, 1)}%/yr ({out['growth']['basis']}); share with "
            f"coefficients unchanged {fmt_number(s['baseline_share'], 2)}%; {fmt_number(s['required_pp'], 2)} pp to add; "
            f"each industry closes θ = {fmt_number(s['effort_theta'] * 100, 1)}% of its digitalisation room"
            + ("" if s["reachable"] else " — NOT reachable by digitalisation alone")))
        click.echo(render_frame(sectors.head(15), "table", digits=3))
        c = out["core_alternative"]
        if c and c.get("core_cagr_needed") is not None:
            click.echo(tr(f"Hoặc chỉ bằng KTS lõi: thêm {fmt_number(c['extra_core_va'], 0)} tỷ đồng, lõi tăng "
                          f"{fmt_number(c['core_cagr_needed'] * 100, 1)}%/năm",
                          f"Or by the core alone: {fmt_number(c['extra_core_va'], 0)} VND bn more, core growing "
                          f"{fmt_number(c['core_cagr_needed'] * 100, 1)}%/yr"))


@click.command("scenario")
@click.option("--territory", required=True, help="Địa bàn / territory.")
@click.option("--set", "sets", multiple=True,
              help="Thay đổi / change: DIGITAL_COEF:52=+0.05, GRDP_VA:62=growth:0.15, =v, *f, step:d (repeatable).")
@click.option("--until", type=int, required=True, help="Năm cuối / last simulated year.")
@click.option("--from", "start", default=None, help="Năm gốc / base year (default: the latest with inputs).")
@click.option("--growth", type=float, default=None,
              help="Tăng GTTT các ngành khác/năm / growth of every other industry; default: the last 3 years' GRDP average.")
@_VIEW
@_FORMAT
@workspace_option
def scenario_cmd(territory, sets, until, start, growth, view, fmt, workspace: Path) -> None:
    """Mô phỏng kịch bản / recompute the accounts year by year under changes and report the share path."""
    from kinhteso.service.targets import ScenarioRequest, scenario as run  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    req = ScenarioRequest(territory=territory, until=until, sets=tuple(sets), start=start, growth=growth, view=view)
    with Workspace.open(workspace) as ws:
        res = run(ws, req)
    key, path = res.territory, res.path
    if fmt == "json":
        click.echo(to_json(res.as_dict()))
        return
    if fmt in TABULAR:
        click.echo(render_frame(path, fmt, sheet=tr("kich_ban", "scenario"),
                                meta={"territory": key, "view": view, "illustrative": bool(res.illustrative)}))
        return
    if res.illustrative:
        click.echo(f"⚠ {DEMO_LABEL[current_lang()]}")
    click.echo(render_frame(path, "table", title=tr(
        f"Kịch bản {key} ({view.upper()}), các ngành khác tăng {fmt_number(res.grdp_growth['rate'] * 100, 1)}%/năm: "
        + ("; ".join(sets) or "không thay đổi"),
        f"Scenario {key} ({view.upper()}), other industries growing {fmt_number(res.grdp_growth['rate'] * 100, 1)}%/yr: "
        + ("; ".join(sets) or "no change"))))
    for w in res.warnings:
        click.echo(f"  ! {w['code']}: {_msg(w)}")


@click.command("peers")
@click.option("--territory", default=None, help="Một địa bàn 34 tỉnh / one 34-basis territory (default: all).")
@click.option("--year", default=None, help="Năm / year (default: the latest on the 34 basis).")
@_VIEW
@_FORMAT
@workspace_option
def peers_cmd(territory, year, view, fmt, workspace: Path) -> None:
    """So sánh ngang hàng / percentiles among the 34 and within the peer group (GRDP per person
    quartile), strengths (top quartile), weaknesses (bottom quartile) and whom to learn from."""
    from kinhteso.service.targets import PeersRequest, peers as run  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    with Workspace.open(workspace) as ws, progress_bar(tr("So sánh ngang hàng", "Peers")) as progress:
        res = run(ws, PeersRequest(territory=territory, year=year, view=view), progress=progress)
    if res.illustrative and fmt == "table":
        click.echo(f"⚠ {DEMO_LABEL[current_lang()]}")
    click.echo(render_frame(res.table, fmt, sheet=tr("ngang_hang", "peers"),
                            meta={"view": view, "illustrative": res.illustrative}))


@click.group("target")
def target_group() -> None:
    """Danh mục mục tiêu / the target registry: list the targets, add the workspace's own."""


@target_group.command("list")
@click.option("--territory", default=None, help="Địa bàn / territory.")
@_FORMAT
@workspace_option
def target_list(territory, fmt, workspace: Path) -> None:
    """Các mục tiêu (có sẵn và của không gian làm việc) / shipped and workspace targets."""
    import pandas as pd  # noqa: PLC0415

    from kinhteso.service.targets import TargetListRequest, list_targets as run  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    with Workspace.open(workspace) as ws:
        res = run(ws, TargetListRequest(territory=territory))
    df = pd.DataFrame(res.records())
    if fmt == "table" and len(df):
        df = df[["territory", "indicator", "sector", "year", "comparison", "value", "unit", "basis", "boundary",
                 "confidence", "origin", "source"]]
    click.echo(render_frame(df, fmt, sheet=tr("muc_tieu", "targets")))


@target_group.command("add")
@click.option("--territory", required=True, help="Khóa địa bàn / territory key (VN, 34:31, 63:79) or a name.")
@click.option("--indicator", required=True, help="Chỉ tiêu / indicator (registry or derived code).")
@click.option("--year", type=int, required=True, help="Năm mục tiêu / target year.")
@click.option("--value", type=float, required=True, help="Giá trị / target value, in the indicator's unit.")
@click.option("--unit", default=None, help="Đơn vị / unit (default: the indicator's); another unit is refused.")
@click.option("--comparison", type=LazyChoice.of("kinhteso.reference.targets", "COMPARISONS"), default=">=", show_default=True,
              help="So sánh / comparison; <= and < mean lower is better.")
@click.option("--source", "source", default="user", show_default=True, help="Nguồn / source (document, decision).")
@click.option("--url", default="-", show_default=True, help="Đường dẫn nguồn / source URL.")
@click.option("--confidence", type=LazyChoice.of("kinhteso.reference.targets", "CONFIDENCE"), default="medium", show_default=True)
@click.option("--note", default="", help="Ghi chú / note.")
@click.option("--basis", default=None,
              help="Chỉ tiêu của chuỗi mục tiêu được đặt trên / the indicator of the series the target was set on "
                   "(DE_SHARE, DE_SHARE_MIC, a workspace indicator); default: --indicator.")
@click.option("--boundary", default=None,
              help="Tỉnh cũ (63) mục tiêu được đặt cho, khi tỉnh mới giữ nó / the old province the target was set for, "
                   "when carried over to --territory; default: --territory.")
@click.option("--sector", default=None,
              help="DE_SHARE_SECTOR: '*' (mỗi ngành cấp 1, mặc định) hoặc một mã ngành cấp 1 / '*' (each section, "
                   "default) or one VSIC section letter; refused for other indicators.")
@workspace_option
def target_add(territory, indicator, year, value, unit, comparison, source, url, confidence, note, basis, boundary,
               sector, workspace: Path) -> None:
    """Thêm mục tiêu vào không gian làm việc / add a target to the workspace's targets.yaml.

    Checked like the shipped ones (known territory and indicator, the indicator's unit, a range
    the indicator can take); a target with the same territory, indicator and year replaces it.
    """
    from kinhteso.service.targets import TargetAddRequest, add_target as run  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    req = TargetAddRequest(territory=territory, indicator=indicator, year=year, value=value, unit=unit,
                           comparison=comparison, source=source, url=url, confidence=confidence, note=note,
                           basis=basis, boundary=boundary, sector=sector)
    with Workspace.open(workspace) as ws:
        t = run(ws, req).target
    click.echo(tr(f"Đã thêm mục tiêu {t.territory} {t.indicator} {t.year} {t.comparison} {fmt_number(t.value, 2)} {t.unit}.",
                  f"Added target {t.territory} {t.indicator} {t.year} {t.comparison} {fmt_number(t.value, 2)} {t.unit}."))


COMMANDS = [gaps_cmd, plan_cmd, scenario_cmd, peers_cmd, target_group]
