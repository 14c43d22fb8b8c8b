"""Workspace commands: init, ingest, observations, vintages, template, demo."""

from __future__ import annotations

from pathlib import Path

import click

from kinhteso.cli._common import PERIODS, format_option, render_frame, workspace_option
from kinhteso.cli._progress import progress_bar
from kinhteso.errors import InputRejected, KinhtesoError, file_error
from kinhteso.i18n import DEMO_LABEL, current_lang, tr


def _split(values: tuple[str, ...]) -> list[str] | None:
    out = [v.strip() for item in values for v in item.split(",") if v.strip()]
    return out or None


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--published/--no-published", default=True, show_default=True,
              help="Nạp số liệu công bố kèm theo (có nguồn) / load the shipped published figures (with sources).")
def init(directory: Path, published: bool) -> None:
    """Tạo không gian làm việc / create a workspace (kinhteso.toml + DuckDB store).

    The published national and provincial figures shipped with kinhteso (digital-economy
    shares, DTI scores; real, with their sources) are loaded as submissions, one vintage per
    release, so that `gaps` and `figure` work from the first day. An existing workspace is
    opened and left as it is (nothing is loaded twice); a non-empty directory that is not a
    workspace is refused.
    """
    from kinhteso.service.workspace import InitRequest, init as run  # noqa: PLC0415

    with progress_bar(tr("Tạo không gian làm việc", "Creating the workspace")) as progress:
        out = run(InitRequest(directory, published=published), progress=progress)
    click.echo(tr(f"Đã tạo không gian làm việc: {out.root.resolve()}" if out.created
                  else f"Không gian làm việc đã có: {out.root.resolve()}",
                  f"Workspace ready: {out.root.resolve()}" if out.created
                  else f"Workspace already there: {out.root.resolve()}"))
    if out.published_vintages:
        click.echo(tr(f"  Số liệu công bố (thật, có nguồn): {out.published_rows} quan sát, {out.published_vintages} phiên bản",
                      f"  Published figures (real, sourced): {out.published_rows} observations, "
                      f"{out.published_vintages} vintages"))


def write_problems(path: Path, exc: InputRejected, fallback_dir: Path) -> tuple[Path | None, list[KinhtesoError]]:
    """Write FILE.problems.csv (every problem, both languages; a BOM so Excel reads UTF-8) beside
    the file, else in the workspace. Written atomically and safe to open
    (:mod:`kinhteso.safe_io`); a destination that is a symbolic link is never written through
    (``UNSAFE_PATH``: the next place is tried). Returns where it went (``None``: nowhere) and why
    the places tried first were refused."""
    from kinhteso.safe_io import write_rows_atomic  # noqa: PLC0415

    target = path.with_name(path.name + ".problems.csv")
    rows = [[p.file, "" if p.row is None else p.row, p.column, p.code, p.vi, p.en] for p in exc.problems]
    refused: list[KinhtesoError] = []
    for candidate in (target, fallback_dir / target.name):
        try:
            return write_rows_atomic(candidate, ["file", "row", "column", "code", "message_vi", "message_en"],
                                     rows, bom=True), refused
        except KinhtesoError as err:
            refused.append(err)
        except OSError as err:
            refused.append(file_error(err))
    return None, refused


@click.command("ingest")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--source", default="unknown", show_default=True,
              help="Cơ quan gửi số liệu, đã đăng ký / the submitting agency, a registered source: one of "
                   "reference/data/sources.yaml (cuc-thong-ke, thue-hai-phong, hai-quan-hai-phong, cang-vu-hai-phong…) "
                   "or a member of the workspace (`kinhteso member add`); unknown when not named.")
@click.option("--decimal", type=click.Choice([".", ","]), default=".", show_default=True,
              help="Dấu thập phân / decimal mark: ',' for 1.234,5.")
@click.option("--vsic", type=click.Choice(["2018", "2025", "auto"]), default=None,
              help="Phiên bản VSIC của các dòng không có cột vsic_version / VSIC version of the rows without a "
                   "vsic_version cell: 2018, 2025, or auto (by period: 2025 from 2026-01-01). Default: 2018, "
                   "with a note for periods from 2026.")
