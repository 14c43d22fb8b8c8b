"""Workspace commands: init, ingest, observations, vintages, template, demo."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from kinhteso.cli._common import format_option, render_frame, workspace_option
from kinhteso.errors import InputRejected
from kinhteso.i18n import DEMO_LABEL, current_lang, tr
from kinhteso.ingest.load import ingest_file
from kinhteso.pipeline.observations import ObservationQuery, parse_as_of, read_observations
from kinhteso.workspace import Workspace


def _split(values: tuple[str, ...]) -> list[str] | None:
    out = [v.strip() for item in values for v in item.split(",") if v.strip()]
    return out or None


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Tạo không gian làm việc / create a workspace (kinhteso.toml + DuckDB store).

    An existing workspace is opened and left as it is; a non-empty directory that is not a
    workspace is refused.
    """
    with Workspace.init(directory) as ws:
        click.echo(tr(f"Đã tạo không gian làm việc: {ws.root.resolve()}", f"Workspace ready: {ws.root.resolve()}"))


def write_problems(path: Path, exc: InputRejected, fallback_dir: Path) -> Path:
    """Write FILE.problems.csv (every problem, both languages) beside the file, else in the workspace."""
    target = path.with_name(path.name + ".problems.csv")
    rows = [[p.file, "" if p.row is None else p.row, p.column, p.code, p.vi, p.en] for p in exc.problems]
    for candidate in (target, fallback_dir / target.name):
        try:
            candidate.parent.mkdir(parents=True, exist_ok=True)
            with open(candidate, "w", newline="", encoding="utf-8-sig") as fh:
                w = csv.writer(fh)
                w.writerow(["file", "row", "column", "code", "message_vi", "message_en"])
                w.writerows(rows)
            return candidate
        except OSError:
            continue
    return target


@click.command("ingest")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--source", default="unknown", show_default=True,
              help="Cơ quan gửi số liệu / submitting agency (e.g. cuc-thong-ke-hai-phong, thue, hai-quan).")
@click.option("--decimal", type=click.Choice([".", ","]), default=".", show_default=True,
              help="Dấu thập phân / decimal mark: ',' for 1.234,5.")
@workspace_option
def ingest(files: tuple[Path, ...], source: str, decimal: str, workspace: Path) -> None:
    """Nạp tệp CSV/XLSX / ingest CSV or XLSX files (long or wide format).

    Each file is validated whole: a file with any problem is refused, nothing of it is
    stored, its problems are listed here and in FILE.problems.csv (exit code 1). A valid file
    becomes one vintage, written in one transaction. The same file twice adds nothing.
    """
    rejected = 0
    with Workspace.open(workspace) as ws:
        indicators = ws.indicators()
        for f in files:
            def progress(stage: str, _f=f) -> None:
                labels = {"validate": tr("đang kiểm tra", "validating"),
                          "write": tr("kiểm tra xong, không có lỗi", "checked, no problems"),
                          "writing": tr("đang ghi (writing…)", "writing…")}
                click.echo(f"  {_f.name}: {labels.get(stage, stage)}", err=True)
                sys.stderr.flush()

            try:
                r = ingest_file(ws.store, f, source=source, indicators=indicators, workdir=ws.tmp,
                                decimal=decimal, progress=progress)
            except InputRejected as exc:
                rejected += 1
                where = write_problems(f, exc, ws.root)
                click.echo(f"✗ {exc.message()}", err=True)
                for p in exc.problems[:200]:
                    click.echo("  " + p.located(), err=True)
                if len(exc.problems) > 200:
                    click.echo(tr(f"  … và {len(exc.problems) - 200} lỗi khác", f"  … and {len(exc.problems) - 200} more"), err=True)
                click.echo(tr(f"  Danh sách lỗi: {where}", f"  Problem list: {where}"), err=True)
                continue
            if r.already_stored:
                click.echo(tr(f"= {f}: đã nạp trước đó (phiên bản {r.vintage_id}), không thêm gì.",
                              f"= {f}: already ingested (vintage {r.vintage_id}); nothing added."))
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
    if rejected:
        raise SystemExit(1)


@click.command("observations")
@click.option("--indicator", multiple=True, help="Mã chỉ tiêu / indicator code(s), e.g. GRDP_VA (repeat or comma-separate).")
@click.option("--territory", multiple=True, help="Địa bàn / territory: VN, 34:31, 63:30, or a name.")
@click.option("--sector", multiple=True, help="Ngành VSIC / VSIC sector code(s), _T for the total.")
@click.option("--period", multiple=True, help="Kỳ / period(s): 2024, 2024-Q1, 2024-01.")
@click.option("--as-of", "as_of", default=None, help="Trạng thái tại thời điểm / state as of a past moment (2026-11-26T10:00).")
@click.option("--basis", type=click.Choice(["63", "34"]), default=None,
              help="34: cộng các chuỗi cộng được của 63 tỉnh sang 34 tỉnh / sum additive 63-basis series to the 34 basis.")
@format_option
@workspace_option
def observations(indicator, territory, sector, period, as_of, basis, fmt, workspace) -> None:
    """Xem số liệu / print observations (latest vintage by default)."""
    q = ObservationQuery(indicator=_split(indicator), territory=_split(territory), sector=_split(sector),
                         period=_split(period), as_of=parse_as_of(as_of), basis=int(basis) if basis else None)
    if q.indicator:
        q.indicator = [c.upper() for c in q.indicator]
    with Workspace.open(workspace) as ws:
        res = read_observations(ws, q)
    for vi, en in res.notes:
        click.echo(tr(vi, en), err=True)
    if res.illustrative and fmt == "table":
        click.echo(f"⚠ {DEMO_LABEL[current_lang()]}")
    click.echo(render_frame(res.frame, fmt, digits=4))


@click.command("vintages")
@format_option
@workspace_option
def vintages(fmt: str, workspace: Path) -> None:
    """Liệt kê các lần nộp số liệu / list submissions (one record per vintage)."""
    with Workspace.open(workspace) as ws:
        df = ws.store.vintages()
    click.echo(render_frame(df, fmt))


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
@workspace_option
@click.option("--fresh/--keep", default=True, show_default=True,
              help="Xóa và dựng lại không gian demo / rebuild the demo workspace from scratch.")
def demo(workspace: Path, fresh: bool) -> None:
    """Dựng không gian làm việc MINH HỌA và chạy toàn bộ hệ thống / build the illustrative demo workspace and run every capability."""
    from kinhteso.pipeline.demo import run_demo  # noqa: PLC0415

    run_demo(workspace, fresh=fresh, echo=click.echo)


COMMANDS = [init, ingest, observations, vintages, template, demo]
