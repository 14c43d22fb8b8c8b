"""The input-output estimator of ``DIGITAL_COEF``: ICT-input intensity written into a workspace.

From an input-output table (:class:`~kinhteso.ingest.iotables.IOTable`) and a concordance of
its product codes to VSIC 2018, :func:`estimate_digital_coef` computes each industry's share of
digital products in its intermediate consumption with
:func:`kinhteso.methods.io.ict_input_intensity`

    intensity_j = Σ_{i∈D} z_ij / Σ_i z_ij                    (D = the digital products)

aggregates it to VSIC codes (:func:`aggregate_to_vsic`, the rule below) and builds the
``DIGITAL_COEF`` observations (status ``E``, unit ``RATIO``, price basis ``current``);
:func:`write_digital_coef` stores them as ONE result run (kind ``coef``, method ``io``; the
accounts read it as the source ``kinhteso:io``) whose parameters record the method, the table file's SHA-256, the digital products and the
aggregation rule. Everything is validated before anything is written; a bad concordance or a
value outside the indicator's range refuses the whole estimate (``InputRejected``).

Aggregation rule (:data:`AGGREGATION_RULE`):

- one table industry mapped to several VSIC codes: each code receives the industry's
  intensity (the table says nothing finer; the industry's input structure is assumed to hold
  for each of its parts, as in the OECD digital SUT handbook's step 4);
- several table industries mapped to one VSIC code: the intermediate-consumption-weighted mean
  of their intensities, i.e. Σ_j digital_inputs_j / Σ_j IC_j (a ratio of sums); each industry
  counts with its whole intermediate consumption, since the table does not say how an
  industry's IC divides among the VSIC codes it maps to.

Industries with no intermediate consumption, and industries absent from the concordance, are
not written; they are listed in the estimate (``skipped``) and in the vintage note.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kinhteso.domain import MERGER_DATE
from kinhteso.errors import InputRejected, Problem, ReferenceDataError, UsageError
from kinhteso.ingest.iotables import IOTable
from kinhteso.methods.io import ict_input_intensity
from kinhteso.periods import parse_period
from kinhteso.reference import territories as terr
from kinhteso.reference import vsic
from kinhteso.reference.indicators import load_indicators
from kinhteso import __version__
from kinhteso.store import RunRecord, VintageInfo
from kinhteso.workspace import Workspace

__all__ = [
    "AGGREGATION_RULE",
    "INDICATOR",
    "IO_SOURCE",
    "METHOD",
    "SECTOR_LEVELS",
    "CoefEstimate",
    "aggregate_to_vsic",
    "describe",
    "estimate_digital_coef",
    "file_sha256",
    "identity_concordance",
    "write_digital_coef",
]

#: Source of every vintage this estimator writes (the method, not an agency).
IO_SOURCE = "kinhteso:io"
INDICATOR = "DIGITAL_COEF"
METHOD = "io: ICT-input intensity, intensity_j = sum_{i in D} z_ij / sum_i z_ij"
#: The rule for many-to-one and one-to-many concordances (see the module docstring).
AGGREGATION_RULE = (
    "one industry -> several VSIC codes: each code gets the industry's intensity; "
    "several industries -> one VSIC code: IC-weighted mean = sum digital inputs / sum IC"
)
#: VSIC levels a coefficient may be written at (the accounts apply coefficients to sections
#: and divisions).
SECTOR_LEVELS = ("section", "division")


@dataclass(frozen=True)
class CoefEstimate:
    """The IO estimate of ``DIGITAL_COEF``, ready to be stored (nothing is written yet).

    ``observations``: the long frame for :meth:`kinhteso.store.Store.add_frame`;
    ``by_industry``: ``code, vsic, digital_inputs, intermediate_consumption, intensity`` (one
    row per concordance pair); ``by_vsic``: ``vsic, value, digital_inputs,
    intermediate_consumption, industries``; ``info``: the vintage to record; ``skipped``:
    ``unmapped`` and ``no_intermediate_consumption`` industry codes.
    """

    observations: pd.DataFrame
    by_industry: pd.DataFrame
    by_vsic: pd.DataFrame
    info: VintageInfo
    territory: str
    period: str
    digital: tuple[str, ...]
    skipped: dict[str, list[str]] = field(default_factory=dict)


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def identity_concordance(codes: Sequence[str]) -> pd.DataFrame:
    """The concordance used when none is given: every table code is its own VSIC code."""
    return pd.DataFrame({"code": list(codes), "vsic": list(codes)}, dtype=object)


# --------------------------------------------------------------------------- validation


def _check_territory_period(territory: str, period: str) -> tuple[str, str, bool]:
    """(territory key, normalised period, backcast) or a UsageError naming the fix."""
    try:
        t = terr.get_territory(territory)
    except ReferenceDataError as exc:
        raise UsageError("IO_TERRITORY", exc.vi, exc.en) from exc
    parsed = parse_period(period)
    if parsed is None:
        raise UsageError(
            "IO_PERIOD",
            f"Kỳ {period!r} không hợp lệ; dùng dạng SDMX: năm '2022' hoặc quý '2022-Q1'.",
            f"Period {period!r} is not valid; use SDMX form: a year '2022' or a quarter '2022-Q1'.",
        )
    norm, freq, start = parsed.code, parsed.freq, parsed.start
    allowed = load_indicators()[INDICATOR].frequencies
    if freq not in allowed:
        raise UsageError(
            "IO_PERIOD",
            f"{INDICATOR} chỉ nhận kỳ có tần suất {', '.join(allowed)}; nhận {period!r}.",
            f"{INDICATOR} takes periods of frequency {', '.join(allowed)} only; got {period!r}.",
        )
    if t.valid_to is not None and start > t.valid_to:
        raise UsageError(
            "IO_TERRITORY_PERIOD",
            f"Địa bàn {t.key} ({t.name_vi}) không còn tồn tại ở kỳ {norm} (hết hiệu lực {t.valid_to}); "
            f"dùng địa bàn kế thừa {terr.successors_of(t.key)}.",
            f"Territory {t.key} ({t.name_en}) no longer exists in {norm} (valid to {t.valid_to}); "
            f"use its successor {terr.successors_of(t.key)}.",
        )
    backcast = t.basis == 34 and start < MERGER_DATE
    return t.key, norm, backcast


def _check_concordance(
    conc: pd.DataFrame, *, codes: Sequence[str], file: str, identity: bool
) -> tuple[pd.DataFrame, list[Problem]]:
    """Canonical VSIC codes (``j`` → ``J``) and a Problem for each code not usable as a sector."""
    problems: list[Problem] = []
    missing = {"code", "vsic"} - set(conc.columns)
    if missing:
        problems.append(Problem(
            "IO_COLUMNS",
            f"Bảng chuyển đổi mã thiếu cột {sorted(missing)}; cần cột code, vsic.",
            f"The concordance lacks columns {sorted(missing)}; it needs columns code, vsic.",
            file=file,
        ))
        return conc, problems
    canon = []
    hint_vi = " Hãy cho bảng chuyển đổi mã (--concordance code,vsic)." if identity else ""
    hint_en = " Give a concordance (--concordance code,vsic)." if identity else ""
    known = set(codes)
    for i, (code, v) in enumerate(zip(conc["code"].astype(str), conc["vsic"].astype(str))):
        row = None if identity else i + 2
        if code.strip() not in known:
            problems.append(Problem(
                "IO_CODE_MISMATCH",
                f"Mã sản phẩm '{code}' của bảng chuyển đổi không có trong bảng vào-ra.",
                f"Product code '{code}' of the concordance is not in the input-output table.",
                file=file, row=row, column="code",
            ))
        try:
            s = vsic.get_sector(v.strip())
        except ReferenceDataError as exc:
            problems.append(Problem("IO_VSIC_UNKNOWN", exc.vi + hint_vi, exc.en + hint_en, file=file, row=row,
                                    column="vsic"))
            canon.append(v)
            continue
        if s.level not in SECTOR_LEVELS:
            target = vsic.division_of(s.code) or "J"
            problems.append(Problem(
                "IO_VSIC_LEVEL",
                f"Sản phẩm '{code}' được chuyển sang mã VSIC '{s.code}' (cấp {s.level}); hệ số số hóa ghi ở "
                f"cấp ngành 1 (chữ cái) hoặc cấp 2 (2 chữ số), ví dụ '{target}'.",
                f"Product '{code}' maps to VSIC '{s.code}' (a {s.level}); digitalisation coefficients are "
                f"written for sections (letters) or divisions (2 digits), e.g. '{target}'.",
                file=file, row=row, column="vsic",
            ))
        canon.append(s.code)
    out = conc.assign(code=conc["code"].astype(str).str.strip(), vsic=canon)
    return out[["code", "vsic"]].drop_duplicates().reset_index(drop=True), problems


# --------------------------------------------------------------------------- aggregation


def aggregate_to_vsic(by_industry: pd.DataFrame) -> pd.DataFrame:
    """Industry intensities → one value per VSIC code (:data:`AGGREGATION_RULE`).

    value_v = Σ_{j→v} digital_inputs_j / Σ_{j→v} IC_j: the IC-weighted mean of the intensities
    of the industries j mapped to v; with one industry it is that industry's intensity, so an
    industry mapped to several codes gives each of them its own intensity.

    >>> f = pd.DataFrame({"code": ["a", "b", "b"], "vsic": ["J", "J", "K"],
    ...                   "digital_inputs": [1.0, 3.0, 3.0], "intermediate_consumption": [10.0, 10.0, 10.0]})
    >>> aggregate_to_vsic(f)[["vsic", "value"]].to_dict("records")
    [{'vsic': 'J', 'value': 0.2}, {'vsic': 'K', 'value': 0.3}]
    """
    f = by_industry.dropna(subset=["vsic"])
    g = f.groupby("vsic", sort=True)
    out = pd.DataFrame({
        "digital_inputs": g["digital_inputs"].sum(),
        "intermediate_consumption": g["intermediate_consumption"].sum(),
        "industries": g["code"].agg(lambda s: ",".join(dict.fromkeys(s))),
    }).reset_index()
    out.insert(1, "value", out["digital_inputs"] / out["intermediate_consumption"])
    return out


# --------------------------------------------------------------------------- estimate and write


def estimate_digital_coef(
    table: IOTable,
    *,
    digital: Sequence[str],
    territory: str,
    period: str,
    concordance: pd.DataFrame | None = None,
    table_file: str | Path | None = None,
    concordance_file: str | Path | None = None,
    illustrative: bool = False,
    intermediate_consumption: Sequence[float] | np.ndarray | None = None,
) -> CoefEstimate:
    """Estimate ``DIGITAL_COEF`` by VSIC code from one input-output table; write nothing.

    **Parameters:** ``table`` from a reader of :mod:`kinhteso.ingest.iotables`; ``digital`` the
    table's own digital product codes; ``territory`` a key (``VN``, ``34:31``) and ``period``
    (``2022``, ``2022-Q1``) the table describes; ``concordance`` ``code,vsic`` (from
    :func:`~kinhteso.ingest.iotables.read_concordance`), or ``None`` when the table's codes
    are VSIC codes themselves; ``table_file`` the file whose SHA-256 is recorded (default
    ``table.source``); ``intermediate_consumption`` optional IC per industry (e.g. including
    imports), passed to :func:`~kinhteso.methods.io.ict_input_intensity`.

    Raises ``UsageError`` (bad territory, period, digital codes) or ``InputRejected`` (a VSIC
    code that is unknown or not a section/division, a value outside the indicator's range,
    nothing to write), listing every problem.
    """
    key, norm_period, backcast = _check_territory_period(territory, period)
    identity = concordance is None
    tfile = Path(table_file) if table_file is not None else Path(str(table.source))
    conc_name = str(concordance_file) if concordance_file else (str(tfile) if identity else "concordance")
    conc = identity_concordance(table.codes) if identity else concordance
    conc, problems = _check_concordance(conc, codes=table.codes, file=conc_name, identity=identity)
    if problems:
        raise InputRejected(problems, file=conc_name)
    by_industry = ict_input_intensity(
        table.Z, codes=table.codes, digital=list(digital), concordance=conc,
        intermediate_consumption=intermediate_consumption,
    )
    skipped = {
        "unmapped": list(by_industry.attrs.get("unmapped", [])),
        "no_intermediate_consumption": list(by_industry.attrs.get("no_intermediate_consumption", [])),
    }
    by_vsic = aggregate_to_vsic(by_industry)
    ind = load_indicators()[INDICATOR]
    lo = -np.inf if ind.min is None else ind.min
    hi = np.inf if ind.max is None else ind.max
    for r in by_vsic.itertuples(index=False):
        if not (np.isfinite(r.value) and lo <= r.value <= hi):
            problems.append(Problem(
                "IO_COEF_RANGE",
                f"Hệ số của ngành {r.vsic} (từ {r.industries}) là {r.value}, ngoài khoảng {lo}–{hi} của {INDICATOR}; "
                "kiểm tra chi phí trung gian.",
                f"The coefficient of {r.vsic} (from {r.industries}) is {r.value}, outside {INDICATOR}'s range "
                f"{lo}–{hi}; check the intermediate consumption.",
                file=str(table.source), column="vsic",
            ))
    if by_vsic.empty:
        problems.append(Problem(
            "IO_NO_COEF",
            "Không có hệ số nào để ghi: không ngành nào vừa có trong bảng chuyển đổi vừa có chi phí trung gian.",
            "No coefficient to write: no industry is both in the concordance and has intermediate consumption.",
            file=conc_name,
        ))
    if problems:
        raise InputRejected(problems, file=problems[0].file)
    obs = pd.DataFrame({
        "indicator": INDICATOR, "territory": key, "sector": by_vsic["vsic"].to_numpy(), "period": norm_period,
        "value": by_vsic["value"].to_numpy(dtype=float), "unit": "RATIO", "price_basis": "current",
        "status": "E", "backcast": backcast,
    })
    if not tfile.is_file():
        raise UsageError(
            "IO_TABLE_FILE",
            f"Không tìm thấy tệp bảng vào-ra {tfile} để ghi SHA-256 vào nguồn gốc của kết quả.",
            f"Input-output table file {tfile} not found; its SHA-256 is recorded with the result.",
        )
    sha = file_sha256(tfile)
    dig = tuple(str(d) for d in digital)
    parts = [
        f"method={METHOD}",
        f"table={tfile.name} sha256={sha}",
        f"digital={','.join(dig)}",
        f"concordance={'identity (table codes are VSIC codes)' if identity else Path(conc_name).name}"
        + (f" sha256={file_sha256(concordance_file)}" if concordance_file and Path(concordance_file).is_file() else ""),
        f"aggregation={AGGREGATION_RULE}",
        f"territory={key} period={norm_period}",
    ]
    for what, codes in skipped.items():
        if codes:
            parts.append(f"skipped_{what}={','.join(codes)}")
    info = VintageInfo(source=IO_SOURCE, file_name=tfile.name, sha256=sha, illustrative=illustrative,
                       note="; ".join(parts))
    return CoefEstimate(observations=obs, by_industry=by_industry, by_vsic=by_vsic, info=info, territory=key,
                        period=norm_period, digital=dig, skipped=skipped)


def write_digital_coef(ws: Workspace, estimate: CoefEstimate) -> tuple[str, int, list[str]]:
    """Store the estimate as one run of kind ``coef`` (method ``io``). Returns (run_id, rows,
    superseded sectors).

    ``superseded`` lists the sectors that already had a ``DIGITAL_COEF`` for this territory and
    period from another source (a submission or another estimator): the accounts now read this
    newer estimate for them (nothing is overwritten; ``--coef-source`` still chooses the other).
    """
    sub = ws.store.observations(indicator=INDICATOR, territory=estimate.territory, period=estimate.period)
    est = ws.store.results(kind="coef", indicator=INDICATOR, territory=estimate.territory, period=estimate.period)
    before = set(sub["sector"]) | set(est.loc[est["method"] != "io", "sector"])
    superseded = sorted(before & set(estimate.observations["sector"]))
    rows = estimate.observations.drop(columns=["backcast"], errors="ignore").assign(view="", basis="estimated")
    run = RunRecord(kind="coef", method="io",
                    parameters={"territory": estimate.territory, "period": estimate.period, "note": estimate.info.note,
                                "file_name": estimate.info.file_name},
                    inputs={"files": [estimate.info.sha256]}, code_version=__version__,
                    illustrative=estimate.info.illustrative, provenance={"method": METHOD})
    run_id, _ = ws.store.add_results(run, rows)
    return run_id, len(rows), superseded


def describe(estimate: CoefEstimate, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per table industry: code, name, VSIC codes, digital inputs, IC, intensity."""
    f = estimate.by_industry.dropna(subset=["vsic"])
    g = f.groupby("code", sort=False)
    out = pd.DataFrame({
        "vsic": g["vsic"].agg(lambda s: _ranges(list(s))),
        "digital_inputs": g["digital_inputs"].first(),
        "intermediate_consumption": g["intermediate_consumption"].first(),
        "intensity": g["intensity"].first(),
    }).reset_index()
    if names:
        out.insert(1, "name", [names.get(c, "") for c in out["code"]])
    return out


def _ranges(codes: list[str]) -> str:
    """``01,02,03,05`` → ``01–03, 05`` (consecutive divisions joined), letters kept as they are."""
    out: list[list[str]] = []
    for c in codes:
        if out and c.isdigit() and out[-1][-1].isdigit() and int(c) == int(out[-1][-1]) + 1:
            out[-1].append(c)
        else:
            out.append([c])
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in out)