@click.option("--illustrative", is_flag=True, default=False,
              help="Số liệu minh họa, không phải số thống kê chính thức (ví dụ các tệp trong examples/) / illustrative "
                   "data, not official statistics (e.g. the files in examples/): every read labels them.")
@click.option("--adapter", default=None,
              help="Bộ chuyển đổi cho tệp bản ghi theo mẫu riêng của cơ quan (`kinhteso adapters`) / an adapter for a "
                   "record file in an agency's own layout (`kinhteso adapters`), e.g. dcsa-equipment-events; "
                   "--source must then name a registered source that owns the dataset.")
@workspace_option
def ingest(files: tuple[Path, ...], source: str, decimal: str, vsic: str | None, illustrative: bool,
           adapter: str | None, workspace: Path) -> None:
    """Nạp tệp CSV/XLSX / ingest CSV or XLSX files (long or wide format, or SDMX-CSV 2.0).

    Each file is validated whole: a file with any problem is refused, nothing of it is
    stored, its problems are listed here and in FILE.problems.csv (exit code 1). A valid file
    becomes one vintage, written in one transaction. The same file twice adds nothing.
    """
    from kinhteso.ingest.rules import group_problems  # noqa: PLC0415
    from kinhteso.service.data import IngestRequest, ingest as run  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    from kinhteso.service.data import check_source  # noqa: PLC0415

    rejected = 0
    with Workspace.open(workspace) as ws:
        check_source(ws, source)  # a named source must be registered (sources.yaml or a member)
        with progress_bar(tr("Nạp tệp", "Ingest")) as progress:
            outcomes = run(ws, IngestRequest(files=files, source=source, decimal=decimal, vsic=vsic,
                                                     illustrative=illustrative, adapter=adapter), progress=progress)
        for o in outcomes:
            f, r, exc = o.file, o.result, o.rejected
            if exc is not None:
                rejected += 1
                where, refused = write_problems(f, exc, ws.root)
                click.echo(f"✗ {exc.message()}", err=True)
                groups = group_problems(exc.problems)  # one line per cause, with its count
                for g in groups[:200]:
                    click.echo("  " + g.located(), err=True)
                if len(groups) > 200:
                    click.echo(tr(f"  … và {len(groups) - 200} nhóm lỗi khác", f"  … and {len(groups) - 200} more groups"),
                               err=True)
                for err in refused:
                    click.echo(f"  ! {err.code}: {err.message()}", err=True)
                if where is not None:
                    click.echo(tr(f"  Danh sách lỗi: {where}", f"  Problem list: {where}"), err=True)
                continue
            if r.already_stored:
                click.echo(tr(f"= {f}: đã nạp trước đó (phiên bản {r.vintage_id}), không thêm gì.",
                              f"= {f}: already ingested (vintage {r.vintage_id}); nothing added."))
                continue
            if r.records is not None:
                _echo_records(f, r)
                continue
            extra = []
            if r.layout == "wide":
                extra.append(tr(f"dạng rộng, bỏ qua {r.empty_cells_skipped} ô trống",
                                f"wide layout, {r.empty_cells_skipped} empty cells skipped"))
            if r.backcast_rows:
                extra.append(tr(f"{r.backcast_rows} dòng là số liệu hồi tố theo ranh giới 34 tỉnh",
                                f"{r.backcast_rows} rows are back-casts on the 34-province boundaries"))
            tail = f" ({'; '.join(extra)})" if extra else ""
            click.echo(tr(f"✓ {f}: lưu {r.n_rows} quan sát, phiên bản {r.vintage_id}{tail}.",
                          f"✓ {f}: stored {r.n_rows} observations as vintage {r.vintage_id}{tail}."))
            for vi, en in r.notes:
                click.echo(f"  ! {tr(vi, en)}", err=True)
    if rejected:
        raise SystemExit(1)


