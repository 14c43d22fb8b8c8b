"""Writing files that are safe to open and never half-written: the one path every output takes.

Two dangers, two rules:

- **Formula injection** (OWASP, "CSV Injection"): a spreadsheet runs a cell that begins with
  ``=``, ``+``, ``-`` or ``@`` (and, in some programs, a tab or a carriage return) as a formula.
  A source name, a file name, a header or a code in an agency's file could carry one into a
  report kinhteso writes. :func:`safe_cell` prefixes such a *text* cell with a single quote
  (``'=1+1``), as OWASP recommends; a spreadsheet then shows the text, and the quote tells the
  reader it was neutralised.
- **Half-written or redirected files**: every output is written to a new temporary file in the
  destination's folder and renamed over the destination (``os.replace``, atomic on one file
  system), so a reader sees the old file or the new one, never a part. A destination that is a
  symbolic link is refused (``UNSAFE_PATH``): a link planted in a shared drop folder (say
  ``FILE.problems.csv`` → someone's ``~/.bashrc``) must not make kinhteso overwrite its target.

**Text or number.** Numbers stay numbers: a cell is a *number* when its value has a numeric type
(``int``, ``float``, ``Decimal``, a numpy number; ``bool`` too), or when it is a string that is
a plain decimal number as a whole (``-1.5``, ``+3``, ``1e-05``, ``.5``; what pandas writes for
a float). Everything else is *text*, and text starting with ``= + - @ TAB CR`` is neutralised.
A negative number such as ``-1.5`` therefore stays ``-1.5`` (a spreadsheet reads it as the
number −1.5, which runs nothing), while ``-1+2`` or ``-cmd|' /C calc'!A0`` become
``'-1+2`` and ``'-cmd|' /C calc'!A0``. Missing values (``None``, NaN) are left as they are.

>>> safe_cell("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> safe_cell("-1.5"), safe_cell(-1.5), safe_cell("@SUM(A1)"), safe_cell("Hà Nội")
('-1.5', -1.5, "'@SUM(A1)", 'Hà Nội')
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinhteso.errors import KinhtesoError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FORMULA_PREFIXES",
    "safe_cell",
    "safe_frame",
    "check_destination",
    "write_text_atomic",
    "write_files_atomic",
    "csv_text",
    "write_csv_atomic",
    "write_rows_atomic",
    "save_workbook_atomic",
    "xlsx_cell",
]

#: The first characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` made safe to open in a spreadsheet: text starting with ``= + - @``, a tab or a
    carriage return gets a leading ``'``; numbers (and text that is a plain number) are kept."""
    if isinstance(value, str) and value[:1] in FORMULA_PREFIXES and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names pass through :func:`safe_cell`;
    numeric columns are untouched (they hold numbers only)."""
    import pandas as pd  # noqa: PLC0415

    columns = []
    for i in range(df.shape[1]):  # by position: two columns may share a name
        s = df.iloc[:, i]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s)):
            s = s.astype(object).map(safe_cell, na_action="ignore")
        columns.append(s)
    out = pd.concat(columns, axis=1, ignore_index=True) if columns else pd.DataFrame(index=df.index)
    out.columns = [safe_cell(c) if isinstance(c, str) else c for c in df.columns]
    return out


def _unsafe(path: Path) -> KinhtesoError:
    return KinhtesoError(
        "UNSAFE_PATH",
        f"Không ghi vào {path}: đó là một liên kết tượng trưng (symlink); kinhteso không ghi qua liên kết. "
        "Xóa liên kết hoặc chọn tệp khác.",
        f"Not writing to {path}: it is a symbolic link, and kinhteso never writes through a link. "
        "Remove the link or choose another file.",
        path=str(path),
    )


def check_destination(path: Path) -> Path:
    """``path`` if kinhteso may write there: refuses a symbolic link (``UNSAFE_PATH``) and a
    folder (``FILE_ERROR``)."""
    path = Path(path)
    if path.is_symlink():
        raise _unsafe(path)
    if path.is_dir():
        raise KinhtesoError(
            "FILE_ERROR", f"Lỗi tệp {path}: đây là một thư mục, cần một tên tệp.",
            f"File error {path}: it is a folder; a file name is needed.", path=str(path))
    return path


def _mode() -> int:
    """The mode of a new file under the process's umask (mkstemp's files are 0600)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def dir_mode() -> int:
    """The mode of a new folder under the process's umask (mkdtemp's folders are 0700)."""
    mode = _mode()
    return mode | ((mode & 0o444) >> 2)


