"""Which VSIC section's digitalisation coefficient a province's own records scale, and from which
indicators: the declared mapping ``data/process_coefficients.yaml`` (data, not code; the estimator
is :mod:`kinhteso.methods.logistics_coef`, the pipeline :mod:`kinhteso.pipeline.coefficients`).

>>> s = process_sections()["Q"]
>>> s.keys, [c for c in s.components], s.method, s.note
(('Q', 'v2025:R'), ['HEALTH_EHR_SHARE', 'HEALTH_CASHLESS_SHARE'], 'process-digitalisation', 'PROCESS_COEF')
>>> process_section("v2025:q").section, process_section("h").method
('P', 'logistics-process')
>>> sorted(sections_fed_by(["TRANSPORT_E_TICKET_SHARE", "ENV_ONLINE_DOSSIER_SHARE"]))
['H']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from kinhteso.errors import ReferenceDataError, UsageError

__all__ = ["ProcessSection", "process_sections", "process_section", "sections_fed_by", "settings",
           "COUNTED_BY_CODE", "DEFAULT_METHOD", "DEFAULT_NOTE"]

DEFAULT_METHOD = "process-digitalisation"
DEFAULT_NOTE = "PROCESS_COEF"
#: Components the pipeline counts by code rather than from a declared share or ratio: the dataset
#: whose records it counts (vessel calls with ``nsw = Y``, by the quarter of departure).
COUNTED_BY_CODE = {"PORT_NSW_SHARE": "vessel_calls"}


@dataclass(frozen=True)
class ProcessSection:
    """One section whose coefficient a province's records scale."""

    section: str                  #: the VSIC 2018 section (its store key)
    v2025: str                    #: the VSIC 2025 section of the same activities (store key ``v2025:<letter>``)
    name: str                     #: the coefficient source's word (``logistics:H``) and the accounts' input name
    method: str                   #: the stored run's method
    note: str                     #: the code of measure's note
    vi: str
    en: str
    records_vi: str
    records_en: str
    components: dict[str, float]  #: indicator → weight

    @property
    def keys(self) -> tuple[str, str]:
        """The section's store keys in VSIC 2018 and VSIC 2025."""
        return self.section, f"v2025:{self.v2025}"

    @property
    def input_name(self) -> str:
        """How the accounts name the province's estimate among their inputs (apart from its own DIGITAL_COEF)."""
        return f"DIGITAL_COEF@{self.name}"


def _bad(vi: str, en: str) -> ReferenceDataError:
    return ReferenceDataError("PROCESS_COEF_REGISTRY_INVALID", f"process_coefficients.yaml: {vi}",
                              f"process_coefficients.yaml: {en}")


@lru_cache(maxsize=1)
def _raw() -> dict:
    text = resources.files("kinhteso.reference").joinpath("data/process_coefficients.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text) or {}


def settings() -> tuple[int, int]:
    """(min_records, min_units) declared for every component."""
    raw = _raw()
    return int(raw.get("min_records", 30)), int(raw.get("min_units", 3))


@lru_cache(maxsize=1)
def process_sections() -> dict[str, ProcessSection]:
    """The declared sections by VSIC 2018 letter, checked: each section a section of its VSIC version,
    each component an indicator some dataset derives as a share or a ratio (or one counted by code),
    no component twice, no name or section twice."""
    from kinhteso.reference import vsic  # noqa: PLC0415
    from kinhteso.reference.datasets import datasets  # noqa: PLC0415

    countable = {d.code for ds in datasets().values() for d in ds.derived if d.declared} | set(COUNTED_BY_CODE)
    letters = {v: {s.code for s in vsic.sectors(v) if s.level == "section"} for v in (2018, 2025)}
    out: dict[str, ProcessSection] = {}
    seen_comp: dict[str, str] = {}
    for x in _raw().get("sections", []):
        sec, v25 = str(x.get("section", "")), str(x.get("v2025", ""))
        if sec not in letters[2018] or v25 not in letters[2025]:
            raise _bad(f"'{sec}'/'{v25}' không phải ngành cấp 1 của VSIC 2018/VSIC 2025",
                       f"'{sec}'/'{v25}' is not a section of VSIC 2018/VSIC 2025")
        if sec in out or any(s.name == x.get("name") for s in out.values()):
            raise _bad(f"ngành {sec} hoặc tên '{x.get('name')}' khai báo hai lần",
                       f"the section {sec} or the name '{x.get('name')}' is declared twice")
        comps: dict[str, float] = {}
        for c in x.get("components") or []:
            code, weight = (c, 1.0) if isinstance(c, str) else (str(c.get("indicator")), float(c.get("weight", 1.0)))
            if code not in countable:
                raise _bad(f"ngành {sec}: {code} không phải chỉ tiêu tỷ lệ hay tỷ số khai báo của một tập dữ liệu",
                           f"section {sec}: {code} is not a declared share or ratio of a dataset")
            if code in seen_comp or code in comps or not weight > 0:
                raise _bad(f"ngành {sec}: {code} trùng (đã ở ngành {seen_comp.get(code, sec)}) hoặc trọng số không dương",
                           f"section {sec}: {code} repeats (in section {seen_comp.get(code, sec)}) or its weight is not positive")
            comps[code] = weight
            seen_comp[code] = sec
        if not comps:
            raise _bad(f"ngành {sec} không có thành phần nào", f"section {sec} has no components")
        out[sec] = ProcessSection(sec, v25, str(x["name"]), str(x.get("method", DEFAULT_METHOD)),
                                  str(x.get("note", DEFAULT_NOTE)), str(x["vi"]), str(x["en"]), str(x["records_vi"]),
                                  str(x["records_en"]), comps)
    return out


def process_section(code: str) -> ProcessSection:
    """The declared section named by its VSIC 2018 letter (``Q``) or its VSIC 2025 store key
    (``v2025:R``); ``NO_PROCESS_COMPONENTS`` (a usage error) for a section without components."""
    text = str(code).strip()
    found = process_sections()
    if text.lower().startswith("v2025:"):
        hit = next((s for s in found.values() if s.v2025 == text[6:].upper()), None)
    else:
        hit = found.get(text.upper())
    if hit is not None:
        return hit
    listed = ", ".join(f"{s.section} ({s.en})" for s in found.values())
    listed_vi = ", ".join(f"{s.section} ({s.vi})" for s in found.values())
    raise UsageError("NO_PROCESS_COMPONENTS",
                     f"Ngành '{code}' không có thành phần số hóa quy trình nào được khai báo "
                     f"(reference/data/process_coefficients.yaml); các ngành có: {listed_vi}.",
                     f"Section '{code}' has no declared process-digitalisation components "
                     f"(reference/data/process_coefficients.yaml); the sections with some: {listed}.", section=str(code))


def sections_fed_by(indicators: Iterable[str]) -> list[str]:
    """The declared sections (VSIC 2018 letters) whose components include any of ``indicators``."""
    wanted = set(indicators)
    return [s.section for s in process_sections().values() if wanted & set(s.components)]
