"""Where ``kinhteso demo`` may build: the demo never destroys anyone's data without being told to.

The rule. ``kinhteso demo --workspace W`` (re)builds W, deleting what it holds, only when W

- does not exist, or is an empty directory; or
- is a *demo workspace*: it holds the marker :data:`MARKER` (``DEMO.toml``) that the demo writes,
  and every vintage in its store is demo data, that is either a vintage the demo's own build
  created (the marker lists their ids: the generated submissions, source ``demo``, and the
  published figures it loads, whose source is their publisher) or an illustrative one (a series
  kinhteso computes from the demo data and stores as a vintage is marked illustrative). Results
  stored as runs are not submissions and do not count.

Anything else is refused with :class:`~kinhteso.errors.WorkspaceError` ``WORKSPACE_NOT_DEMO``
(exit code 1), naming W and what it holds: a non-empty directory that is not a kinhteso
workspace; a workspace the demo did not build (no marker: ``kinhteso init``, or a demo built
before the marker existed); a demo workspace into which a submission was ingested later (an
agency's file), since such a vintage is neither listed in the marker nor illustrative.
``--force`` overrides the refusal (the demo then says what it replaces). Even with ``--force``
the demo deletes neither a filesystem root, the home directory, nor the current directory or
one of its parents (``WORKSPACE_UNSAFE``); and a ``STORE_LOCKED`` from the store (another
process at work on it) is passed on, never overridden.

The marker is written at the end of every build, also a failed or interrupted one, listing the
vintages that build created (with ``--keep``, added to those already listed).

>>> # check_target(Path("demo-workspace"))            # returns quietly, or raises WORKSPACE_NOT_DEMO
>>> # check_target(Path("ws"), force=True).holdings()  # what --force replaces, in (vi, en)
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kinhteso import __version__
from kinhteso.errors import WorkspaceError
from kinhteso.store import Store
from kinhteso.workspace import CONFIG_NAME, Workspace

__all__ = ["MARKER", "DemoTarget", "inspect_target", "check_target", "demo_vintage_ids", "write_marker"]

#: The file the demo writes into the workspace it builds, listing the vintages it created.
MARKER = "DEMO.toml"
_VINTAGE_COLUMNS = ["vintage_id", "source", "received_at", "file_name", "n_rows", "illustrative"]


@dataclass(frozen=True)
class DemoTarget:
    """What a directory holds, as far as ``kinhteso demo`` is concerned.

    ``kind``: ``absent``, ``empty``, ``demo`` (a demo workspace holding only demo data),
    ``workspace`` (a kinhteso workspace that is not, or no longer, only demo data) or
    ``directory`` (a non-empty directory, or a file, that is not a kinhteso workspace).
    """

    path: Path
    kind: str
    marked: bool = False
    #: the vintages that are not demo data (vintage_id, source, received_at, file_name, n_rows, illustrative)
    foreign: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_VINTAGE_COLUMNS))
    #: the names in the directory, for one that is not a workspace
    entries: tuple[str, ...] = ()
    #: why the workspace's store could not be read, if it could not
    problem: str = ""

    @property
    def replaceable(self) -> bool:
        """True when the demo may build here without ``--force``."""
        return self.kind in ("absent", "empty", "demo")

    def holdings(self) -> tuple[str, str]:
        """What the directory holds, in Vietnamese and English (for messages)."""
        if self.kind == "directory":
            names = ", ".join(self.entries[:5]) + (", …" if len(self.entries) > 5 else "")
            if not self.path.is_dir():
                return ("một tệp, không phải thư mục", "a file, not a directory")
            return (f"không phải không gian làm việc kinhteso, có {len(self.entries)} tệp/thư mục ({names})",
                    f"not a kinhteso workspace; it holds {len(self.entries)} file(s) or folder(s) ({names})")
        if self.problem:
            return (f"không gian làm việc kinhteso không đọc được cơ sở dữ liệu ({self.problem})",
                    f"a kinhteso workspace whose store cannot be read ({self.problem})")
        n = len(self.foreign)
        counts = self.foreign.groupby("source").size() if n else pd.Series(dtype=int)
        sources = ", ".join(f"{s} ({int(c)})" for s, c in counts.items())
        vi_v = f"{n} phiên bản dữ liệu không phải demo" + (f", nguồn: {sources}" if n else "")
        en_v = f"{n} non-demo vintage(s)" + (f", from: {sources}" if n else "")
        if self.kind == "workspace" and not self.marked:
            return (f"không gian làm việc kinhteso không do `kinhteso demo` dựng (không có {MARKER}), chứa {vi_v}",
                    f"a kinhteso workspace that `kinhteso demo` did not build (no {MARKER}); it holds {en_v}")
        if self.kind == "workspace":
            return (f"không gian làm việc demo đã được nạp thêm dữ liệu khác: {vi_v}",
                    f"a demo workspace into which other data were loaded since: {en_v}")
        if self.kind == "demo":
            return ("không gian làm việc demo, chỉ chứa dữ liệu demo", "a demo workspace holding demo data only")
        return ("thư mục trống", "an empty directory") if self.kind == "empty" else ("chưa có", "nothing yet")


def demo_vintage_ids(root: Path) -> set[int] | None:
    """The vintages the demo's builds created in workspace ``root`` (from its marker), or None
    when there is no readable marker."""
    path = Path(root) / MARKER
    if not path.is_file():
        return None
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    if doc.get("demo") is not True:
        return None
    return {int(v) for v in doc.get("vintages", []) if isinstance(v, int)}


def write_marker(root: Path, vintage_ids: Iterable[int]) -> Path:
    """Write the demo marker into ``root``, listing the vintages the demo created."""
    root = Path(root)
    ids = sorted({int(v) for v in vintage_ids})
    text = "\n".join([
        "# Không gian làm việc này do `kinhteso demo` dựng: SỐ LIỆU MINH HỌA. `kinhteso demo` chỉ dựng lại nó",
        "# khi mọi phiên bản dữ liệu trong đó là của demo (liệt kê dưới đây, hoặc được đánh dấu minh họa).",
        "# This workspace was built by `kinhteso demo`: ILLUSTRATIVE DATA. `kinhteso demo` rebuilds it only",
        "# while every vintage in it is demo data (listed below, or marked illustrative).",
        "demo = true",
        f'built = "{dt.datetime.now().isoformat(timespec="seconds")}"',
        f'kinhteso_version = "{__version__}"',
        f"vintages = [{', '.join(str(i) for i in ids)}]",
        "",
    ])
    fd, tmp = tempfile.mkstemp(prefix=f".{MARKER}.", dir=root)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, root / MARKER)
    return root / MARKER


def inspect_target(path: Path) -> DemoTarget:
    """Look at ``path`` (without changing it) and say what it holds."""
    path = Path(path)
    if not path.exists():
        return DemoTarget(path, "absent")
    if not path.is_dir():
        return DemoTarget(path, "directory", entries=(path.name,))
    entries = tuple(sorted(p.name for p in path.iterdir()))
    if not entries:
        return DemoTarget(path, "empty")
    if not (path / CONFIG_NAME).exists():
        return DemoTarget(path, "directory", entries=entries)
    ids = demo_vintage_ids(path)
    marked = ids is not None
    try:
        store_path = Workspace.open(path).store_path
        vintages = _vintages(store_path)
    except WorkspaceError as exc:
        if exc.code == "STORE_LOCKED":
            raise
        return DemoTarget(path, "workspace", marked=marked, entries=entries, problem=f"{exc.code}: {exc.en}")
    foreign = vintages[~vintages.vintage_id.isin(sorted(ids or ())) & ~vintages.illustrative.astype(bool)]
    foreign = foreign.reindex(columns=_VINTAGE_COLUMNS).reset_index(drop=True)
    kind = "demo" if marked and foreign.empty else "workspace"
    return DemoTarget(path, kind, marked=marked, foreign=foreign, entries=entries)


def _vintages(store_path: Path) -> pd.DataFrame:
    """Every vintage of the store at ``store_path`` (none when there is no store file yet)."""
    if not store_path.exists():
        return pd.DataFrame(columns=_VINTAGE_COLUMNS)
    with Store.open(store_path) as store:
        return store.vintages()


def check_target(path: Path, *, force: bool = False, fresh: bool = True) -> DemoTarget:
    """Return what ``path`` holds when the demo may build there, else raise ``WORKSPACE_NOT_DEMO``.

    With ``force`` a directory that is not a demo workspace is accepted too; with ``fresh`` (the
    directory will be deleted first) a filesystem root, the home directory and the current
    directory or its parents are refused all the same (``WORKSPACE_UNSAFE``).
    """
    target = inspect_target(path)
    if not target.replaceable and not force:
        vi, en = target.holdings()
        raise WorkspaceError(
            "WORKSPACE_NOT_DEMO",
            f"{path} không phải không gian làm việc demo: {vi}. Không xóa, không ghi vào đó. Hãy chọn thư mục khác "
            "bằng --workspace, hoặc thêm --force để thay thế nó (mọi dữ liệu trong đó sẽ bị xóa).",
            f"{path} is not a demo workspace: {en}. Not deleting it, not writing into it. Choose another "
            "directory with --workspace, or add --force to replace it (everything in it is deleted).",
            path=str(path), kind=target.kind, non_demo_vintages=len(target.foreign),
            sources=sorted(set(target.foreign.source)) if len(target.foreign) else [],
        )
    if fresh and target.kind not in ("absent", "empty") and _unsafe(Path(path)):
        raise WorkspaceError(
            "WORKSPACE_UNSAFE",
            f"Không xóa {path}: đó là thư mục gốc, thư mục nhà, hoặc thư mục hiện hành hay thư mục cha của nó. "
            "Hãy chọn một thư mục con riêng cho demo (mặc định ./demo-workspace).",
            f"Not deleting {path}: it is a filesystem root, the home directory, or the current directory or one "
            "of its parents. Choose a directory of its own for the demo (the default is ./demo-workspace).",
            path=str(path),
        )
    return target


def _unsafe(path: Path) -> bool:
    p = path.resolve()
    cwd = Path.cwd().resolve()
    home = Path(os.path.expanduser("~")).resolve()
    return p == Path(p.anchor) or p == home or p == cwd or p in cwd.parents
