"""Scoring the provinces in a workspace with a composite-index framework (``kinhteso index``).

The pipeline layer of the composite engine: read the framework's inputs from the store (latest
or as-of vintages), put them on the basis asked for (applying the framework's merger rule when
the period's data are on the 63-province basis and the 34 basis is asked), build COINr's
``iData`` and call the pure methods (:mod:`kinhteso.methods.composite`,
:mod:`kinhteso.methods.uncertainty`). The result carries its provenance: framework, period,
basis, the input vintages, the method and its parameters, the code version and whether any
input is illustrative.

Where a framework's indicators live in the store is declared once, in :data:`FRAMEWORK_INPUTS`
(the DTI's main indices are the indicator ``DTI_MAIN_INDEX`` with the main-index code as its
sector, its components ``DTI_COMPONENT`` with the component code; the Decision 1354 indicators are
separate indicators with the total sector ``_T``). A unit's main index is rolled up from its
components where it has all of them (:func:`kinhteso.methods.composite.roll_up`), else taken as
stored. Without ``framework``, the framework in force for the period's year is used
(:func:`default_framework`: ``dti2022`` before 2024, ``dti2024`` from 2024).

A framework whose inputs are indicators kinhteso derives from agencies' records (``haiphong-priority``:
the five priority sectors and the logistics chain, docs/sectors.md) reads each one by the
official-figure rule (:func:`kinhteso.pipeline.derived.official_values`: a submitted figure, else the
derived result; a year's figure is computed from the year's records, or the mean of its quarters where
only quarters were submitted), is scored through its whole tree (each indicator
normalised on its own goalposts, then its pillar, then the index) and leaves out, with a note, the
provinces that lack an input rather than refusing the period.

>>> # with Workspace.open(Path("workspace")) as ws:
>>> #     res = score_index(ws, IndexSettings(framework="dti2022", period="2024", basis=34))
>>> #     res.table[["territory", "score", "rank", "rank_low", "rank_high"]].head()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kinhteso import __version__
from kinhteso.errors import MethodError, UsageError
from kinhteso.i18n import tr
from kinhteso.methods import composite as C
from kinhteso.methods import uncertainty as UA
from kinhteso.periods import period as parse_period
from kinhteso.pipeline.observations import ObservationQuery, read_observations
from kinhteso.progress import Progress, or_null, span
from kinhteso.reference import territories as terr
from kinhteso.reference.frameworks import Framework, available_frameworks, load_framework
from kinhteso.workspace import Workspace

__all__ = ["FRAMEWORK_INPUTS", "DEFAULT_FRAMEWORKS", "InputSpec", "IndexSettings", "IndexResult", "score_index",
           "default_framework", "framework_indicators", "TABLE_COLUMNS"]


@dataclass(frozen=True)
class InputSpec:
    """Where a framework's indicators are stored: either one ``indicator`` whose sector holds the
    main-index code (the DTI layout; ``component_indicator`` likewise holds the component codes),
    or ``columns`` iCode → (indicator, sector)."""

    indicator: str | None = None
    columns: Mapping[str, tuple[str, str]] | None = None
    component_indicator: str | None = None
    #: read each input by the official-figure rule (a submission, else kinhteso's result derived from
    #: records, :mod:`kinhteso.pipeline.derived`) rather than from the submissions alone
    derived: bool = False
    #: the inputs are the framework's leaf indicators, scored through the whole tree (normalised on
    #: their own goalposts, aggregated to their pillars, then to the index), not rolled up to main indices
    tree: bool = False
    #: a unit lacking some input: ``refuse`` the period (INDEX_MISSING_INPUT), or ``leave_out`` the unit (a note)
    incomplete: str = "refuse"

    def resolve(self, fw: Framework) -> dict[str, tuple[str, str]]:
        if self.indicator is not None:
            out = {c: (self.indicator, c) for c in fw.main_indices}
            if self.component_indicator is not None:
                out.update({c: (self.component_indicator, c) for comps in fw.components.values() for c in comps})
            return out
        return dict(self.columns or {})

    def indicators(self) -> list[str]:
        """The stored indicators this framework reads."""
        if self.indicator is not None:
            return [self.indicator] + ([self.component_indicator] if self.component_indicator else [])
        return sorted({ind for ind, _sector in (self.columns or {}).values()})


#: Frameworks that can be scored from a workspace, and where their inputs are stored.
FRAMEWORK_INPUTS: dict[str, InputSpec] = {
    "dti2022": InputSpec(indicator="DTI_MAIN_INDEX", component_indicator="DTI_COMPONENT"),
    "dti2024": InputSpec(indicator="DTI_MAIN_INDEX", component_indicator="DTI_COMPONENT"),
    "de1354_province": InputSpec(columns={
        "de_share_grdp": ("DE_SHARE", "_T"),
        "sme_digital_platform_rate": ("SME_PLATFORM_SHARE", "_T"),
        "econtract_enterprise_rate": ("ECONTRACT_SHARE", "_T"),
    }),
    # Hải Phòng's five priority sectors and its logistics chain (docs/sectors.md): each iCode is the
    # indicator derived from the departments' records, read by the official-figure rule
    "haiphong-priority": InputSpec(columns={c: (c, "_T") for c in (
        "HEALTH_EHR_SHARE", "HEALTH_CASHLESS_SHARE", "EDU_DIGITAL_RECORD_SHARE", "EDU_CASHLESS_FEE_SHARE",
        "CONSTR_ONLINE_PERMIT_SHARE", "ENV_ONLINE_DOSSIER_SHARE", "TRANSPORT_E_TICKET_SHARE",
        "PORT_NSW_SHARE", "PORT_EDO_SHARE", "PORT_EPAYMENT_SHARE", "CUSTOMS_E_DECLARATION_SHARE")},
        derived=True, tree=True, incomplete="leave_out"),
}

#: The framework in force by assessment year, latest first: (first year, framework id). The DTI of
#: 2021–2023 was scored with Decision 922/QĐ-BTTTT, that of 2024 with Decision 405/QĐ-BKHCN; the
#: framework for 2025 is announced but not published (dti2025.yaml), so 2025 on uses dti2024 with a note.
DEFAULT_FRAMEWORKS: tuple[tuple[int, str], ...] = ((2024, "dti2024"), (0, "dti2022"))


def default_framework(period: str) -> str:
    """The framework in force for ``period``'s year (:data:`DEFAULT_FRAMEWORKS`).

    >>> default_framework("2023"), default_framework("2024"), default_framework("2025")
    ('dti2022', 'dti2024', 'dti2024')
    """
    year = parse_period(period).year
    return next(fid for first, fid in DEFAULT_FRAMEWORKS if year >= first)


def framework_indicators(framework: str | None) -> list[str]:
    """The stored indicators a framework reads (None: those of every default framework)."""
    ids = [framework] if framework else sorted({fid for _, fid in DEFAULT_FRAMEWORKS})
    specs = [FRAMEWORK_INPUTS[i] for i in ids if i in FRAMEWORK_INPUTS]
    if not specs:
        return [str(framework).upper()]
    return sorted({ind for spec in specs for ind in spec.indicators()})


#: Columns of :attr:`IndexResult.table`, in order.
TABLE_COLUMNS = ["territory", "name", "score", "rank", "rank_low", "rank_high", "rank_median", "strengths",
                 "weaknesses", "illustrative", "derived_from"]


@dataclass(frozen=True)
class IndexSettings:
    """One scoring run. ``framework`` "": the one in force for the period (:func:`default_framework`).
    ``basis`` None: 34 when the period has 34-basis data, else 63. ``n``:
    uncertainty replications (0: none); ``weight_noise``: every weight times U(1 - noise, 1 + noise)
    in each replication; ``top``: how many strengths and weaknesses per unit."""

    framework: str = ""
    period: str = ""
    basis: int | None = None
    n: int = 200
    seed: int = 0
    weight_noise: float = 0.25
    top: int = 2
    as_of: dt.datetime | None = None


@dataclass
class IndexResult:
    """Scores, ranks, rank intervals, strengths and weaknesses (``table``), the coin with every
    intermediate dataset, the uncertainty result, the provenance and notes (vi, en)."""

    framework: Framework
    table: pd.DataFrame
    coin: C.Coin
    uncertainty: UA.UncertaintyResult | None
    provenance: dict[str, Any]
    notes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def illustrative(self) -> bool:
        return bool(self.provenance["illustrative"])


# =============================================================================================
# Reading the inputs
# =============================================================================================

def _framework(settings: IndexSettings) -> tuple[Framework, InputSpec, list[tuple[str, str]]]:
    """The framework (the period's default when none is named), where its inputs are stored, and
    notes: its stated assumptions, and that a DTI framework scores a year whose own framework is not published."""
    name = settings.framework or default_framework(settings.period)
    if name not in FRAMEWORK_INPUTS:
        if name in available_frameworks(include_unpublished=True):
            load_framework(name)  # announced but not published: FRAMEWORK_NOT_PUBLISHED with its message
        known = ", ".join(sorted(FRAMEWORK_INPUTS))
        raise UsageError("UNKNOWN_FRAMEWORK",
                         f"Không có khung chỉ số '{name}' để chấm điểm từ không gian làm việc; có: {known}.",
                         f"No framework '{name}' to score from the workspace; available: {known}.")
    fw = load_framework(name)
    notes = []
    year = parse_period(settings.period).year
    if name in {fid for _, fid in DEFAULT_FRAMEWORKS} and year > max(first for first, _ in DEFAULT_FRAMEWORKS):
        notes.append((f"Khung DTI cho năm đánh giá {year} chưa được công bố; điểm tính theo khung '{name}', không phải "
                      f"khung của năm {year}.",
                      f"The DTI framework for assessment year {year} is not published; scored with '{name}', not "
                      f"with the framework of {year}."))
    notes += fw.assumption_notes()
    return fw, FRAMEWORK_INPUTS[name], notes


def _scored(fw: Framework, tree: bool = False) -> list[str]:
    """Main indices that count: weight > 0 (the DTI's smart-city index has 0 points in 2022); with
    ``tree``, the leaf indicators that count."""
    w = fw.meta.set_index("iCode")["Weight"]
    return [c for c in (fw.indicators if tree else fw.main_indices) if float(w[c]) > 0]


def _main_level(wide: pd.DataFrame, fw: Framework) -> tuple[pd.DataFrame, dict[str, list[str]], list[tuple[str, str]]]:
    """Main-index scores of every unit: rolled up from its components where it has all of them,
    else as stored (:func:`C.roll_up`); the units whose main indices came from components (code →
    main indices); notes on incomplete components and on stored main indices the components contradict."""
    if not fw.components:
        return wide, {}, []
    comps = [c for cs in fw.components.values() for c in cs]
    given = wide[[c for c in fw.main_indices if c in wide.columns]]
    lower = wide[[c for c in comps if c in wide.columns]]
    scores, how = C.roll_up(given, lower, fw.meta, fw.main_indices, aggregate=str(fw.method.get("aggregate", "arithmetic")))
    used = {k: [c for c in fw.main_indices if how.loc[k, c] == "components"] for k in how.index}
    used = {k: v for k, v in used.items() if v}
    notes: list[tuple[str, str]] = []
    if used:
        notes.append((f"{len(used)} đơn vị có chỉ số chính tính từ chỉ số thành phần (theo trọng số của khung).",
                      f"{len(used)} unit(s) have main indices rolled up from their components (the framework's weights)."))
    partial = sorted(f"{k}:{m}" for m, cs in fw.components.items() for k in how.index
                     if how.loc[k, m] != "components" and k in lower.index
                     and lower.loc[k, [c for c in cs if c in lower.columns]].notna().any())
    if partial:
        notes.append((f"Thiếu một số chỉ số thành phần, dùng chỉ số chính đã lưu (nếu có): {', '.join(partial)}.",
                      f"Components incomplete, the stored main index is used (if any): {', '.join(partial)}."))
    differ = sorted(f"{k}:{m}" for k, ms in used.items() for m in ms
                    if m in given.columns and k in given.index and pd.notna(given.loc[k, m])
                    and abs(float(given.loc[k, m]) - float(scores.loc[k, m])) > 5e-5)
    if differ:
        notes.append((f"Chỉ số chính đã lưu khác giá trị tính từ thành phần (dùng giá trị tính): {', '.join(differ)}.",
                      f"Stored main index differs from its components' roll-up (the roll-up is used): {', '.join(differ)}."))
    return scores, used, notes


def _read_derived(ws: Workspace, columns: dict[str, tuple[str, str]], s: IndexSettings) -> pd.DataFrame:
    """Long rows of the period for inputs read by the official-figure rule (a submission, else the
    result derived from records; a year: from the year's records, else the mean of its quarters), provinces only."""
    from kinhteso.pipeline.derived import RECORD_KIND, official_values  # noqa: PLC0415

    indicators = sorted({ind for ind, _ in columns.values()})
    f = official_values(ws, indicators, s.period, as_of=s.as_of)
    f = f[f["territory"].astype(str).str.match(r"^(63|34):")].copy()
    inverse = {ind: code for code, (ind, _sector) in columns.items()}
    f["iCode"] = f["indicator"].map(inverse)
    f = f[f["iCode"].notna()]
    if f.empty:
        res = ws.store.results(kind=RECORD_KIND, indicator=indicators, as_of=s.as_of)
        obs = ws.store.observations(indicator=indicators, as_of=s.as_of)
        periods = sorted(set(res.loc[res["value"].notna(), "period"]) | set(obs["period"])) if len(res) or len(obs) else []
        have_vi = ", ".join(periods) if periods else "không có kỳ nào"
        have_en = ", ".join(periods) if periods else "none"
        raise MethodError("INDEX_NO_DATA",
                          f"Không có số liệu {', '.join(indicators)} của các tỉnh cho kỳ {s.period} (số được gửi hoặc "
                          f"tính từ bản ghi); các kỳ có số liệu: {have_vi}.",
                          f"No provincial {', '.join(indicators)} data for period {s.period} (submitted or derived "
                          f"from records); periods with data: {have_en}.", period=s.period)
    f["key"] = f["territory"].astype(str)
    f["basis"] = f["key"].str.split(":").str[0]
    return f[["key", "basis", "iCode", "value", "illustrative", "vintage", "source", "run_id", "quarters"]
             ].reset_index(drop=True)


def _read_inputs(ws: Workspace, columns: dict[str, tuple[str, str]], s: IndexSettings) -> pd.DataFrame:
    """Long rows ``key, iCode, value, illustrative, vintage, source`` of the period (provinces only)."""
    indicators = sorted({ind for ind, _ in columns.values()})
    res = read_observations(ws, ObservationQuery(indicator=indicators, period=[s.period], as_of=s.as_of))
    f = res.frame
    inverse = {v: k for k, v in columns.items()}
    f = f[f["basis"].isin(["63", "34"])].copy()
    f["iCode"] = [inverse.get((i, sec)) for i, sec in zip(f["indicator"], f["sector"])]
    f = f[f["iCode"].notna()]
    if f.empty:
        every = read_observations(ws, ObservationQuery(indicator=indicators, as_of=s.as_of)).frame
        periods = sorted(every.loc[every["basis"].isin(["63", "34"]), "period"].unique().tolist())
        have_vi = ", ".join(periods) if periods else "không có kỳ nào"
        have_en = ", ".join(periods) if periods else "none"
        raise MethodError("INDEX_NO_DATA",
                          f"Không có số liệu {', '.join(indicators)} của các tỉnh cho kỳ {s.period}; các kỳ có số liệu: {have_vi}.",
                          f"No provincial {', '.join(indicators)} data for period {s.period}; periods with data: {have_en}.",
                          period=s.period)
    f["key"] = f["basis"] + ":" + f["territory"]
    return f[["key", "basis", "iCode", "value", "illustrative", "vintage", "source"]].reset_index(drop=True)


def _name(key: str) -> str:
    t = terr.get_territory(key)
    return tr(t.name_vi, t.name_en)


def _missing_inputs(wide: pd.DataFrame, keys: list[str], scored: list[str], *,
                    for_key: Mapping[str, str]) -> list[dict[str, Any]]:
    """One finding per unit of ``keys`` that lacks some scored indicator (or all of them)."""
    out = []
    for k in keys:
        have = wide.loc[k] if k in wide.index else pd.Series(dtype=float)
        miss = [c for c in scored if c not in have.index or pd.isna(have.get(c))]
        if not miss:
            continue
        t = terr.get_territory(k)
        what_vi = "không có chỉ số nào" if len(miss) == len(scored) else f"thiếu {len(miss)}/{len(scored)}: {', '.join(miss)}"
        what_en = "no index at all" if len(miss) == len(scored) else f"lacks {len(miss)}/{len(scored)}: {', '.join(miss)}"
        why_vi = f", cần để tính {for_key[k]} theo quy tắc sáp nhập" if k in for_key else ""
        why_en = f", needed for {for_key[k]} by the merger rule" if k in for_key else ""
        out.append({"territory": k, "missing": miss, "for": for_key.get(k),
                    "vi": f"{k} {t.name_vi} ({what_vi}{why_vi})", "en": f"{k} {t.name_en} ({what_en}{why_en})"})
    return out


def _refuse_missing(found: list[dict[str, Any]], s: IndexSettings, *, shown: int = 12) -> None:
    """Refuse to score when a unit lacks inputs; the message names them (the first ``shown``; all in ``context``)."""
    if found:
        more = len(found) - shown
        vi = "; ".join(f["vi"] for f in found[:shown]) + (f"; … (+{more})" if more > 0 else "")
        en = "; ".join(f["en"] for f in found[:shown]) + (f"; … (+{more})" if more > 0 else "")
        raise MethodError(
            "INDEX_MISSING_INPUT",
            f"Không tính được chỉ số kỳ {s.period}: {len(found)} tỉnh thiếu chỉ số đầu vào: {vi}. "
            "Hãy nộp bổ sung số liệu còn thiếu.",
            f"Cannot score period {s.period}: {len(found)} province(s) lack input indices: {en}. "
            "Submit the missing values.",
            period=s.period, missing=found)


def _leave_out(found: list[dict[str, Any]], keys: list[str], s: IndexSettings, notes: list[tuple[str, str]],
               left: list[dict[str, Any]]) -> list[str]:
    """``keys`` without the units of ``found`` (which lack an input), each named in a note and kept in
    ``left``; refused (INDEX_MISSING_INPUT) when no unit is left to score."""
    gone = {f["territory"] for f in found}
    kept = [k for k in keys if k not in gone]
    if not kept:
        _refuse_missing(found, s)
    if found:
        left.extend(found)
        notes.append((f"{len(found)} tỉnh thiếu chỉ tiêu đầu vào nên không được chấm điểm: "
                       + "; ".join(f["vi"] for f in found) + ".",
                       f"{len(found)} province(s) lack input indicators and are not scored: "
                       + "; ".join(f["en"] for f in found) + "."))
    return kept


def _on_basis(long: pd.DataFrame, fw: Framework, scored: list[str], s: IndexSettings, *, tree: bool = False,
              incomplete: str = "refuse", left: list[dict[str, Any]] | None = None
              ) -> tuple[pd.DataFrame, dict[str, list[str]], int, list[tuple[str, str]], dict[str, list[str]]]:
    """The wide table (units × main indices; with ``tree``, units × leaf indicators) on the basis
    asked for; the 63-basis predecessors of each merged unit; the basis; notes; the units whose main
    indices were rolled up from components. ``incomplete="leave_out"``: a unit lacking an input is
    left out (listed in ``left`` and a note) rather than refusing the period."""
    have = set(long["basis"])
    basis = s.basis or (34 if "34" in have else 63)
    pivot = long.pivot_table(index="key", columns="iCode", values="value", aggfunc="first")
    wide, from_components, notes = (pivot, {}, []) if tree else _main_level(pivot, fw)
    left = [] if left is None else left
    if basis == 63:
        if "63" not in have:
            raise MethodError("INDEX_NO_DATA_ON_BASIS",
                              f"Kỳ {s.period} chỉ có số liệu theo 34 tỉnh; không có quy tắc chuyển ngược về 63 tỉnh. Dùng --basis 34.",
                              f"Period {s.period} has data on the 34-province basis only; there is no rule back to the 63 provinces. Use --basis 34.")
        keys = sorted(k for k in wide.index if k.startswith("63:"))
        if incomplete == "leave_out":
            keys = _leave_out(_missing_inputs(wide, keys, scored, for_key={}), keys, s, notes, left)
        _refuse_missing(_missing_inputs(wide, keys, scored, for_key={}), s)
        return wide.loc[keys], {}, basis, notes, from_components
    stored = sorted(k for k in wide.index if k.startswith("34:"))
    if incomplete == "leave_out" and stored:
        stored = _leave_out(_missing_inputs(wide, stored, scored, for_key={}), stored, s, notes, left)
    mapping_df = terr.merger_map()
    preds: dict[str, list[str]] = {}
    for old, new in zip(mapping_df["old_key"], mapping_df["new_key"]):
        preds.setdefault(str(new), []).append(str(old))
    old_keys = {k for k in wide.index if k.startswith("63:")}
    derive = {n: sorted(olds) for n, olds in preds.items() if n not in stored and old_keys & set(olds)}
    if derive and not fw.merger_rule:
        raise UsageError("INDEX_NO_MERGER_RULE",
                         f"Khung '{fw.id}' không nêu quy tắc sáp nhập; kỳ {s.period} cần số liệu theo 34 tỉnh (hoặc dùng --basis 63).",
                         f"Framework '{fw.id}' names no merger rule; period {s.period} needs data on the 34-province basis (or use --basis 63).")
    for_key = {o: n for n, olds in derive.items() for o in olds}
    _refuse_missing(_missing_inputs(wide, stored, scored, for_key={})
                    + _missing_inputs(wide, sorted(for_key), scored, for_key=for_key), s)
    parts = [wide.loc[stored, scored]] if stored else []
    if derive:
        # the framework's rule (DTI 2024: mean of the old provinces' main indices), methods/composite.py
        parts.append(C.merge_units(wide.loc[sorted(for_key), scored], derive, rule=fw.merger_rule["rule"]))
        notes.append((f"{len(derive)} đơn vị hệ 34 tính từ các tỉnh cũ (hệ 63) theo quy tắc '{fw.merger_rule['rule']}'.",
                      f"{len(derive)} units on the 34 basis derived from their old (63-basis) provinces by the rule "
                      f"'{fw.merger_rule['rule']}'."))
    out = pd.concat(parts).sort_index()
    return out, derive, basis, notes, from_components


# =============================================================================================
# Scoring
# =============================================================================================

def _method(fw: Framework) -> tuple[dict[str, Any], str]:
    spec: dict[str, Any] = {"method": fw.method.get("normalise", "minmax")}
    if fw.method.get("clip") is not None:
        spec["clip"] = bool(fw.method["clip"])
    return spec, str(fw.method.get("aggregate", "arithmetic"))


def _run_vintages(ws: Workspace, runs: list[str]) -> set[int]:
    """The vintages the result runs ``runs`` read (their ``inputs``)."""
    import json  # noqa: PLC0415

    if not runs:
        return set()
    out: set[int] = set()
    rr = ws.store.result_runs()
    for raw in rr.loc[rr["run_id"].isin(runs), "inputs"]:
        inputs = json.loads(raw) if isinstance(raw, str) else (raw or {})
        out |= {int(v) for v in inputs.get("vintages", [])}
    return out


def _vintages(ws: Workspace, ids: list[int]) -> list[dict[str, Any]]:
    v = ws.store.vintages()
    v = v[v["vintage_id"].isin(ids)]
    return [{"vintage": int(r.vintage_id), "source": r.source, "received_at": r.received_at.isoformat(),
             "file_name": r.file_name, "illustrative": bool(r.illustrative)} for r in v.itertuples(index=False)]


def score_index(ws: Workspace, s: IndexSettings, *, progress: Progress | None = None) -> IndexResult:
    """Score the units of ``ws`` for ``s.period`` with framework ``s.framework``.

    **Returns:** an :class:`IndexResult`; its ``table`` has :data:`TABLE_COLUMNS`: territory key,
    name, index score, rank (1 = best, ties share the lower rank), the 5th-95th percentile rank
    interval over ``s.n`` replications with weights perturbed by ±``weight_noise`` (rounded
    outward to whole ranks) and the median rank, the ``top`` best- and worst-ranked indicators,
    whether an input is illustrative, and the old provinces a merged unit was derived from.
    ``progress`` (:mod:`kinhteso.progress`): reading, scoring, the rank intervals' phases, strengths.
    """
    if s.n < 0 or s.top < 1 or not 0.0 <= s.weight_noise < 1.0:
        raise UsageError("INDEX_SETTINGS", "Cần n ≥ 0, top ≥ 1 và mức nhiễu trọng số trong [0, 1).",
                         "Expected n ≥ 0, top ≥ 1 and a weight noise in [0, 1).")
    if s.basis not in (None, 63, 34):
        raise UsageError("INDEX_BASIS", f"Hệ địa bàn {s.basis} không có; chọn 63 hoặc 34.",
                         f"No territorial basis {s.basis}; choose 63 or 34.")
    say = or_null(progress)
    say(0, 3, tr("Đọc số liệu", "Reading the data"))
    fw, spec, fw_notes = _framework(s)
    columns = spec.resolve(fw)
    scored = _scored(fw, spec.tree)
    long = _read_derived(ws, columns, s) if spec.derived else _read_inputs(ws, columns, s)
    left: list[dict[str, Any]] = []
    X, derive, basis, notes, from_components = _on_basis(long, fw, scored, s, tree=spec.tree,
                                                         incomplete=spec.incomplete, left=left)
    notes = fw_notes + notes
    if spec.derived and parse_period(s.period).freq == "A" and "quarters" in long:
        part = long[long["key"].isin(X.index) & long["quarters"].notna() & (long["quarters"] < 4)]
        notes.append(("Số năm của một chỉ tiêu tính từ bản ghi được tính từ các bản ghi của cả năm (hoặc là trung bình các "
                      "quý khi chỉ có số quý được gửi)"
                      + (f"; chưa đủ 4 quý: {', '.join(sorted(set(part['key'] + ' ' + part['iCode'])))}." if len(part) else "."),
                      "A year's figure of an indicator derived from records is computed from the year's records (or is the "
                      "mean of its quarters where only quarters were submitted)"
                      + (f"; fewer than 4 quarters: {', '.join(sorted(set(part['key'] + ' ' + part['iCode'])))}." if len(part) else ".")))

    # --- iData: one row per unit, every main index (unscored ones empty); with a tree, every indicator
    idata = pd.DataFrame({"uCode": X.index.astype(str), "uName": [_name(k) for k in X.index]})
    for c in (fw.indicators if spec.tree else fw.main_indices):
        idata[c] = X[c].to_numpy(dtype=float) if c in X.columns else np.nan
    nspec, agg = _method(fw)
    say(1, 3, tr("Chấm điểm", "Scoring"))
    coin = C.build(idata, fw.meta if spec.tree else fw.main_meta, normalise=nspec["method"], clip=nspec.get("clip"),
                   aggregate=agg)
    scores = coin.data["Aggregated"][fw.index]
    ranks = C.rank_scores(scores)

    # --- rank intervals (Handbook step 7; COINr get_sensitivity) ------------------------------
    ua = None
    lo = hi = med = pd.Series(np.nan, index=scores.index)
    intervals = span(progress, before=2, after=1, prefix=tr("Khoảng hạng: ", "Rank intervals: "))
    if s.n > 0 and s.weight_noise > 0 and len(scores) > 1:
        ua = UA.uncertainty(coin.data["Raw"], coin.meta, n=s.n, weight_noise=s.weight_noise, normalise=[nspec],
                            aggregate=[agg], design="random", seed=s.seed, progress=intervals)
        ri = ua.rank_intervals.set_index(scores.index)
        lo, hi, med = np.floor(ri["rank_q05"]), np.ceil(ri["rank_q95"]), ri["rank_median"]

    # --- strengths and weaknesses (COINr get_str_weak) -----------------------------------------
    say(intervals.end, intervals.end + 1, tr("Điểm mạnh, điểm yếu", "Strengths and weaknesses"))
    sw = {u: C.strengths_weaknesses(coin, u, topN=s.top) for u in scores.index}
    illus = long.groupby("key")["illustrative"].any()

    def _illus(k: str) -> bool:
        return bool(illus.get(k, False)) or any(bool(illus.get(o, False)) for o in derive.get(k, []))

    table = pd.DataFrame({
        "territory": scores.index.astype(str),
        "name": idata["uName"].to_numpy(),
        "score": scores.to_numpy(dtype=float),
        "rank": ranks.astype("Int64").to_numpy(),
        "rank_low": pd.array(lo.to_numpy(), dtype="Int64") if ua is not None else pd.array([pd.NA] * len(scores), dtype="Int64"),
        "rank_high": pd.array(hi.to_numpy(), dtype="Int64") if ua is not None else pd.array([pd.NA] * len(scores), dtype="Int64"),
        "rank_median": med.to_numpy(dtype=float),
        "strengths": ["; ".join(sw[u]["strengths"]["iCode"]) for u in scores.index],
        "weaknesses": ["; ".join(sw[u]["weaknesses"]["iCode"]) for u in scores.index],
        "illustrative": [_illus(k) for k in scores.index],
        "derived_from": ["+".join(derive.get(k, [])) for k in scores.index],
    })
    table = table.sort_values(["rank", "territory"], kind="stable").reset_index(drop=True)

    used = set(X.index) | {o for olds in derive.values() for o in olds}
    vint = sorted({int(v) for v in long.loc[long["key"].isin(used), "vintage"].dropna()})
    runs: list[str] = []
    if spec.derived:  # the record vintages behind the derived inputs count as input vintages too
        runs = sorted({r.strip() for v in long.loc[long["key"].isin(used), "run_id"].dropna()
                       for r in str(v).split(",") if r.strip()})
        vint = sorted(set(vint) | _run_vintages(ws, runs))
    provenance = {
        "framework": fw.id,
        "framework_name": fw.name,
        "period": s.period,
        "basis": basis,
        "as_of": s.as_of.isoformat() if s.as_of else None,
        "input_vintages": _vintages(ws, vint),
        "method": {"normalise": nspec, "aggregate": agg,
                   "weights": "the framework's (DTI: points)" if not fw.assumptions
                   else "the framework's, assumed where not published (see assumptions)",
                   "merger_rule": (fw.merger_rule or {}).get("rule") if derive else None,
                   "ranks": "1 = best; ties share the lower rank",
                   "rank_interval": "5th-95th percentile of ranks, rounded outward",
                   "strengths_weaknesses": "best/worst-ranked indicators among all units (COINr get_str_weak)"},
        "parameters": {"n": s.n if ua is not None else 0, "seed": s.seed, "weight_noise": s.weight_noise,
                       "design": "random", "top": s.top},
        "assumptions": [{"code": a.get("code"), "vi": vi, "en": en}
                        for a, (vi, en) in zip(fw.assumptions, fw.assumption_notes())],
        "from_components": {k: v for k, v in sorted(from_components.items()) if k in used},
        "code_version": __version__,
        "illustrative": bool(table["illustrative"].any()),
        "units": len(table),
    }
    if spec.derived:  # inputs derived from records: the runs they come from, and the rule that chose them
        provenance["input_runs"] = runs
        provenance["input_rule"] = ("submitted figure, else kinhteso's result derived from records (kind logistics); "
                                    "a year: computed from the year's records, else the mean of its quarters")
        provenance["left_out"] = [{"territory": f["territory"], "missing": f["missing"]} for f in left]
    say(intervals.end + 1, intervals.end + 1, tr("Chỉ số", "Index"))
    return IndexResult(framework=fw, table=table, coin=coin, uncertainty=ua, provenance=provenance, notes=notes)