def _echo_records(f, r) -> None:
    """What a record file through an adapter gave: stored, set aside by reason, recomputed."""
    from kinhteso.ingest.records import REASONS  # noqa: PLC0415

    d = r.records
    click.echo(tr(f"✓ {f}: lưu {r.n_rows} bản ghi {d['dataset']} (bộ chuyển đổi {d['adapter']}), phiên bản {r.vintage_id}.",
                  f"✓ {f}: stored {r.n_rows} {d['dataset']} records (adapter {d['adapter']}) as vintage {r.vintage_id}."))
    for reason, n in sorted(d["aside"].items()):
        vi, en = REASONS.get(reason, (reason, reason))
        click.echo(tr(f"  ! {n} bản ghi để riêng ({reason}: {vi}); xem `kinhteso quarantine --vintage {r.vintage_id}`.",
                      f"  ! {n} records set aside ({reason}: {en}); see `kinhteso quarantine --vintage {r.vintage_id}`."),
                   err=True)
    if d.get("stored_already"):
        click.echo(tr(f"  {d['stored_already']} bản ghi đã có trong một lần nộp trước (chỉ tính một lần).",
                      f"  {d['stored_already']} records were in an earlier vintage already (counted once)."))
    for x in d.get("recomputed", []):
        periods = ", ".join([*x["quarters"], *x.get("years", [])]) or "–"
        click.echo(tr(f"  → chỉ tiêu dẫn xuất của {x['territory']} tính lại cho {periods} (lần chạy {x['run_id'][:12]}).",
                      f"  → derived indicators of {x['territory']} recomputed for {periods} (run {x['run_id'][:12]})."))


@click.command("quarantine")
@click.option("--vintage", type=int, default=None, help="Chỉ một lần nộp / one vintage only.")
@format_option
@workspace_option
def quarantine(vintage: int | None, fmt: str, workspace: Path) -> None:
    """Bản ghi bị để riêng / the records set aside when record files were ingested (duplicates,
    events out of order), with the reason and the record as read; nothing is ever dropped silently."""
    from kinhteso.service.data import quarantine as run  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    with Workspace.open(workspace) as ws:
        df = run(ws, vintage)
    click.echo(render_frame(df, fmt, sheet=tr("de_rieng", "quarantine")))


@click.command("adapters")
@format_option
@workspace_option
def adapters(fmt: str, workspace: Path) -> None:
    """Các bộ chuyển đổi / the adapters for record files: name, dataset, the file's columns."""
    import pandas as pd  # noqa: PLC0415

    from kinhteso.reference.datasets import adapters as found  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    with Workspace.open(workspace) as ws:  # the workspace's own adapters beside the shipped ones
        ws.store.schema_version()  # a workspace whose store cannot be read says so
        listed = found(ws.root)
    def wide(a) -> str:
        if a.wide is None:
            return ""
        under = "; ".join(f"{k}={v}" for k, v in a.wide.columns.items()) if a.wide.columns else f"{a.wide.value}"
        return f"{a.wide.field} ← {tr('tháng theo cột', 'months across columns')}: {under}"

    rows = [{"adapter": a.name, "dataset": a.dataset, "name": tr(a.name_vi, a.name_en),
             "columns": "; ".join(f"{k}={v}" for k, v in a.columns.items()),
             "constants": "; ".join(f"{k}={v}" for k, v in a.constants.items()), "wide": wide(a),
             "timezone": a.timezone or "", "header_row": a.header_row, "header_rows": a.header_rows}
            for a in listed.values()]
    click.echo(render_frame(pd.DataFrame(rows), fmt, sheet=tr("bo_chuyen_doi", "adapters")))


@click.command("observations")
@click.option("--indicator", multiple=True, help="Mã chỉ tiêu / indicator code(s), e.g. GRDP_VA (repeat or comma-separate).")
@click.option("--territory", multiple=True, help="Địa bàn / territory: VN, 34:31, 63:30, or a name.")
@click.option("--sector", multiple=True, help="Ngành VSIC / VSIC sector code(s), _T for the total.")
@click.option("--period", type=PERIODS, multiple=True, help="Kỳ / period(s): 2024, 2024-Q1, 2024-01.")
@click.option("--as-of", "as_of", default=None, help="Trạng thái tại thời điểm / state as of a past moment (2026-11-26T10:00).")
@click.option("--basis", type=click.Choice(["63", "34"]), default=None,
              help="34: cộng các chuỗi cộng được của 63 tỉnh sang 34 tỉnh / sum additive 63-basis series to the 34 basis.")