def _temp_beside(path: Path, data: bytes) -> str:
    """Write ``data`` to a new temporary file in ``path``'s folder; return its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:60]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, _mode())
        except OSError:
            pass
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return tmp


def write_files_atomic(outputs: Sequence[tuple[Path, bytes | str]], *, encoding: str = "utf-8") -> list[Path]:
    """Write every ``(path, content)`` to a temporary sibling, then rename them all into place.

    Nothing is renamed unless every file was written; a destination that is a symbolic link or
    a folder is refused before anything is written. Missing folders are created.
    """
    targets = [check_destination(Path(p)) for p, _ in outputs]
    temps: list[tuple[str, Path]] = []
    try:
        for path, (_, content) in zip(targets, outputs):
            data = content.encode(encoding) if isinstance(content, str) else content
            temps.append((_temp_beside(path, data), path))
        for tmp, path in temps:
            check_destination(path)  # a link planted while we wrote is refused too
            os.replace(tmp, path)  # replaces a name, never writes through a link
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return targets


def write_text_atomic(path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`write_files_atomic`)."""
    return write_files_atomic([(path, text)], encoding=encoding)[0]


def csv_text(df: pd.DataFrame, **to_csv: Any) -> str:
    """``df`` as CSV text with its text cells neutralised (:func:`safe_frame`), no index."""
    to_csv.setdefault("index", False)
    return safe_frame(df).to_csv(**to_csv)


def write_csv_atomic(path: Path, df: pd.DataFrame, *, bom: bool = False, **to_csv: Any) -> Path:
    """Write ``df`` as a CSV safe to open (:func:`safe_frame`), atomically; ``bom=True`` starts
    it with a UTF-8 byte-order mark so that Excel reads it as UTF-8."""
    return write_text_atomic(path, csv_text(df, **to_csv), encoding="utf-8-sig" if bom else "utf-8")


def write_rows_atomic(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = False) -> Path:
    """Write ``header`` and ``rows`` as a CSV safe to open, atomically (no pandas needed)."""
    import csv  # noqa: PLC0415
    import io  # noqa: PLC0415

    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([safe_cell(h) for h in header])
    for row in rows:
        w.writerow([safe_cell(v) for v in row])
    return write_text_atomic(path, buf.getvalue(), encoding="utf-8-sig" if bom else "utf-8")


def xlsx_cell(v: Any) -> Any:
    """A value as an openpyxl cell: numbers stay numbers (numpy scalars as Python ones), missing
    values empty, timestamps without their zone, lists and dicts as JSON, text made safe
    (:func:`safe_cell`)."""
    import json  # noqa: PLC0415
    import math  # noqa: PLC0415

    import pandas as pd  # noqa: PLC0415

    if v is None or (not isinstance(v, (str, dict, list, tuple)) and pd.isna(v)):
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (bool, int, float)):
        return v
    if hasattr(v, "isoformat"):
        try:
            return v.replace(tzinfo=None) if getattr(v, "tzinfo", None) else v
        except TypeError:
            return v.isoformat()
    if isinstance(v, (dict, list, tuple)):
        return safe_cell(json.dumps(v, ensure_ascii=False, default=_json_text))
    return safe_cell(str(v))


def _json_text(o: Any) -> Any:
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def save_workbook_atomic(wb: Any, path: Path) -> Path:
    """Save an openpyxl workbook atomically (temporary sibling, then rename); its cells should
    have gone through :func:`safe_cell` (openpyxl reads a text starting with ``=`` as a formula)."""
    path = check_destination(Path(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:60]}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        try:
            os.chmod(tmp, _mode())
        except OSError:
            pass
        check_destination(path)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
