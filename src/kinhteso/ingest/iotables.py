"""Readers of input-output tables: four CSV files, Eurostat ``naio_10_cp1700``, one wide sheet.

Every reader returns an :class:`IOTable` (codes as text, Z, x, optional y, named factors) or
raises :class:`~kinhteso.errors.InputRejected` listing every problem found (file, row, column,
rule code, Vietnamese and English message); nothing is half-read.

Layouts
-------
Four files (``read_four_files``)
    ``Z.csv``: square; first column ``code``, header = the same codes; one row per product.
    ``x.csv`` and each vector (final demand, factor): two columns ``code,value``.
    Codes are text: ``01`` stays ``01`` and ``06-07`` is a code, not a number or a range.
Eurostat long (``read_eurostat_long``)
    The ``naio_10_cp1700`` symmetric table in long form: ``prod_na`` (row), ``induse``
    (column), ``values`` (or ``OBS_VALUE``/``value``), optionally ``geo``, ``time``
    (``TIME_PERIOD``), ``unit``. Products are the ``CPA_*`` codes present both as rows and as
    columns (``CPA_TOTAL`` excluded); output is row ``P1``; every other row complete over the
    products (``D1``, ``B1G``, ``EMP``…) becomes a factor.
Wide (``read_wide``)
    One sheet (CSV or XLSX): first column row labels, header = column codes. Products are the
    columns whose code is also a row label (or the row label is ``CPA_`` + code), totals
    (``TOTAL``, ``CPA_TOTAL``, ``Total …``) excluded; output is the
    named total row (``Total output``, ``output_bp``, ``P1``… or ``output_row=``); every other
    complete row (``Compensation of employees``…) becomes a factor.

In the long and wide layouts final demand is derived as y = x − Z·1.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kinhteso.errors import InputRejected, Problem

__all__ = [
    "IOTable",
    "OUTPUT_ROW_NAMES",
    "read_concordance",
    "read_eurostat_long",
    "read_flows",
    "read_four_files",
    "read_vector",
    "read_wide",
]

#: Names of the total-output row tried in order by :func:`read_wide`.
OUTPUT_ROW_NAMES: tuple[str, ...] = ("Total output", "output_bp", "P1", "Output", "output", "Total Output")

_EUROSTAT_VALUE_COLUMNS = ("values", "OBS_VALUE", "value")
_EUROSTAT_SLICE_COLUMNS = (("geo", "geo"), ("time", "time"), ("TIME_PERIOD", "time"), ("unit", "unit"))


@dataclass(frozen=True)
class IOTable:
    """A symmetric input-output table: products ``codes``, flows ``Z``, output ``x``."""

    codes: tuple[str, ...]
    Z: np.ndarray
    x: np.ndarray
    y: np.ndarray | None = None
    factors: dict[str, np.ndarray] = field(default_factory=dict)
    source: str = ""

    def __repr__(self) -> str:
        return f"<IOTable {len(self.codes)} products, {len(self.factors)} factors from {self.source!r}>"


# --------------------------------------------------------------------------- helpers


def _problem(code: str, vi: str, en: str, *, file: str, row: int | None = None, column: str = "") -> Problem:
    return Problem(code=code, vi=vi, en=en, file=file, row=row, column=column)


def _read_csv_text(path: Path) -> pd.DataFrame:
    """Every cell as text (codes keep their leading zeros); a missing/unreadable file is rejected."""
    name = str(path)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputRejected(
            [_problem("IO_FILE", f"Không tìm thấy tệp {name}.", f"File {name} not found.", file=name)], file=name
        ) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise InputRejected(
            [
                _problem(
                    "IO_UNREADABLE",
                    f"Không đọc được tệp CSV (UTF-8, có dòng tiêu đề): {exc}.",
                    f"Cannot read the CSV file (UTF-8 with a header row): {exc}.",
                    file=name,
                )
            ],
            file=name,
        ) from exc


def _read_sheet_text(path: Path, sheet: str | int | None) -> pd.DataFrame:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        name = str(path)
        try:
            return pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=str, keep_default_na=False)
        except (FileNotFoundError, ValueError, KeyError, OSError) as exc:
            raise InputRejected(
                [
                    _problem(
                        "IO_UNREADABLE",
                        f"Không đọc được trang tính của tệp XLSX: {exc}.",
                        f"Cannot read the XLSX sheet: {exc}.",
                        file=name,
                    )
                ],
                file=name,
            ) from exc
    return _read_csv_text(path)


def _number(cell: str, problems: list[Problem], *, file: str, row: int, column: str) -> float:
    """Parse one cell as a number (dot decimal); record a problem and return NaN otherwise."""
    text = str(cell).strip()
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value):
        shown = text if text else "(trống/empty)"
        problems.append(
            _problem(
                "IO_NOT_NUMBER",
                f"Ô '{shown}' không phải là số; cần một số (dấu chấm thập phân, không để trống).",
                f"Cell '{shown}' is not a number; expected a number (dot decimal, not empty).",
                file=file,
                row=row,
                column=column,
            )
        )
    return value


def _numbers(text: np.ndarray, problems: list[Problem], *, file: str, columns: Sequence[str]) -> np.ndarray:
    """Parse a block of cells at once; only the cells that fail are visited one by one."""
    flat = pd.to_numeric(pd.Series(np.char.strip(text.reshape(-1))), errors="coerce").to_numpy(dtype=float)
    out = flat.reshape(text.shape)
    for i, j in zip(*np.nonzero(~np.isfinite(out))):
        _number(text[i, j], problems, file=file, row=int(i) + 2, column=columns[j])
    return out


def _duplicates(codes: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    dup: list[str] = []
    for c in codes:
        if c in seen and c not in dup:
            dup.append(c)
        seen.add(c)
    return dup


def _set_problems(
    expected: Sequence[str], got: Sequence[str], *, file: str, what: str | tuple[str, str]
) -> list[Problem]:
    what_vi, what_en = (what, what) if isinstance(what, str) else what
    missing = [c for c in expected if c not in set(got)]
    extra = [c for c in got if c not in set(expected)]
    out = []
    if missing:
        out.append(
            _problem(
                "IO_CODE_MISMATCH",
                f"{what_vi}: thiếu mã sản phẩm có trong Z: {missing[:20]}.",
                f"{what_en}: product codes of Z are missing: {missing[:20]}.",
                file=file,
            )
        )
    if extra:
        out.append(
            _problem(
                "IO_CODE_MISMATCH",
                f"{what_vi}: có mã sản phẩm không có trong Z: {extra[:20]}.",
                f"{what_en}: product codes not in Z: {extra[:20]}.",
                file=file,
            )
        )
    return out


# --------------------------------------------------------------------------- four files


def read_flows(path: str | Path) -> tuple[tuple[str, ...], np.ndarray, list[Problem]]:
    """Read ``Z.csv``: codes (text), the square matrix in row order, and the problems found."""
    path = Path(path)
    name = str(path)
    df = _read_csv_text(path)
    problems: list[Problem] = []
    if df.shape[1] < 2:
        problems.append(
            _problem(
                "IO_COLUMNS",
                "Z.csv cần cột đầu 'code' và một cột cho mỗi mã sản phẩm.",
                "Z.csv needs a first column 'code' and one column per product code.",
                file=name,
            )
        )
        return (), np.zeros((0, 0)), problems
    rows = [str(c).strip() for c in df.iloc[:, 0]]
    cols = [str(c).strip() for c in df.columns[1:]]
    for dup, where in ((_duplicates(rows), "dòng/rows"), (_duplicates(cols), "cột/columns")):
        if dup:
            problems.append(
                _problem(
                    "IO_DUPLICATE_CODE",
                    f"Mã sản phẩm bị trùng ở {where}: {dup[:20]}.",
                    f"Duplicate product codes in {where}: {dup[:20]}.",
                    file=name,
                )
            )
    if len(rows) != len(cols):
        problems.append(
            _problem(
                "IO_NOT_SQUARE",
                f"Z phải vuông: {len(rows)} dòng nhưng {len(cols)} cột mã sản phẩm.",
                f"Z must be square: {len(rows)} rows but {len(cols)} product-code columns.",
                file=name,
            )
        )
    elif set(rows) != set(cols):
        problems.extend(_set_problems(rows, cols, file=name, what=("Z, tiêu đề cột", "Z, column header")))
    if problems:
        return tuple(rows), np.zeros((0, 0)), problems
    order = [cols.index(c) for c in rows]  # columns in the order of the rows
    text = df.iloc[:, 1:].to_numpy(dtype=str)[:, order]
    Z = _numbers(text, problems, file=name, columns=[cols[j] for j in order])
    return tuple(rows), Z, problems


def read_vector(path: str | Path) -> tuple[dict[str, float], list[Problem]]:
    """Read a ``code,value`` file: code → value (codes as text) and the problems found."""
    path = Path(path)
    name = str(path)
    df = _read_csv_text(path)
    problems: list[Problem] = []
    if list(df.columns[:2]) != ["code", "value"] or df.shape[1] != 2:
        problems.append(
            _problem(
                "IO_COLUMNS",
                f"Tệp véc-tơ cần đúng hai cột 'code,value'; có {list(df.columns)}.",
                f"A vector file needs exactly the columns 'code,value'; found {list(df.columns)}.",
                file=name,
            )
        )
        return {}, problems
    codes = [str(c).strip() for c in df["code"]]
    dup = _duplicates(codes)
    if dup:
        problems.append(
            _problem(
                "IO_DUPLICATE_CODE",
                f"Mã sản phẩm bị trùng: {dup[:20]}.",
                f"Duplicate product codes: {dup[:20]}.",
                file=name,
            )
        )
    out = {c: _number(v, problems, file=name, row=i + 2, column="value") for i, (c, v) in enumerate(zip(codes, df["value"]))}
    return out, problems


def _aligned(
    codes: Sequence[str],
    vec: dict[str, float],
    problems: list[Problem],
    *,
    file: str,
    what: str | tuple[str, str],
) -> np.ndarray:
    found = _set_problems(codes, list(vec), file=file, what=what)
    problems.extend(found)
    return np.array([vec.get(c, np.nan) for c in codes], dtype=float)


def read_four_files(
    Z: str | Path,
    x: str | Path,
    *,
    y: str | Path | None = None,
    factors: Mapping[str, str | Path] | None = None,
) -> IOTable:
    """Read ``Z.csv``, ``x.csv`` and optional final demand and factor vectors; check them together.

    Rejected whole (InputRejected) when Z is not square, its row and column codes differ, a
    vector's code set differs from Z's, a cell is not a number, or an output is negative.
    """
    problems: list[Problem] = []
    codes, Zm, p = read_flows(Z)
    problems += p
    xv, p = read_vector(x)
    problems += p
    x_arr = _aligned(codes, xv, problems, file=str(x), what="x") if codes else np.zeros(0)
    xfile = str(x)
    for i, c in enumerate(codes):
        if c in xv and xv[c] < 0:
            row = list(xv).index(c) + 2
            problems.append(
                _problem(
                    "IO_NEGATIVE_OUTPUT",
                    f"Tổng đầu ra của '{c}' âm ({xv[c]}); đầu ra phải ≥ 0.",
                    f"Total output of '{c}' is negative ({xv[c]}); output must be ≥ 0.",
                    file=xfile,
                    row=row,
                    column="value",
                )
            )
    y_arr = None
    if y is not None:
        yv, p = read_vector(y)
        problems += p
        y_arr = _aligned(codes, yv, problems, file=str(y), what="y") if codes else None
    fac: dict[str, np.ndarray] = {}
    for fname, fpath in (factors or {}).items():
        fv, p = read_vector(fpath)
        problems += p
        if codes:
            fac[fname] = _aligned(codes, fv, problems, file=str(fpath), what=(f"nhân tố {fname}", f"factor {fname}"))
    if problems:
        raise InputRejected(problems, file=problems[0].file)
    return IOTable(codes=tuple(codes), Z=Zm, x=x_arr, y=y_arr, factors=fac, source=str(Z))


# --------------------------------------------------------------------------- Eurostat long


def read_eurostat_long(
    path: str | Path,
    *,
    geo: str | None = None,
    time: str | None = None,
    unit: str | None = None,
) -> IOTable:
    """Read a Eurostat ``naio_10_cp1700`` table in long form (one slice of geo, time, unit)."""
    path = Path(path)
    name = str(path)
    df = _read_csv_text(path)
    problems: list[Problem] = []
    value_col = next((c for c in _EUROSTAT_VALUE_COLUMNS if c in df.columns), None)
    if "prod_na" not in df.columns or "induse" not in df.columns or value_col is None:
        raise InputRejected(
            [
                _problem(
                    "IO_COLUMNS",
                    f"Bảng dạng dài Eurostat cần các cột prod_na, induse, values; có {list(df.columns)}.",
                    f"A Eurostat long table needs columns prod_na, induse, values; found {list(df.columns)}.",
                    file=name,
                )
            ],
            file=name,
        )
    df = df.assign(_line=np.arange(len(df)) + 2)
    wanted = {"geo": geo, "time": time, "unit": unit}
    for col, key in _EUROSTAT_SLICE_COLUMNS:
        if col not in df.columns:
            continue
        if wanted[key] is not None:
            df = df[df[col] == wanted[key]]
        elif df[col].nunique() > 1:
            problems.append(
                _problem(
                    "IO_SLICE",
                    f"Tệp có nhiều giá trị {col}: {sorted(df[col].unique())[:10]}; chọn một ({key}=…).",
                    f"The file holds several {col} values: {sorted(df[col].unique())[:10]}; choose one ({key}=…).",
                    file=name,
                    column=col,
                )
            )
    if problems:
        raise InputRejected(problems, file=name)
    rows = list(dict.fromkeys(c for c in df["prod_na"] if c.startswith("CPA_") and c != "CPA_TOTAL"))
    cols = set(df["induse"])
    codes = [c for c in rows if c in cols]
    if not codes:
        raise InputRejected(
            [
                _problem(
                    "IO_NO_PRODUCTS",
                    "Không có mã sản phẩm CPA_* nào xuất hiện ở cả prod_na và induse.",
                    "No CPA_* product code appears both in prod_na and in induse.",
                    file=name,
                )
            ],
            file=name,
        )
    code_set = set(codes)
    cells = {
        (r, c): (v, line)
        for r, c, v, line in zip(df["prod_na"], df["induse"], df[value_col], df["_line"])
        if c in code_set
    }

    def row_of(label: str, *, required: bool) -> np.ndarray | None:
        if not required and not all((label, c) in cells and str(cells[(label, c)][0]).strip() for c in codes):
            return None
        out = np.empty(len(codes))
        for k, c in enumerate(codes):
            if (label, c) not in cells:
                problems.append(
                    _problem(
                        "IO_MISSING_CELL",
                        f"Thiếu ô prod_na={label}, induse={c}.",
                        f"Missing cell prod_na={label}, induse={c}.",
                        file=name,
                    )
                )
                out[k] = np.nan
                continue
            text, line = cells[(label, c)]
            out[k] = _number(text, problems, file=name, row=int(line), column=value_col)
        return out

    Z = np.vstack([row_of(r, required=True) for r in codes])
    x = row_of("P1", required=True)
    factors = {}
    for label in dict.fromkeys(df["prod_na"]):
        if label in codes or label == "P1" or _is_total(label):
            continue
        vec = row_of(label, required=False)
        if vec is not None:
            factors[label] = vec
    _check_output_rows(codes, x, problems, file=name)
    if problems:
        raise InputRejected(problems, file=name)
    return IOTable(codes=tuple(codes), Z=Z, x=x, y=x - Z.sum(axis=1), factors=factors, source=name)


def _check_output_rows(codes: Sequence[str], x: np.ndarray, problems: list[Problem], *, file: str) -> None:
    for c, v in zip(codes, x):
        if np.isfinite(v) and v < 0:
            problems.append(
                _problem(
                    "IO_NEGATIVE_OUTPUT",
                    f"Tổng đầu ra của '{c}' âm ({v}); đầu ra phải ≥ 0.",
                    f"Total output of '{c}' is negative ({v}); output must be ≥ 0.",
                    file=file,
                    column=c,
                )
            )


# --------------------------------------------------------------------------- wide sheet


def _is_total(code: str) -> bool:
    """Total rows/columns (``TOTAL``, ``CPA_TOTAL``, ``Total …``) are never products."""
    low = code.lower()
    return low.startswith("total") or low in ("cpa_total", "tot")


def read_wide(
    path: str | Path,
    *,
    output_row: str | None = None,
    sheet: str | int | None = None,
) -> IOTable:
    """Read one wide sheet (CSV or XLSX) whose rows include a named total-output row.

    Products: the header codes that are also row labels (or whose row label is ``CPA_`` +
    code), in header order; codes starting with ``total`` (any case) and ``CPA_TOTAL`` are
    totals, not products. In an XLSX file codes must be stored as text so that ``01`` keeps
    its zero.
    """
    path = Path(path)
    name = str(path)
    df = _read_sheet_text(path, sheet)
    problems: list[Problem] = []
    labels = [str(v).strip() for v in df.iloc[:, 0]]
    header = [str(c).strip() for c in df.columns[1:]]
    line_of = {lab: i + 2 for i, lab in enumerate(labels)}
    row_for: dict[str, str] = {}
    for c in header:
        if _is_total(c):
            continue
        if c in line_of:
            row_for[c] = c
        elif f"CPA_{c}" in line_of:
            row_for[c] = f"CPA_{c}"
    codes = [c for c in header if c in row_for]
    if not codes:
        raise InputRejected(
            [
                _problem(
                    "IO_NO_PRODUCTS",
                    "Không có mã nào vừa ở tiêu đề cột vừa ở cột nhãn dòng đầu tiên.",
                    "No code appears both in the column header and among the row labels of the first column.",
                    file=name,
                )
            ],
            file=name,
        )
    dup = _duplicates(labels)
    if any(d in row_for.values() for d in dup):
        problems.append(
            _problem(
                "IO_DUPLICATE_CODE",
                f"Nhãn dòng bị trùng: {dup[:20]}.",
                f"Duplicate row labels: {dup[:20]}.",
                file=name,
            )
        )
    candidates = (output_row,) if output_row else OUTPUT_ROW_NAMES
    out_label = next((c for c in candidates if c in line_of), None)
    if out_label is None:
        problems.append(
            _problem(
                "IO_NO_OUTPUT_ROW",
                f"Không thấy dòng tổng đầu ra ({', '.join(candidates)}); đặt tên dòng bằng output_row.",
                f"No total-output row ({', '.join(candidates)}) found; name it with output_row.",
                file=name,
            )
        )
    if problems:
        raise InputRejected(problems, file=name)
    col_pos = {c: k + 1 for k, c in enumerate(header)}
    values = df.to_numpy()

    def row_numbers(label: str, into: list[Problem]) -> np.ndarray:
        i = line_of[label] - 2
        return np.array([_number(values[i, col_pos[c]], into, file=name, row=i + 2, column=c) for c in codes])

    Z = np.vstack([row_numbers(row_for[c], problems) for c in codes])
    x = row_numbers(out_label, problems)
    _check_output_rows(codes, x, problems, file=name)
    factors: dict[str, np.ndarray] = {}
    product_rows = set(row_for.values())
    for label in labels:
        if label in product_rows or label == out_label or not label or _is_total(label):
            continue
        trial: list[Problem] = []
        vec = row_numbers(label, trial)
        if not trial:
            factors[label] = vec
    if problems:
        raise InputRejected(problems, file=name)
    return IOTable(codes=tuple(codes), Z=Z, x=x, y=x - Z.sum(axis=1), factors=factors, source=name)


# --------------------------------------------------------------------------- concordance

_CLASS = re.compile(r"^([A-U]|\d{2,5})$")


def read_concordance(path: str | Path, *, codes: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a concordance ``code,vsic`` (text) from a table's product codes to VSIC 2018.

    One row per pair; a product may map to several VSIC codes (one row each). ``vsic`` is a
    section letter (``J``) or a 2–5 digit code (``61``, ``6201``). With ``codes``, every
    concordance code must be one of the table's products.
    """
    path = Path(path)
    name = str(path)
    df = _read_csv_text(path)
    problems: list[Problem] = []
    if list(df.columns[:2]) != ["code", "vsic"]:
        raise InputRejected(
            [
                _problem(
                    "IO_COLUMNS",
                    f"Bảng chuyển đổi cần hai cột đầu 'code,vsic'; có {list(df.columns)}.",
                    f"A concordance needs the first columns 'code,vsic'; found {list(df.columns)}.",
                    file=name,
                )
            ],
            file=name,
        )
    df = df.assign(code=df["code"].str.strip(), vsic=df["vsic"].str.strip())
    known = set(codes) if codes is not None else None
    for i, (c, v) in enumerate(zip(df["code"], df["vsic"])):
        if not _CLASS.match(v):
            problems.append(
                _problem(
                    "IO_VSIC_CODE",
                    f"Mã VSIC '{v}' không hợp lệ; cần chữ cái ngành cấp 1 (A–U) hoặc 2–5 chữ số.",
                    f"VSIC code '{v}' is not valid; expected a section letter (A–U) or 2–5 digits.",
                    file=name,
                    row=i + 2,
                    column="vsic",
                )
            )
        if known is not None and c not in known:
            problems.append(
                _problem(
                    "IO_CODE_MISMATCH",
                    f"Mã sản phẩm '{c}' không có trong bảng vào-ra.",
                    f"Product code '{c}' is not in the input-output table.",
                    file=name,
                    row=i + 2,
                    column="code",
                )
            )
    if problems:
        raise InputRejected(problems, file=name)
    return df[["code", "vsic"]].drop_duplicates().reset_index(drop=True)
