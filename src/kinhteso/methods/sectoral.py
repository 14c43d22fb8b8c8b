"""Within-sector digital shares (``DE_SHARE_SECTOR``) and digital-economy employment
(``DE_LABOUR_SHARE``): issue 14, item 7; formulas in docs/methodology.md.

- **Within-sector share**: for each VSIC section s, DE_VA_s / VA_s × 100, where DE_VA_s is the
  digital value added the accounts (:func:`kinhteso.methods.accounts.measure`) place in the
  section (its core pieces, the digitalised part of its other pieces and, in the MIC-style view,
  its platform value added) and VA_s the section's value added. The sections' DE_VA_s add up to
  the accounts' DE VA; the share is that of the section, not a contribution to GRDP.
- **Digital-economy employment**: employment by VSIC goes through the accounts' own arithmetic
  (pieces and remainders; the view's core list; a core industry not reported taken out of the
  reported industry holding it by the chained ``ALLOC_RATIO``, a value-added ratio applied to
  workers). Method ``core``: the core industries' workers only; ``coef``: plus the digitalised
  part of the other industries' workers at their ``DIGITAL_COEF`` (a kinhteso assumption: a
  coefficient measured on value added applied to employment, i.e. equal labour productivity in
  the digital and the other part of an industry). Share = DE workers / total employment × 100.

All functions are pure: data in, results out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from kinhteso.errors import MethodError
from kinhteso.methods import accounts as A

__all__ = ["section_shares", "LABOUR_METHODS", "LabourResult", "de_employment"]

#: method → (vi, en): what the digital-economy workers are; every labour output names it.
LABOUR_METHODS: dict[str, tuple[str, str]] = {
    "core": ("lao động các ngành kinh tế số lõi (cận dưới của định nghĩa chính thức: chưa gồm lao động "
             "chuyên môn số trong các ngành khác)",
             "workers of the core digital-economy industries (a lower bound of the official definition: "
             "digital specialists working in other industries are not counted)"),
    "coef": ("lao động các ngành lõi + phần số hóa của lao động các ngành khác theo DIGITAL_COEF (giả định của "
             "kinhteso: hệ số đo trên giá trị tăng thêm áp cho lao động, tức năng suất như nhau trong ngành)",
             "core industries' workers + the digitalised part of the other industries' workers at their "
             "DIGITAL_COEF (a kinhteso assumption: a coefficient measured on value added applied to employment, "
             "i.e. equal labour productivity within an industry)"),
}


def section_shares(result: A.AccountResult) -> pd.DataFrame:
    """The digital share within each section of ``result`` (percent): ``section, va, de_va,
    share``, one row per section with value added, in section order. A section with digital
    value added but none of its own (a MIC-style platform in an industry not reported) has no
    share and is left out.

    >>> h = A.Hierarchy({"J": "_T", "62": "J", "C": "_T", "10": "C", "26": "C"},
    ...                 {"J": "section", "62": "division", "C": "section", "10": "division", "26": "division"})
    >>> r = A.measure(A.AccountInputs(va=pd.Series({"62": 10.0, "10": 90.0, "26": 10.0}),
    ...                               coef_nat=pd.Series({"C": 0.1})), h)
    >>> section_shares(r)[["section", "share"]].round(2).values.tolist()
    [['C', 19.0], ['J', 100.0]]
    """
    g = result.by_section
    g = g[g.va > 0]
    out = pd.DataFrame({"section": g.section.astype(str).to_numpy(), "va": g.va.to_numpy(dtype=float),
                        "de_va": g.de_va.to_numpy(dtype=float)})
    out["share"] = out.de_va / out.va * 100.0
    return out.sort_values("section", kind="stable").reset_index(drop=True)


@dataclass
class LabourResult:
    method: str
    total: float                      #: total employment (the denominator)
    de_employment: float              #: digital-economy workers
    share: float                      #: percent
    core: float
    digitalised: float
    total_is_sum: bool                #: no ``_T``: the denominator is the sum of the industries
    by_section: pd.DataFrame          #: section, employment, de_employment
    account: A.AccountResult          #: the accounts arithmetic run on employment
    warnings: list[dict] = field(default_factory=list)


def _err(code: str, vi: str, en: str) -> MethodError:
    return MethodError(code, vi, en)


def de_employment(emp: pd.Series, h: A.Hierarchy, *, method: str = "core", view: str = "gso",
                  core: tuple[str, ...] | None = None, coef_own: pd.Series | None = None,
                  coef_nat: pd.Series | None = None, alloc_own: pd.Series | None = None,
                  alloc_nat: pd.Series | None = None, emp_nat: pd.Series | None = None,
                  label: str = "") -> LabourResult:
    """Digital-economy workers and their share of employment for one territory and period.

    ``emp``: employment by VSIC code, ``_T`` the total (persons); ``method``: ``core`` or
    ``coef`` (:data:`LABOUR_METHODS`); ``view``: whose core list (``gso``/``mic``: the GSO core,
    ``oecd``: the OECD ICT sector); coefficients and allocation ratios as for the accounts;
    ``emp_nat``: the nation's employment by industry (a chained allocation's step without a ratio).

    >>> h = A.Hierarchy({"J": "_T", "62": "J", "C": "_T", "10": "C"},
    ...                 {"J": "section", "62": "division", "C": "section", "10": "division"})
    >>> emp = pd.Series({"_T": 1000.0, "62": 20.0, "10": 300.0, "C": 300.0, "J": 20.0})
    >>> r = de_employment(emp, h)
    >>> r.de_employment, r.share
    (20.0, 2.0)
    >>> round(de_employment(emp, h, method="coef", coef_nat=pd.Series({"C": 0.1})).share, 6)
    5.0
    """
    if method not in LABOUR_METHODS:
        raise _err("UNKNOWN_LABOUR_METHOD", f"Cách đếm lao động kinh tế số '{method}' không có; dùng "
                   f"{', '.join(LABOUR_METHODS)}.",
                   f"Unknown digital-economy labour method '{method}'; use {', '.join(LABOUR_METHODS)}.")
    if view not in A.VIEWS:
        raise _err("UNKNOWN_VIEW", f"Cách đo '{view}' không có; dùng {', '.join(A.VIEWS)}.",
                   f"Unknown view '{view}'; use one of {', '.join(A.VIEWS)}.")
    label = label or "?"
    emp = emp.astype(float)
    total = float(emp["_T"]) if "_T" in emp.index else None
    by_code = emp.drop("_T", errors="ignore")
    if by_code.empty:
        raise _err("NO_EMPLOYMENT_DETAIL",
                   f"{label}: không có số lao động theo ngành (EMPLOYMENT theo mã VSIC); không tính được lao động "
                   "kinh tế số.",
                   f"{label}: no employment by industry (EMPLOYMENT by VSIC code); digital-economy workers cannot be "
                   "counted.")
    if (emp < 0).any():
        raise _err("EMPLOYMENT_NEGATIVE", f"{label}: số lao động âm ở {', '.join(emp[emp < 0].index)}.",
                   f"{label}: negative employment in {', '.join(emp[emp < 0].index)}.")
    if total is not None:
        if total <= 0:
            raise _err("EMPLOYMENT_TOTAL_NOT_POSITIVE", f"{label}: tổng số lao động (_T) không dương.",
                       f"{label}: total employment (_T) is not positive.")
        big = by_code[by_code > total * (1 + 1e-9)]
        if len(big):
            raise _err("EMPLOYMENT_ABOVE_TOTAL",
                       f"{label}: số lao động của ngành {', '.join(big.index)} lớn hơn tổng số lao động ({total:,.0f}).",
                       f"{label}: employment in {', '.join(big.index)} exceeds total employment ({total:,.0f}).")
    codes = set(by_code.index)
    kids: dict[str, float] = {}
    for c in codes:
        anc = next((a for a in h.ancestors(c) if a in codes), None)
        if anc is not None:
            kids[anc] = kids.get(anc, 0.0) + float(by_code[c])
    over = sorted(c for c, v in kids.items() if v > float(by_code[c]) * (1 + 1e-9) + 1e-6)
    if over:
        raise _err("EMPLOYMENT_CHILDREN_EXCEED_PARENT",
                   f"{label}: số lao động các ngành con lớn hơn của chính ngành {', '.join(over)}.",
                   f"{label}: the employment of the sub-industries exceeds that of {', '.join(over)} itself.")
    use_coef = method == "coef"
    inp = A.AccountInputs(va=by_code, grdp=total, coef_own=coef_own if use_coef else None,
                          coef_nat=coef_nat if use_coef else None, alloc_own=alloc_own, alloc_nat=alloc_nat,
                          label=label, va_nat=None if emp_nat is None else emp_nat.drop("_T", errors="ignore"))
    try:
        res = A.measure(inp, h, view="gso", core=core or A.VIEWS[view][0])
    except MethodError as exc:  # the accounts' words are about value added: say it of workers
        raise _err(f"EMPLOYMENT_{exc.code}", f"{label}: số lao động theo ngành không dùng được (kiểm tra {exc.code} "
                   f"của phép tính tài khoản, đọc 'giá trị tăng thêm' là 'lao động'): {exc.vi}",
                   f"{label}: employment by industry cannot be used (the accounts' check {exc.code}, reading "
                   f"'value added' as 'employment'): {exc.en}") from exc
    warnings: list[dict] = []
    for w in res.warnings:
        if w["code"] == "GRDP_MISSING":
            warnings.append({"code": "EMPLOYMENT_TOTAL_MISSING",
                             "vi": f"{label}: thiếu tổng số lao động (_T); mẫu số là tổng lao động các ngành ({res.grdp:,.0f}).",
                             "en": f"{label}: total employment (_T) missing; the denominator is the sum over the "
                                   f"industries ({res.grdp:,.0f})."})
        elif w["code"] == "VA_SUM_ABOVE_GRDP":
            warnings.append({"code": "EMPLOYMENT_SUM_ABOVE_TOTAL",
                             "vi": f"{label}: tổng lao động các ngành lớn hơn tổng số lao động (_T).",
                             "en": f"{label}: the industries' employment adds up to more than total employment (_T)."})
        elif w["code"] == "NO_COEFFICIENT" and not use_coef:
            continue
        else:
            warnings.append(w)
    if res.allocations:
        steps = sorted({f"{a['sector']}/{a['parent']}" for a in res.allocations})
        warnings.append({"code": "VA_RATIO_ON_EMPLOYMENT",
                         "vi": f"{label}: lao động ngành lõi {', '.join(steps)} tách khỏi ngành chứa nó bằng tỷ lệ "
                               "giá trị tăng thêm (ALLOC_RATIO), giả định năng suất lao động như nhau; hãy gửi lao "
                               "động theo ngành chi tiết nếu có.",
                         "en": f"{label}: the workers of core industries {', '.join(steps)} are taken out of the "
                               "industry holding them by a value-added ratio (ALLOC_RATIO), assuming equal labour "
                               "productivity; submit employment by detailed industry where it exists.",
                         "allocations": steps})
    p = res.pieces
    sec = pd.DataFrame({"section": p.section.astype(str), "employment": p.va.astype(float),
                        "de_employment": (p.core + p.digitalised).astype(float)})
    sec = sec.groupby("section", as_index=False).sum().sort_values("section").reset_index(drop=True)
    return LabourResult(method=method, total=res.grdp, de_employment=res.de_va, share=res.de_share,
                        core=res.components["core"]["va"], digitalised=res.components["digitalised"]["va"],
                        total_is_sum=res.grdp_is_sum_of_va, by_section=sec, account=res, warnings=warnings)
