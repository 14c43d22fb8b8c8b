"""Creating a workspace that can measure from the first day.

``kinhteso init`` creates the workspace and loads the figures kinhteso ships as facts with their
sources (``reference/data/published/``: the digital economy's published shares, DTI scores) as
submissions, one vintage per (file, publisher, release), received at the release date so that
``--as-of`` shows what was published when. They are real, sourced figures, never illustrative.

>>> InitRequest("ws").published
True
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kinhteso.i18n import tr
from kinhteso.progress import Progress, or_null
from kinhteso.workspace import Workspace

__all__ = ["InitRequest", "InitResult", "init", "load_published", "published_files"]


@dataclass(frozen=True)
class InitRequest:
    root: str | Path
    name: str | None = None
    published: bool = True   #: load the shipped published figures as submissions


@dataclass
class InitResult:
    root: Path
    created: bool
    published_rows: int
    published_vintages: int


def published_files() -> list[Path]:
    """The shipped published-figure files (``reference/data/published/*.csv``)."""
    base = resources.files("kinhteso.reference") / "data" / "published"
    return sorted(Path(str(p)) for p in base.iterdir() if p.name.endswith(".csv"))


def load_published(ws: Workspace) -> tuple[int, int]:
    """Ingest the shipped published figures: one vintage per (file, source, release), received
    at the release date. Idempotent (the same file twice adds nothing). Returns (rows, vintages)."""
    import pandas as pd  # noqa: PLC0415

    from kinhteso.ingest.load import ingest_file  # noqa: PLC0415
    from kinhteso.safe_io import write_text_atomic  # noqa: PLC0415

    out_dir = ws.root / "published_inputs"
    out_dir.mkdir(exist_ok=True)
    rows = vintages = 0
    indicators = ws.indicators()
    for path in published_files():
        facts = pd.read_csv(path, dtype=str, keep_default_na=False)
        for (source, release), part in facts.groupby(["source", "release"], sort=True):
            name = f"{path.stem}_{source.replace('/', '-').replace(' ', '_')}_{release}.csv"
            target = out_dir / name
            # the file ingestion reads back: written atomically, never through a link, and kept as
            # the published file has it (not neutralised: it is an input, not a report)
            write_text_atomic(target, part.drop(columns=["source", "release", "url"]).to_csv(index=False))
            r = ingest_file(ws.store, target, source=source, indicators=indicators, workdir=ws.tmp,
                            received_at=dt.datetime.fromisoformat(release))
            if not r.already_stored:
                rows += r.n_rows
                vintages += 1
    return rows, vintages


def init(req: InitRequest, *, progress: Progress | None = None) -> InitResult:
    """Create the workspace (an existing one is opened, never emptied) and load the published
    figures. ``progress``: :mod:`kinhteso.progress` (one step: the published figures)."""
    from kinhteso.workspace import CONFIG_NAME  # noqa: PLC0415

    root = Path(req.root)
    created = not (root / CONFIG_NAME).exists()
    with Workspace.init(root, name=req.name) as ws:
        rows = n = 0
        if req.published:
            say = or_null(progress)
            say(0, 1, tr("Số liệu công bố", "Published figures"))
            rows, n = load_published(ws)
            say(1, 1, tr("Số liệu công bố", "Published figures"))
    return InitResult(root, created, rows, n)