@click.option("--vsic", type=click.Choice(["2025"]), default=None,
              help="2025: đọc số liệu mã VSIC 2018 đã chuyển sang VSIC 2025 (tổng không đổi) / read VSIC 2018-coded "
                   "additive series converted to VSIC 2025 (totals preserved; see `kinhteso vsic --map 2018:2025`).")
@format_option
@workspace_option
def observations(indicator, territory, sector, period, as_of, basis, vsic, fmt, workspace) -> None:
    """Xem số liệu được gửi / print submitted observations (latest vintage by default).

    Only what agencies and publishers submitted; kinhteso's own figures are read with
    `kinhteso results`, and the figure to report with `kinhteso figure`.
    """
    from kinhteso.pipeline.observations import parse_as_of  # noqa: PLC0415
    from kinhteso.service.data import ObservationsRequest, observations as run  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    def tup(v):
        got = _split(v)
        return tuple(got) if got else None

    req = ObservationsRequest(indicator=tup(indicator), territory=tup(territory), sector=tup(sector),
                              period=tup(period), as_of=parse_as_of(as_of), basis=int(basis) if basis else None,
                              vsic=int(vsic) if vsic else None)
    with Workspace.open(workspace) as ws:
        res = run(ws, req)
    for vi, en in res.notes:
        click.echo(tr(vi, en), err=True)
    if res.illustrative and fmt == "table":
        click.echo(f"⚠ {DEMO_LABEL[current_lang()]}")
    click.echo(render_frame(res.frame, fmt, digits=4, sheet=tr("quan_sat", "observations"),
                            meta={"illustrative": bool(res.illustrative)}))


@click.command("vintages")
@format_option
@workspace_option
def vintages(fmt: str, workspace: Path) -> None:
    """Liệt kê các lần nộp số liệu / list submissions (one record per vintage)."""
    from kinhteso.service.data import vintages as run  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    with Workspace.open(workspace) as ws:
        df = run(ws)
    click.echo(render_frame(df, fmt, sheet=tr("phien_ban", "vintages")))


@click.command("template")
@click.argument("indicators", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Tệp đầu ra / output file (default: template_<INDICATORS>.<format>).")
@workspace_option
def template(indicators: tuple[str, ...], fmt: str, out: Path | None, workspace: Path) -> None:
    """Tạo mẫu nộp số liệu / write a blank, annotated submission template."""
    from kinhteso.pipeline.template import write_template  # noqa: PLC0415

    codes = [c.strip().upper() for item in indicators for c in item.split(",") if c.strip()]
    cfg = workspace / "indicators.yaml"
    from kinhteso.reference.indicators import load_indicators  # noqa: PLC0415

    registry = load_indicators(cfg if cfg.exists() else None)
    out = out or Path(f"template_{'_'.join(codes)}.{fmt}")
    write_template(out, codes, registry, fmt=fmt)
    click.echo(tr(f"Đã ghi mẫu: {out}", f"Template written: {out}"))


@click.command("demo")
@click.option("--workspace", "workspace", type=click.Path(file_okay=False, path_type=Path), default="demo-workspace",
              show_default="./demo-workspace",
              help="Thư mục không gian làm việc demo / the demo workspace directory.")
@click.option("--fresh/--keep", default=True, show_default=True,
              help="Xóa và dựng lại không gian demo / rebuild the demo workspace from scratch.")
@click.option("--force", is_flag=True, default=False,
              help="Thay cả thư mục không phải không gian demo (xóa dữ liệu trong đó) / replace even a directory "
                   "that is not a demo workspace (its data are deleted).")
def demo(workspace: Path, fresh: bool, force: bool) -> None:
    """Dựng không gian làm việc MINH HỌA và chạy toàn bộ hệ thống / build the illustrative demo workspace and run every capability.

    The demo builds only in an absent or empty directory, or over a demo workspace: one it built
    (marked by its DEMO.toml) holding no vintage but its own or illustrative ones. Anything else
    is refused (WORKSPACE_NOT_DEMO, exit 1) unless --force.
    """
    from kinhteso.demo.build import run_demo  # noqa: PLC0415

    with progress_bar(tr("Dựng demo", "Building the demo")) as progress:
        run_demo(workspace, fresh=fresh, force=force, echo=click.echo, progress=progress)


COMMANDS = [init, ingest, observations, vintages, template, demo, quarantine, adapters]
