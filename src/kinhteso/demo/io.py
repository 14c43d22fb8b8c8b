"""An ILLUSTRATIVE 20-industry input-output table of Viet Nam for the demo workspace.

NOTHING HERE IS AN OFFICIAL STATISTIC. The table is generated, deterministically, around the
demo's national value added by VSIC division for 2022 (:mod:`kinhteso.demo.data`):
each industry's value added is the sum of its divisions' demo value added; its output is value
added divided by a stylised value-added ratio; its intermediate consumption (IC = output − value
added; net taxes on products are not separated) is split into imported intermediates (a
stylised import share, 80 % for electronics) and domestic flows Z, which are spread over the
supplying industries by a stylised digital-input share and input structure (a domestic-flow
table: imported and domestic inputs are assumed to have the same product mix). Final demand
for domestic output, exports included, is y = x − Z·1 and is kept ≥ 10 % of output.

The digital products are electronics (``C26``, VSIC 26, which holds ADB's ISIC 2620 and 2680),
telecommunications (``J61``) and programming and information services (``J62-63``, holding 62,
6311 and 6312); software publishing (5820) sits in ``J58-60`` with films and broadcasting and
is left out.

:func:`demo_io_table` builds the table and its concordance to VSIC divisions;
:func:`write_demo_io` writes the four-file layout (``Z.csv``, ``x.csv``, ``y.csv``,
``gva.csv``, ``imports.csv``), ``concordance.csv`` and a README stating that the numbers are
illustrative. The demo's step :func:`kinhteso.demo.summaries.io_summary` (in
:data:`kinhteso.demo.build.CAPABILITIES`) writes them into ``WORKSPACE/demo_inputs/io/``,
prints the ADB (2021) value-flow estimate term by term and the IO-based ``DIGITAL_COEF`` per
industry, and stores those coefficients (illustrative, source ``kinhteso:io``).

The concordance (:data:`CONCORDANCE`) maps the digital industries to their divisions (``C26``
→ 26, ``J61`` → 61, ``J62-63`` → 62 and 63) and the others to sections, so the demo shows both
aggregation rules: ``C10-12``, ``C13-15`` and ``C-other`` → ``C`` (several industries, one
code: the IC-weighted mean) and ``M-N`` → ``M`` and ``N`` (one industry, several codes). The
coefficients written for VN 2022 become the latest values of their keys when they are written
(the demo prints any earlier value they supersede; an ``as of`` read still finds it); a later
writer of the same keys (the accounts' calibration) supersedes them in turn, and the accounts
select them explicitly by their source, ``kinhteso:io``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from kinhteso.i18n import DEMO_LABEL, current_lang
from kinhteso.ingest.iotables import IOTable
from kinhteso.reference import vsic

__all__ = ["CONCORDANCE", "DEMO_IO_YEAR", "DEMO_DIGITAL", "DemoIO", "INDUSTRIES", "demo_io_table",
           "industry_divisions", "write_demo_io"]

DEMO_IO_YEAR = "2022"
#: The digital products of the demo table (its own codes).
DEMO_DIGITAL: tuple[str, ...] = ("C26", "J61", "J62-63")


@dataclass(frozen=True)
class _Industry:
    code: str
    name_vi: str
    name_en: str
    divisions: tuple[str, ...]  # its VSIC divisions: 2 digits, a section letter (all of it), "C-other"
    import_share: float         # imported intermediates / intermediate consumption (stylised)
    va_ratio: float             # value added / output (stylised)
    digital_share: float        # digital products / intermediate consumption (stylised)
    kind: str                   # "goods", "services", or a digital industry's own code


#: The 20 industries: code, names, VSIC divisions (a letter = every division of the section),
#: import share of IC, value-added ratio and digital share of IC (stylised, illustrative).
INDUSTRIES: tuple[_Industry, ...] = (
    _Industry("A", "Nông, lâm nghiệp và thủy sản", "Agriculture, forestry, fishing", ("A",), 0.10, 0.55, 0.004, "goods"),
    _Industry("B", "Khai khoáng", "Mining and quarrying", ("B",), 0.10, 0.60, 0.010, "goods"),
    _Industry("C10-12", "Thực phẩm, đồ uống, thuốc lá", "Food, beverages, tobacco", ("10", "11", "12"), 0.25, 0.22, 0.010, "goods"),
    _Industry("C13-15", "Dệt, may, da giày", "Textiles, apparel, leather", ("13", "14", "15"), 0.60, 0.20, 0.012, "goods"),
    _Industry("C26", "Sản phẩm điện tử, máy vi tính", "Computer, electronic, optical products", ("26",), 0.80, 0.12, 0.350, "C26"),
    _Industry("C-other", "Công nghiệp chế biến khác", "Other manufacturing", ("C-other",), 0.45, 0.20, 0.030, "goods"),
    _Industry("D", "Điện, khí đốt", "Electricity, gas", ("D",), 0.20, 0.35, 0.030, "goods"),
    _Industry("E", "Cấp nước, xử lý rác thải", "Water supply, waste", ("E",), 0.10, 0.40, 0.020, "services"),
    _Industry("F", "Xây dựng", "Construction", ("F",), 0.25, 0.30, 0.015, "goods"),
    _Industry("G", "Bán buôn, bán lẻ", "Wholesale and retail trade", ("G",), 0.10, 0.60, 0.050, "services"),
    _Industry("H", "Vận tải, kho bãi", "Transport and storage", ("H",), 0.20, 0.40, 0.030, "services"),
    _Industry("I", "Lưu trú và ăn uống", "Accommodation and food services", ("I",), 0.10, 0.40, 0.020, "services"),
    _Industry("J58-60", "Xuất bản, điện ảnh, phát thanh", "Publishing, film, broadcasting", ("58", "59", "60"), 0.15, 0.50, 0.120, "services"),
    _Industry("J61", "Viễn thông", "Telecommunications", ("61",), 0.25, 0.50, 0.200, "J61"),
    _Industry("J62-63", "Lập trình, dịch vụ thông tin", "Programming, information services", ("62", "63"), 0.20, 0.55, 0.250, "J62-63"),
    _Industry("K", "Tài chính, ngân hàng, bảo hiểm", "Finance and insurance", ("K",), 0.05, 0.65, 0.120, "services"),
    _Industry("L", "Kinh doanh bất động sản", "Real estate", ("L",), 0.05, 0.75, 0.030, "services"),
    _Industry("M-N", "Chuyên môn, khoa học; hành chính, hỗ trợ", "Professional, scientific; administrative", ("M", "N"), 0.15, 0.50, 0.080, "services"),
    _Industry("O-P-Q", "Quản lý nhà nước, giáo dục, y tế", "Public administration, education, health", ("O", "P", "Q"), 0.15, 0.60, 0.050, "services"),
    _Industry("R-S-T", "Nghệ thuật, dịch vụ khác, hộ gia đình", "Arts, other services, households", ("R", "S", "T"), 0.10, 0.60, 0.040, "services"),
)
#: The concordance of the table's codes to VSIC (industries not listed map to their own code,
#: a section letter).
CONCORDANCE: dict[str, tuple[str, ...]] = {
    "C10-12": ("C",), "C13-15": ("C",), "C26": ("26",), "C-other": ("C",), "J58-60": ("J",), "J61": ("61",),
    "J62-63": ("62", "63"), "M-N": ("M", "N"), "O-P-Q": ("O", "P", "Q"), "R-S-T": ("R", "S", "T"),
}
#: How each kind of buyer splits its digital inputs among C26, J61, J62-63.
_DIGITAL_SPLIT = {
    "goods": (0.60, 0.20, 0.20),
    "services": (0.20, 0.45, 0.35),
    "C26": (0.90, 0.05, 0.05),
    "J61": (0.40, 0.40, 0.20),
    "J62-63": (0.20, 0.30, 0.50),
}
#: Stylised affinities (supplier, buyer) → multiplier of the supplier's weight in the buyer's
#: non-digital inputs; every supplier also sells more to itself (×3).
_AFFINITY = {
    ("A", "C10-12"): 8.0, ("A", "I"): 3.0, ("C10-12", "I"): 5.0, ("C10-12", "A"): 1.5, ("C-other", "A"): 2.0,
    ("C-other", "C13-15"): 1.5, ("B", "C-other"): 3.0, ("B", "D"): 6.0, ("C-other", "F"): 4.0,
    ("C-other", "H"): 2.5, ("H", "G"): 2.0, ("L", "G"): 2.0, ("L", "K"): 1.5, ("M-N", "K"): 2.0,
    ("C-other", "O-P-Q"): 1.5, ("M-N", "O-P-Q"): 1.5, ("D", "C-other"): 1.5, ("H", "C-other"): 1.5,
}
_SELF = 3.0
_MIN_FINAL_SHARE = 0.10  # final demand kept ≥ 10 % of output


@dataclass(frozen=True)
class DemoIO:
    """The illustrative table, its concordance to VSIC, digital products and names."""

    table: IOTable
    concordance: pd.DataFrame
    digital: tuple[str, ...]
    year: str
    names: dict[str, str]

    def files(self) -> dict[str, str]:
        """File name → text of the four-file layout, the concordance and the README."""
        codes = list(self.table.codes)
        z = pd.DataFrame(self.table.Z, columns=codes)
        z.insert(0, "code", codes)

        def vec(v: np.ndarray) -> str:
            return pd.DataFrame({"code": codes, "value": v}).to_csv(index=False, float_format="%.3f")

        return {
            "Z.csv": z.to_csv(index=False, float_format="%.3f"),
            "x.csv": vec(self.table.x),
            "y.csv": vec(self.table.y),
            "gva.csv": vec(self.table.factors["gva"]),
            "imports.csv": vec(self.table.factors["imports"]),
            "concordance.csv": self.concordance.to_csv(index=False),
            "README.md": _readme(self),
        }


def _divisions_of(selector: str) -> list[str]:
    """VSIC divisions of a section letter, ``26``-style division, or ``C-other`` (C without 10–15, 26)."""
    divs = [s.code for s in vsic.sectors() if s.level == "division"]
    if selector == "C-other":
        taken = {"10", "11", "12", "13", "14", "15", "26"}
        return [d for d in divs if vsic.section_of(d) == "C" and d not in taken]
    if selector.isalpha():
        return [d for d in divs if vsic.section_of(d) == selector]
    return [selector]


def industry_divisions(code: str) -> list[str]:
    """The VSIC divisions whose demo value added makes up industry ``code``."""
    ind = next(i for i in INDUSTRIES if i.code == code)
    return [d for sel in ind.divisions for d in _divisions_of(sel)]


def _concordance() -> pd.DataFrame:
    rows = [(ind.code, v) for ind in INDUSTRIES for v in CONCORDANCE.get(ind.code, (ind.code,))]
    return pd.DataFrame(rows, columns=["code", "vsic"])


@lru_cache(maxsize=1)
def _generated_value_added() -> tuple[tuple[str, float], ...]:
    from kinhteso.demo import data as demo_data  # noqa: PLC0415  (slow: only when no VA is given)

    f = demo_data.generate()["grdp_va_annual_vn"]
    f = f[f.period == DEMO_IO_YEAR]
    return tuple(zip(f.sector.astype(str), f.value.astype(float)))


def demo_io_table(value_added: Mapping[str, float] | None = None) -> DemoIO:
    """Build the illustrative 20-industry table of Viet Nam, 2022 (deterministic).

    ``value_added``: the demo's national value added by VSIC division for 2022 (billion
    đồng); by default regenerated from :func:`kinhteso.demo.data.generate`.
    Flows are rounded to 0.001 billion đồng, as written to the files.
    """
    va_div = dict(value_added) if value_added is not None else dict(_generated_value_added())
    conc = _concordance()
    codes = [ind.code for ind in INDUSTRIES]
    va = np.array([sum(va_div.get(d, 0.0) for d in industry_divisions(c)) for c in codes])
    ratio = np.array([ind.va_ratio for ind in INDUSTRIES])
    x = va / ratio
    ic = x - va
    m = np.array([ind.import_share for ind in INDUSTRIES])
    dom = ic * (1 - m)  # domestic intermediate consumption: the column sums of Z
    n = len(codes)
    pos = {c: k for k, c in enumerate(codes)}
    dig_idx = [pos[c] for c in DEMO_DIGITAL]
    non_dig = np.array([c not in DEMO_DIGITAL for c in codes])
    aff = np.ones((n, n))
    for k in range(n):
        aff[k, k] = _SELF
    for (i, j), m in _AFFINITY.items():
        aff[pos[i], pos[j]] = m
    supply = x.copy()  # a supplier's weight: its output, cut back below when its row overflows
    for _ in range(50):
        Z = np.zeros((n, n))
        for j, ind in enumerate(INDUSTRIES):
            d = ind.digital_share * dom[j]
            Z[dig_idx, j] = d * np.array(_DIGITAL_SPLIT[ind.kind])
            w = supply * aff[:, j] * non_dig
            Z[:, j] += (dom[j] - d) * w / w.sum()
        y = x - Z.sum(axis=1)
        short = y < _MIN_FINAL_SHARE * x
        if not short.any():
            break
        supply[short] *= 0.8
    Z = np.round(Z, 3)
    x = np.round(x, 3)
    va = np.round(va, 3)
    imports = np.round(x - va - Z.sum(axis=0), 3)
    table = IOTable(codes=tuple(codes), Z=Z, x=x, y=np.round(x - Z.sum(axis=1), 3),
                    factors={"gva": va, "imports": imports},
                    source=f"demo_io:{DEMO_IO_YEAR}")
    names = {ind.code: (ind.name_vi if current_lang() == "vi" else ind.name_en) for ind in INDUSTRIES}
    return DemoIO(table=table, concordance=conc, digital=DEMO_DIGITAL, year=DEMO_IO_YEAR, names=names)


def _readme(demo: DemoIO) -> str:
    lines = [
        f"# {DEMO_LABEL['vi']}",
        f"# {DEMO_LABEL['en']}",
        "",
        f"Bảng vào-ra MINH HỌA của Việt Nam, năm {demo.year}, {len(demo.table.codes)} ngành, tỷ đồng, do "
        "`kinhteso demo` tạo ra (kinhteso.demo.io); KHÔNG phải bảng I-O của Tổng cục/Cục Thống kê.",
        f"ILLUSTRATIVE input-output table of Viet Nam, {demo.year}, {len(demo.table.codes)} industries, "
        "billion đồng, generated by `kinhteso demo` (kinhteso.demo.io); NOT the statistics office's "
        "input-output table.",
        "",
        "Files: Z.csv (domestic intermediate flows), x.csv (output), y.csv (final demand = x − Z·1),",
        "gva.csv (value added), imports.csv (imported intermediates; Z column + imports + gva = x),",
        "concordance.csv (code → VSIC 2018). Digital products: " + ", ".join(demo.digital) + ".",
        "",
        "Try: kinhteso io --Z Z.csv --x x.csv --y y.csv --factor gva=gva.csv --digital "
        + ",".join(demo.digital) + " --concordance concordance.csv --out out",
        "",
        "| code | VSIC (concordance) | VSIC divisions (value added) | ngành | industry |",
        "|---|---|---|---|---|",
    ]
    for ind in INDUSTRIES:
        conc = ",".join(demo.concordance.vsic[demo.concordance.code == ind.code])
        divs = ",".join(industry_divisions(ind.code))
        lines.append(f"| {ind.code} | {conc} | {divs} | {ind.name_vi} | {ind.name_en} |")
    return "\n".join(lines) + "\n"


def write_demo_io(directory: str | Path, demo: DemoIO) -> dict[str, Path]:
    """Write the demo table's files into ``directory`` (each via a temporary file, then renamed)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, text in demo.files().items():
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, directory / name)
        out[name] = directory / name
    return out

