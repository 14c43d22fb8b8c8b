"""A workspace: a directory with ``kinhteso.toml``, the DuckDB store and the user's own reference files.

Layout::

    DIR/
      kinhteso.toml        settings (name, created, store file, memory limit)
      kinhteso.duckdb      the store (see kinhteso.store)
      indicators.yaml      optional: the workspace's own indicators (same format as the shipped registry)
      tmp/                 DuckDB spill files, scratch databases and staged conversions, one
                           folder per process (``tmp/<pid>-<random>/``), removed by that process
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from kinhteso import __version__
from kinhteso.errors import WorkspaceError
from kinhteso.reference.indicators import Indicator, load_indicators
from kinhteso.store import Store

__all__ = ["Workspace", "CONFIG_NAME", "DEFAULT_SETTINGS"]

CONFIG_NAME = "kinhteso.toml"
#: Settings of a workspace, with their defaults and meaning (written into kinhteso.toml).
DEFAULT_SETTINGS: dict[str, tuple[object, str]] = {
    "store": ("kinhteso.duckdb", "the DuckDB file, relative to the workspace"),
    "memory_limit": ("1GB", "DuckDB memory limit; larger work spills to tmp/"),
    "threads": (2, "DuckDB threads"),
}


@dataclass
class Workspace:
    """An opened workspace directory. ``store`` is opened on first use; close with :meth:`close`."""

    root: Path
    settings: dict[str, object] = field(default_factory=dict)
    _store: Store | None = None
    _tmp: Path | None = None
    owner: bool = False  #: a server: keep the write connection (see kinhteso.store)

    # --- creation and opening ------------------------------------------------------------
    @classmethod
    def init(cls, root: Path, *, name: str | None = None, owner: bool = False) -> Workspace:
        """Create a workspace (idempotent: an existing one is opened, never emptied)."""
        root = Path(root)
        cfg = root / CONFIG_NAME
        if cfg.exists():
            return cls.open(root, owner=owner)
        if root.exists() and any(root.iterdir()):
            raise WorkspaceError(
                "DIR_NOT_EMPTY",
                f"Thư mục {root} đã có tệp nhưng không phải không gian làm việc kinhteso; hãy chọn thư mục trống.",
                f"Directory {root} is not empty and is not a kinhteso workspace; choose an empty directory.",
            )
        root.mkdir(parents=True, exist_ok=True)
        lines = [
            "# kinhteso workspace / không gian làm việc kinhteso",
            f'name = "{name or root.resolve().name}"',
            f'created = "{dt.datetime.now().isoformat(timespec="seconds")}"',
            f'kinhteso_version = "{__version__}"',
        ]
        for key, (default, help_) in DEFAULT_SETTINGS.items():
            val = f'"{default}"' if isinstance(default, str) else str(default)
            lines.append(f"{key} = {val}  # {help_}")
        cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
        ws = cls.open(root, owner=owner)
        ws.store  # create the store and its schema now
        return ws

    @classmethod
    def open(cls, root: Path, *, owner: bool = False) -> Workspace:
        """Open a workspace; ``owner=True`` (a server) keeps the store's write connection."""
        root = Path(root)
        cfg = root / CONFIG_NAME
        if not cfg.exists():
            raise WorkspaceError(
                "NO_WORKSPACE",
                f"{root} không phải là không gian làm việc kinhteso (thiếu {CONFIG_NAME}). Chạy `kinhteso init {root}` hoặc `kinhteso demo`.",
                f"{root} is not a kinhteso workspace (no {CONFIG_NAME}). Run `kinhteso init {root}` or `kinhteso demo`.",
            )
        try:
            settings = tomllib.loads(cfg.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise WorkspaceError(
                "BAD_CONFIG", f"Tệp {cfg} không đúng cú pháp TOML: {exc}", f"{cfg} is not valid TOML: {exc}"
            ) from exc
        merged = {k: v for k, (v, _) in DEFAULT_SETTINGS.items()} | settings
        return cls(root=root, settings=merged, owner=owner)

    # --- parts ---------------------------------------------------------------------------
    @property
    def store_path(self) -> Path:
        return self.root / str(self.settings["store"])

    @property
    def tmp(self) -> Path:
        """This process's scratch folder (several processes may work on one workspace at once)."""
        if self._tmp is None:
            self._tmp = self.root / "tmp" / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._tmp.mkdir(parents=True, exist_ok=True)
        return self._tmp

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.store_path, create=True, owner=self.owner, settings={
                "memory_limit": str(self.settings["memory_limit"]), "temp_directory": str(self.tmp),
                "threads": int(self.settings["threads"])})
        return self._store

    def indicators(self) -> dict[str, Indicator]:
        """The shipped indicator registry plus the workspace's ``indicators.yaml``."""
        extra = self.root / "indicators.yaml"
        return load_indicators(extra if extra.exists() else None)

    def close(self) -> None:
        # each process removes only its own scratch folder, never another's
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
