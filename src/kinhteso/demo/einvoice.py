"""Demo step: illustrative e-invoices, aggregated and stored, and the province-specific shares with
their intervals in the accounts (issue 17, item 3; ``docs/microdata.md``).

The step generates :data:`RECORDS` synthetic invoices (seeded: :mod:`kinhteso.microdata.generate`,
every file labelled illustrative) under ``WORKSPACE/demo_inputs/einvoices``, validates and aggregates
them with the engine's expressions (:mod:`kinhteso.microdata.engine`: the cells and each seller's
sums), stores them with :func:`kinhteso.pipeline.einvoice.store_aggregates` (source ``einvoice:demo``,
illustrative) and measures Hải Phòng and Hồ Chí Minh City (stored as a run), printing each one's
share with its interval and which sections fell back.
"""

from __future__ import annotations

from collections.abc import Callable

from kinhteso.i18n import DEMO_LABEL, fmt_number, tr
from kinhteso.workspace import Workspace

__all__ = ["einvoice_summary", "RECORDS", "SEED", "PROVINCES", "aggregates"]

#: How many invoices the demo draws (about 6 000 sellers), its seed and the provinces it shows.
RECORDS = 300_000
SEED = 1
PROVINCES = ("34:31", "34:79")


def aggregates(folder) -> tuple:
    """(cells, sellers, illustrative) of the e-invoices under ``folder``: the engine's expressions
    (validation rules, :func:`~kinhteso.microdata.engine.cells`, :func:`~kinhteso.microdata.engine.seller_sums`)
    run on embedded DuckDB."""
    import os  # noqa: PLC0415
    import shutil  # noqa: PLC0415
    import tempfile  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from kinhteso.microdata import engine  # noqa: PLC0415
    from kinhteso.microdata.generate import is_generated  # noqa: PLC0415

    keys, divisions = engine.reference_codes()
    files = sorted(p for p in Path(folder).rglob("*.parquet") if not p.name.startswith((".", "_")))
    tmp = tempfile.mkdtemp(prefix="kinhteso-einvoice-")
    con = engine.connect_duckdb(temp_directory=os.path.join(tmp, "spill"))
    try:
        c = engine.classify(engine.read_records(con, files), territories=keys, divisions=divisions)
        cells = con.to_pandas(engine.cells(c))
        sellers = con.to_pandas(engine.seller_sums(c, by=("territory", "vsic", "year")))
    finally:
        con.disconnect()
        shutil.rmtree(tmp, ignore_errors=True)
    return cells, sellers, is_generated(Path(folder))


def einvoice_summary(ws: Workspace, echo: Callable[[str], None]) -> None:
    """Generate, aggregate and store the illustrative e-invoices; measure the two provinces with intervals."""
    from kinhteso.microdata.generate import write_dataset  # noqa: PLC0415
    from kinhteso.pipeline import accounts as PA  # noqa: PLC0415
    from kinhteso.pipeline.einvoice import store_aggregates  # noqa: PLC0415
    from kinhteso.reference import territories as terr  # noqa: PLC0415

    folder = ws.root / "demo_inputs" / "einvoices"
    folder.parent.mkdir(parents=True, exist_ok=True)
    write_dataset(folder, RECORDS, seed=SEED, year=2025)
    cells, sellers, illustrative = aggregates(folder)
    out = store_aggregates(ws, cells=cells, sellers=sellers, source="demo", illustrative=illustrative,
                           engine="duckdb")
    echo("")
    echo(tr(f"Hóa đơn điện tử — {fmt_number(RECORDS, 0)} hóa đơn giả lập, {fmt_number(len(sellers), 0)} người bán "
            f"[{DEMO_LABEL['vi']}]:",
            f"E-invoices — {fmt_number(RECORDS, 0)} synthetic invoices, {fmt_number(len(sellers), 0)} sellers "
            f"[{DEMO_LABEL['en']}]:"))
    echo("  " + tr(out["message_vi"], out["message_en"]))
    res = PA.measure_many(ws, list(PROVINCES), ["2025"], ["gso"], store_run=True, intervals=True)
    for r in res:
        if r.result is None:
            continue
        name = terr.get_territory(r.territory).name_vi
        line = f"  {r.territory} {name}: {fmt_number(r.result.de_share, 2)}%"
        if r.interval is not None:
            lo, hi = r.interval["de_share"]
            line += tr(f" (khoảng 90% {fmt_number(lo, 2)}–{fmt_number(hi, 2)}; bootstrap theo doanh nghiệp)",
                       f" (90% interval {fmt_number(lo, 2)}–{fmt_number(hi, 2)}; bootstrap over firms)")
        echo(line)
        for w in r.warnings:
            if w.get("code") in ("EINVOICE_COEF", "EINVOICE_FALLBACK", "EINVOICE_ALLOC"):
                echo(f"    {w['code']}: {tr(w['vi'], w['en'])}")
