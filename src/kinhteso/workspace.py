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
import re
import shutil
import uuid
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from kinhteso import __version__
from kinhteso.errors import WorkspaceError
from kinhteso.reference.indicators import Indicator, load_indicators
from kinhteso.store import Store

__all__ = ["Workspace", "CONFIG_NAME", "DEFAULT_SETTINGS", "check_settings", "toml_string"]

CONFIG_NAME = "kinhteso.toml"
#: Settings of a workspace, with their defaults and meaning (written into kinhteso.toml).
DEFAULT_SETTINGS: dict[str, tuple[object, str]] = {
    "store": ("kinhteso.duckdb", "the DuckDB file, relative to the workspace"),
    "memory_limit": ("1GB", "DuckDB memory limit; larger work spills to tmp/"),
    "threads": (2, "DuckDB threads"),
}


#: ``memory_limit``: a positive size with its unit (DuckDB's forms: ``1GB``, ``512MiB``, ``1.5 GB``)
#: or a percentage of the machine's memory (``50%``).
_MEMORY = re.compile(r"(?i)\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib|%)\s*")
_MAX_THREADS = 1024


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string, every quote, backslash and control character escaped.

    >>> toml_string('a"b\\nc')
    '"a\\\\"b\\\\nc"'
    """
    out = []
    for ch in str(text):
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:  # a lone surrogate (an undecodable file name) cannot be UTF-8
            out.append("\uFFFD")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _bad_setting(cfg: Path, key: str, value: object, vi: str, en: str) -> WorkspaceError:
    shown = repr(value)[:80]
    return WorkspaceError(
        "BAD_SETTING",
        f"Thiết lập {key} = {shown} trong {cfg} không hợp lệ: {vi}",
        f"Setting {key} = {shown} in {cfg} is not valid: {en}",
        path=str(cfg), setting=key,
    )


def check_settings(settings: dict[str, object], cfg: Path = Path(CONFIG_NAME)) -> None:
    """Check the settings that reach DuckDB or the file system; a bad one is ``BAD_SETTING``.

    They are passed to DuckDB through its configuration dictionary (never formatted into SQL);
    checking them here gives a message that names the setting and the form expected.
    """
    mem = settings.get("memory_limit")
    m = _MEMORY.fullmatch(mem) if isinstance(mem, str) else None
    if m is None or float(m.group(1)) <= 0 or (m.group(2) == "%" and float(m.group(1)) > 100):
        raise _bad_setting(cfg, "memory_limit", mem,
                           "cần một dung lượng dương có đơn vị, ví dụ \"1GB\", \"512MB\", hoặc phần trăm \"50%\".",
                           'a positive size with its unit is expected, e.g. "1GB", "512MB", or a percentage "50%".')
    threads = settings.get("threads")
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= _MAX_THREADS:
        raise _bad_setting(cfg, "threads", threads, f"cần một số nguyên từ 1 đến {_MAX_THREADS}, ví dụ 2.",
                           f"an integer from 1 to {_MAX_THREADS} is expected, e.g. 2.")
    store = settings.get("store")
    if not isinstance(store, str) or not store.strip() or "\x00" in store:
        raise _bad_setting(cfg, "store", store, 'cần tên tệp DuckDB, ví dụ "kinhteso.duckdb".',
                           'a DuckDB file name is expected, e.g. "kinhteso.duckdb".')


def _check_path(store: Path) -> None:
    """DuckDB reads a backslash in a file name as a folder separator: such a store would be
    looked for elsewhere, so the workspace is refused (``BAD_PATH``) before anything is made."""
    if os.sep != "\\" and "\\" in str(store.absolute()):
        raise WorkspaceError(
            "BAD_PATH",
            f"Đường dẫn {store} có dấu gạch chéo ngược (\\), DuckDB không mở được; hãy đổi tên thư mục.",
            f"The path {store} holds a backslash (\\), which DuckDB cannot open; rename the folder.",
            path=str(store))


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
        _check_path(root / str(DEFAULT_SETTINGS["store"][0]))
        root.mkdir(parents=True, exist_ok=True)
        lines = [
            "# kinhteso workspace / không gian làm việc kinhteso",
            f"name = {toml_string(name or root.resolve().name)}",
            f"created = {toml_string(dt.datetime.now().isoformat(timespec='seconds'))}",
            f"kinhteso_version = {toml_string(__version__)}",
        ]
        for key, (default, help_) in DEFAULT_SETTINGS.items():
            val = toml_string(default) if isinstance(default, str) else str(default)
            lines.append(f"{key} = {val}  # {help_}")
        from kinhteso.safe_io import write_text_atomic  # noqa: PLC0415

        write_text_atomic(cfg, "\n".join(lines) + "\n")
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
        except (OSError, UnicodeDecodeError) as exc:
            raise WorkspaceError(
                "BAD_CONFIG", f"Không đọc được tệp {cfg}: {exc}", f"Cannot read {cfg}: {exc}", path=str(cfg)
            ) from exc
        merged = {k: v for k, (v, _) in DEFAULT_SETTINGS.items()} | settings
        check_settings(merged, cfg)
        _check_path(root / str(merged["store"]))
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
