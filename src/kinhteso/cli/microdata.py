"""``kinhteso microdata generate`` and ``kinhteso microdata aggregate``: e-invoice microdata (issue 17)."""

from __future__ import annotations

from pathlib import Path

import click

from kinhteso.cli._progress import progress_bar
from kinhteso.i18n import tr


@click.group("microdata")
def microdata_group() -> None:
    """Vi dữ liệu hóa đơn điện tử / e-invoice microdata: synthetic data, validation, aggregates."""


@microdata_group.command("generate")
@click.option("--records", type=click.IntRange(1, 10_000_000_000), required=True,
              help="Số hóa đơn cần tạo / number of invoices to draw (replacements, faults and duplicates come on top).")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
              help="Hạt giống ngẫu nhiên / random seed: the same seed gives the same files.")
@click.option("--year", type=click.IntRange(2023, 2027), default=2025, show_default=True,
              help="Năm của hóa đơn / year of the invoices.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Thư mục ghi (mới, trống, hoặc do lệnh này tạo trước đó) / folder to write: new, empty, or "
                   "written by this command before (then replaced).")
def generate_cmd(records: int, seed: int, year: int, out: Path) -> None:
    """Tạo hóa đơn điện tử giả lập (minh họa) / synthetic e-invoices (illustrative).

    Parquet partitioned by month (OUT/month=YYYY-MM/part-NNNNN.parquet), written in chunks; firm
    sizes Pareto, sectors and provinces weighted, Tết seasonality, cancellations, replacements, and
    a few malformed and duplicate records for validation to find. See docs/microdata.md.
    """
    from kinhteso.i18n import DEMO_LABEL, current_lang  # noqa: PLC0415
    from kinhteso.service.microdata import GenerateRequest, generate  # noqa: PLC0415

    with progress_bar(tr("Tạo hóa đơn", "Generating invoices")) as progress:
        res = generate(GenerateRequest(records=records, seed=seed, year=year, out=out), progress=progress)
    click.echo(tr(f"Đã ghi {res.rows:,} bản ghi vào {res.files} tệp, {len(res.months)} tháng "
                  f"({res.months[0]} … {res.months[-1]}): {res.out}".replace(",", "."),
                  f"Wrote {res.rows:,} records in {res.files} files, {len(res.months)} months "
                  f"({res.months[0]} … {res.months[-1]}): {res.out}"))
    click.echo(DEMO_LABEL[current_lang()])


@microdata_group.command("aggregate")
@click.option("--input", "input_", type=click.Path(exists=True, path_type=Path), required=True,
              help="Thư mục Parquet (phân theo tháng) hoặc một tệp Parquet / Parquet folder (by month) or one file.")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="Bộ máy tính / engine: duckdb (embedded) or spark (PySpark, local or a cluster; needs Java).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Tệp CSV kết quả / the aggregate CSV (territory, vsic, period, channel, buyer_type, value, "
                   "sellers, flag).")
@click.option("--quarantine", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Tệp Parquet các bản ghi bị tách riêng / Parquet file of the set-aside records "
                   "(default: OUT with .quarantine.parquet).")
@click.option("--master", default=None,
              help="Spark master (chỉ với --engine spark / spark only): local[*] (default), local[4], "
                   "spark://host:7077, yarn, k8s://https://…")
@click.option("--driver-memory", "driver_memory", default=None,
              help="Bộ nhớ của Spark driver / Spark driver memory (spark only), e.g. 4g (default: Spark's, 1g).")
@click.option("--workspace", "workspace", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Lưu các ô vào không gian làm việc này / store the cells in this workspace "
                   "(default: none, nothing stored).")
@click.option("--source", default=None,
              help="Nguồn của lần nộp (với --workspace) / the submission's source (with --workspace): a "
                   "registered tax authority (e.g. cuc-thue, thue-hai-phong); illustrative data: any short "
                   "label (default: the input folder's name).")
@click.option("--incremental", is_flag=True,
              help="Cập nhật theo tháng từ thư mục trạng thái (duckdb): chỉ đọc tháng mới hoặc đã đổi / update "
                   "from the state folder (duckdb): only new or changed months are read; the result equals a full run.")
@click.option("--state", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Thư mục trạng thái / state folder of --incremental (default: OUT.state beside the CSV).")
@click.option("--remove-missing-months", "remove_missing", is_flag=True,
              help="Bỏ các tháng không còn trong dữ liệu vào / drop the state's months absent from the input "
                   "(else refused).")
@click.option("--memory-limit", "memory_limit", default=None,
              help="Giới hạn bộ nhớ của DuckDB / DuckDB's memory limit, e.g. 4GB (it spills to disk beyond it).")
def aggregate_cmd(input_: Path, engine: str, out: Path, quarantine: Path | None, master: str | None,
                  driver_memory: str | None, workspace: Path | None, source: str | None, incremental: bool,
                  state: Path | None, remove_missing: bool, memory_limit: str | None) -> None:
    """Kiểm tra, tách riêng và tổng hợp hóa đơn / validate, quarantine and aggregate e-invoices.

    One row per territory × VSIC class × month × channel × buyer type: value (VND billion),
    sellers (distinct), flag (C: suppressed by disclosure control, value empty). Malformed,
    duplicate, cancelled and replaced records are set aside with their reason (Decree
    123/2020/NĐ-CP; Circular 78/2021/TT-BTC), counted here and written to the quarantine file.
    DuckDB and Spark run the same expressions and give the same files. With --workspace, the
    cells and each seller's yearly sums are stored in the workspace as well.
    """
    from kinhteso.microdata.rules import REASONS, reason  # noqa: PLC0415
    from kinhteso.service.microdata import AggregateRequest, aggregate  # noqa: PLC0415

    res = aggregate(AggregateRequest(input=input_, out=out, engine=engine, quarantine=quarantine, master=master,
                                     driver_memory=driver_memory, workspace=workspace, source=source,
                                     incremental=incremental, state=state, remove_missing=remove_missing,
                                     memory_limit=memory_limit))
    for vi, en in res.notes:
        click.echo(tr(vi, en), err=True)
    if res.months_recomputed is not None:
        done = ", ".join(res.months_recomputed) or "—"
        click.echo(tr(f"Tháng tính lại: {done}; lấy từ trạng thái: {len(res.months_from_state or [])}.",
                      f"Months recomputed: {done}; taken from the state: {len(res.months_from_state or [])}."))
    click.echo(tr(f"Đọc {res.records_read} bản ghi: giữ {res.kept}, tách riêng {sum(res.set_aside.values())}.",
                  f"Read {res.records_read} records: kept {res.kept}, set aside {sum(res.set_aside.values())}."))
    order = {r.code: i for i, r in enumerate(REASONS)}
    for code, n in sorted(res.set_aside.items(), key=lambda kv: order.get(kv[0], len(order))):
        r = reason(code)
        click.echo(f"  {code:<18} {n:>10}  {tr(r.vi, r.en)}")
    click.echo(tr(f"{res.cells} ô, {res.suppressed} ô bị ẩn (C): {res.out}",
                  f"{res.cells} cells, {res.suppressed} suppressed (C): {res.out}"))
    click.echo(tr(f"Bản ghi tách riêng: {res.quarantine}", f"Set-aside records: {res.quarantine}"))
    stored = res.stored or {}
    if stored.get("message_vi") or stored.get("message_en"):
        click.echo(tr(str(stored.get("message_vi", "")), str(stored.get("message_en", ""))))


COMMANDS = [microdata_group]
