"""SDMX-CSV 2.0: kinhteso's submissions and results as SDMX data, and SDMX-CSV files as submissions.

Two families of dataflows, one per indicator (the dataflow id *is* the indicator code):

- ``KINHTESO:GRDP_VA(1.0)`` — **submissions**: what agencies and publishers submitted (the latest
  vintage of each key as of a moment). Dimensions ``FREQ, TERRITORY, SECTOR, PRICE_BASIS,
  TIME_PERIOD``; measure ``OBS_VALUE``; attributes ``UNIT_MEASURE, OBS_STATUS, VINTAGE, SOURCE,
  BACKCAST, ILLUSTRATIVE``.
- ``KINHTESO_RESULTS:DE_SHARE(1.0)`` — **results**: what kinhteso computed and stored (never a
  submission). Dimensions ``FREQ, TERRITORY, SECTOR, PRICE_BASIS, VIEW, TIME_PERIOD``; measure
  ``OBS_VALUE``; attributes ``UNIT_MEASURE, OBS_STATUS, RESULT_BASIS, RUN_ID, METHOD,
  COMPUTED_AT, ILLUSTRATIVE``.

Territory codes are made SDMX-safe (an SDMX code id holds no ``:``): ``VN`` ↔ ``VN``, ``34:31`` ↔
``34_31``, ``63:01`` ↔ ``63_01`` (:func:`sdmx_territory`, :func:`territory_key`). Every other code
is kinhteso's own (``_T``, ``current``, ``constant_2010``, ``VND_BN``, ``A``…); an empty view is
``_Z`` (SDMX's "not applicable").

The SDMX-CSV text is written by ``pysdmx`` (:func:`write_csv`) from a schema built here
(:func:`schema`); SDMX-CSV files are read for ingestion by :func:`to_long_csv`, a streaming
converter to kinhteso's long layout (the rows are then validated as any submission).

>>> sdmx_territory("34:31"), territory_key("34_31"), sdmx_territory("VN"), territory_key("VN")
('34_31', '34:31', 'VN', 'VN')
>>> parse_flow_ref("GRDP_VA"), parse_flow_ref("KINHTESO_RESULTS,DE_SHARE,1.0")
(('KINHTESO', 'GRDP_VA'), ('KINHTESO_RESULTS', 'DE_SHARE'))
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from kinhteso.errors import Problem

__all__ = [
    "AGENCY", "RESULTS_AGENCY", "VERSION", "MEDIA_TYPE", "SUBMISSIONS", "RESULTS", "Structure",
    "sdmx_territory", "territory_key", "sdmx_sector", "sector_key", "parse_flow_ref", "structure_id", "schema", "write_csv",
    "is_sdmx_header", "to_long_csv", "NOT_APPLICABLE", "SDMX_COLUMN_OF", "ACCEPTED_ACTIONS",
]

AGENCY = "KINHTESO"                  #: the agency of the submission flows
RESULTS_AGENCY = "KINHTESO_RESULTS"  #: the agency of the result flows
VERSION = "1.0"
MEDIA_TYPE = "application/vnd.sdmx.data+csv;version=2.0.0"
NOT_APPLICABLE = "_Z"
#: an SDMX identifier (a code, a component or an artefact id)
_ID = re.compile(r"[A-Za-z0-9_@$\-]+")
_SAFE_KEY = re.compile(r"(34|63)_(\d{2})")
_SAFE_SECTOR = re.compile(r"(v\d{4})_([A-Z0-9]+)", re.IGNORECASE)


class Structure:
    """The data structure of one family of flows: its agency, dimensions (before TIME_PERIOD),
    attributes and what each column of a kinhteso frame is called in SDMX."""

    def __init__(self, agency: str, dimensions: tuple[str, ...], attributes: tuple[str, ...]) -> None:
        self.agency = agency
        self.dimensions = dimensions
        self.attributes = attributes

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.dimensions, "TIME_PERIOD", "OBS_VALUE", *self.attributes)


SUBMISSIONS = Structure(AGENCY, ("FREQ", "TERRITORY", "SECTOR", "PRICE_BASIS"),
                        ("UNIT_MEASURE", "OBS_STATUS", "VINTAGE", "SOURCE", "BACKCAST", "ILLUSTRATIVE"))
RESULTS = Structure(RESULTS_AGENCY, ("FREQ", "TERRITORY", "SECTOR", "PRICE_BASIS", "VIEW"),
                    ("UNIT_MEASURE", "OBS_STATUS", "RESULT_BASIS", "RUN_ID", "METHOD", "COMPUTED_AT", "ILLUSTRATIVE",
                     "OBS_CONF"))  # OBS_CONF: C a cell suppressed by the disclosure rule (docs/sharing.md), F free


# --- codes ---------------------------------------------------------------------------------------
def sdmx_territory(key: str) -> str:
    """A territory key as an SDMX code: ``VN`` stays, ``34:31`` → ``34_31``."""
    return str(key).replace(":", "_")


def sdmx_sector(key: str) -> str:
    """A sector key as an SDMX code: VSIC 2018 codes and ``_T`` stay, a VSIC 2025 key
    ``v2025:K`` → ``v2025_K`` (``:`` is not an SDMX identifier character).

    >>> sdmx_sector("v2025:K"), sdmx_sector("4651"), sector_key("v2025_K"), sector_key("_T")
    ('v2025_K', '4651', 'v2025:K', '_T')
    """
    return str(key).replace(":", "_")


def sector_key(code: str) -> str:
    """An SDMX sector code as kinhteso's key (``v2025_K`` → ``v2025:K``; others unchanged)."""
    c = str(code).strip()
    m = _SAFE_SECTOR.fullmatch(c)
    return f"{m.group(1).lower()}:{m.group(2).upper()}" if m else c


def territory_key(code: str) -> str | None:
    """An SDMX territory code as kinhteso's key (``34_31`` → ``34:31``, ``VN`` → ``VN``), or None
    when it is neither form."""
    c = str(code).strip()
    if c.upper() == "VN":
        return "VN"
    m = _SAFE_KEY.fullmatch(c)
    return f"{m.group(1)}:{m.group(2)}" if m else None


def parse_flow_ref(ref: str) -> tuple[str, str] | None:
    """``(agency, indicator)`` of a REST flowRef — ``GRDP_VA``, ``KINHTESO,GRDP_VA``,
    ``KINHTESO,GRDP_VA,1.0`` (version ``1.0``, ``latest``, ``~`` or ``*``) — or None when it is
    malformed. The agency defaults to :data:`AGENCY`; the indicator is upper-cased."""
    parts = [p.strip() for p in str(ref).split(",")]
    if len(parts) == 1:
        parts = [AGENCY, parts[0]]
    if len(parts) == 3:
        if parts[2] not in (VERSION, "1.0.0", "latest", "~", "*", "all", "+"):
            return None
        parts = parts[:2]
    if len(parts) != 2 or not all(_ID.fullmatch(p) for p in parts):
        return None
    agency = parts[0].upper()
    return (AGENCY if agency == "ALL" else agency), parts[1].upper()


def structure_id(agency: str, indicator: str) -> str:
    """``AGENCY:ID(VERSION)`` of a flow, as SDMX-CSV's STRUCTURE_ID column writes it."""
    return f"{agency}:{indicator}({VERSION})"


# --- writing -------------------------------------------------------------------------------------
def schema(structure: Structure, indicator: str, *, name: str | None = None):
    """The pysdmx :class:`~pysdmx.model.Schema` of one flow (the data structure pysdmx writes from)."""
    from pysdmx.model import Component, Components, Concept, DataType, Role, Schema  # noqa: PLC0415

    def comp(cid: str, role, dtype=DataType.STRING) -> Component:
        return Component(id=cid, required=role != Role.ATTRIBUTE, role=role, concept=Concept(id=cid, dtype=dtype),
                         attachment_level="O" if role == Role.ATTRIBUTE else None)

    comps = [comp(d, Role.DIMENSION) for d in (*structure.dimensions, "TIME_PERIOD")]
    comps.append(comp("OBS_VALUE", Role.MEASURE, DataType.DOUBLE))
    comps += [comp(a, Role.ATTRIBUTE) for a in structure.attributes]
    return Schema(context="dataflow", agency=structure.agency, id=indicator, version=VERSION,
                  components=Components(comps), name=name)


def write_csv(structure: Structure, indicator: str, frame: pd.DataFrame) -> str:
    """SDMX-CSV 2.0 text of ``frame`` (columns :attr:`Structure.columns`), written by pysdmx;
    text cells are neutralised against formula injection (:func:`kinhteso.safe_io.safe_cell`)."""
    import pandas as pd  # noqa: PLC0415
    from pysdmx.io.csv.sdmx20.writer import write  # noqa: PLC0415
    from pysdmx.io.pd import PandasDataset  # noqa: PLC0415
    from pysdmx.model.dataset import ActionType  # noqa: PLC0415

    from kinhteso.safe_io import safe_cell  # noqa: PLC0415

    data = frame.reindex(columns=list(structure.columns)).copy()
    for col in data.columns:
        if col != "OBS_VALUE":
            data[col] = data[col].astype(object).map(lambda v: "" if v is None or v is pd.NA or v != v else
                                                     safe_cell(str(v)))
    data["OBS_VALUE"] = pd.to_numeric(data["OBS_VALUE"]).astype("float64")
    ds = PandasDataset(structure=schema(structure, indicator), data=data.reset_index(drop=True),
                       action=ActionType.Information)
    return write([ds]) or ""


# --- reading (ingestion) ---------------------------------------------------------------------------
#: SDMX-CSV column → the long layout's column (None: accepted and not stored)
_READ_COLUMNS: dict[str, str | None] = {
    "TERRITORY": "territory", "SECTOR": "sector", "PRICE_BASIS": "price_basis", "TIME_PERIOD": "period",
    "OBS_VALUE": "value", "UNIT_MEASURE": "unit", "OBS_STATUS": "status",
    "STRUCTURE_NAME": None, "SERIES_KEY": None, "OBS_KEY": None, "FREQ": None, "VINTAGE": None, "SOURCE": None,
    "BACKCAST": None, "ILLUSTRATIVE": None, "NOTE": "note",
}
#: the long layout's column → the SDMX-CSV column it comes from (to name it in a problem)
SDMX_COLUMN_OF = {v: k for k, v in _READ_COLUMNS.items() if v} | {"indicator": "STRUCTURE_ID", "basis": "TERRITORY"}
_REQUIRED = ("TERRITORY", "SECTOR", "TIME_PERIOD", "OBS_VALUE", "UNIT_MEASURE")
_LONG = ("indicator", "territory", "basis", "sector", "period", "value", "unit", "price_basis", "status", "note")
_STRUCTURE_HEAD = re.compile(r"^\ufeff?STRUCTURE(\[.?\])?$")
_STRUCTURE_ID = re.compile(r"^(?:(?P<agency>[A-Za-z0-9_@$\-.]+):)?(?P<id>[A-Za-z0-9_@$\-]+)(?:\((?P<version>[^)]*)\))?$")
#: actions stored as a new vintage (the latest vintage of a key wins, so Replace is Append)
ACCEPTED_ACTIONS = ("I", "A", "M", "R")


def is_sdmx_header(cells: Sequence[str]) -> bool:
    """Whether a header row is SDMX-CSV's (``STRUCTURE[,…],STRUCTURE_ID,…``)."""
    return len(cells) >= 2 and bool(_STRUCTURE_HEAD.match(cells[0].strip())) and \
        _label_free(cells[1]) == "STRUCTURE_ID"


def _label_free(text: str) -> str:
    """``ID: Name`` (SDMX-CSV's ``labels=both``) → ``ID``."""
    return text.split(": ", 1)[0].strip()


def to_long_csv(src: Path, dst: Path, *, delimiter: str, name: str) -> tuple[int, list[Problem]]:
    """Convert the SDMX-CSV 2.0 file ``src`` into kinhteso's long layout at ``dst`` (UTF-8, comma,
    a leading ``_row`` column holding each record's row in ``src``, the header being row 1).

    Returns (rows written, problems). SDMX-level problems (a header without the SDMX columns
    kinhteso needs, a STRUCTURE that is not a submission flow, a ``D`` action, a territory code
    that is not SDMX-safe) are returned with their rows, and those rows are left out of ``dst``;
    the rest is validated afterwards as any submission. Raises ``UnicodeDecodeError`` for a file
    that is not UTF-8 (the caller names the byte)."""
    from kinhteso.errors import InputRejected  # noqa: PLC0415
    from kinhteso.ingest.rules import problem  # noqa: PLC0415

    problems: list[Problem] = []
    written = 0
    with open(src, newline="", encoding="utf-8-sig") as fh, open(dst, "w", newline="", encoding="utf-8") as out:
        reader = csv.reader(fh, delimiter=delimiter)
        header = next(reader, [])
        cols = [_label_free(c) for c in header]
        cols[0] = "STRUCTURE"
        index: dict[str, int] = {}
        bad_header = []
        for i, c in enumerate(cols):
            if c in index:
                bad_header.append(problem("DUPLICATE_COLUMN", file=name, row=1, column=header[i], name=header[i]))
            index[c] = i
        # the result flows' own columns are let through the header, so that a results export is
        # refused row by row for what it is (SDMX_STRUCTURE), not for its columns
        allowed = {"STRUCTURE", "STRUCTURE_ID", "ACTION", *_READ_COLUMNS, *_REQUIRED, *RESULTS.dimensions,
                   *RESULTS.attributes}
        expected = ", ".join(("STRUCTURE", "STRUCTURE_ID", "ACTION", *SUBMISSIONS.dimensions, "TIME_PERIOD",
                              "OBS_VALUE", *SUBMISSIONS.attributes))
        for c in _REQUIRED:
            if c not in index:
                bad_header.append(problem("MISSING_COLUMN", file=name, row=1, column=c, name=c, expected=expected))
        for i, c in enumerate(cols):
            if c not in allowed:
                bad_header.append(problem("UNKNOWN_COLUMN", file=name, row=1, column=header[i], name=header[i],
                                          expected=expected))
        if bad_header:
            raise InputRejected(bad_header, file=name)
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["_row", *_LONG])

        def cell(row: list[str], col: str, coded: bool = True) -> str:
            i = index.get(col)
            v = row[i] if i is not None and i < len(row) else ""
            return _label_free(v) if coded else v

        flows: dict[tuple[str, str], tuple[str | None, tuple[str, str] | None]] = {}
        for n, row in enumerate(reader, start=2):
            if not any(c.strip() for c in row):
                continue
            sid = cell(row, "STRUCTURE_ID", coded=False).strip()
            kind = cell(row, "STRUCTURE").strip().lower()
            key = (kind, sid)
            if key not in flows:
                flows[key] = _flow_of(kind, sid)
            indicator, bad = flows[key]
            if bad is not None:
                problems.append(problem("SDMX_STRUCTURE", file=name, row=n, column="STRUCTURE_ID", value=sid,
                                        detail_vi=bad[0], detail_en=bad[1]))
                continue
            action = cell(row, "ACTION").strip().upper() or "I"
            if action not in ACCEPTED_ACTIONS:
                problems.append(problem("SDMX_ACTION", file=name, row=n, column="ACTION", value=action))
                continue
            raw_t = cell(row, "TERRITORY").strip()
            tkey = territory_key(raw_t) if raw_t else None
            if tkey is None and ":" in raw_t:
                tkey = raw_t  # kinhteso's own key (34:31), as a person may write it
            if tkey is None:
                problems.append(problem("UNKNOWN_TERRITORY", file=name, row=n, column="TERRITORY", value=raw_t,
                                        basis="34/63",
                                        hint_vi="; trong SDMX-CSV ghi VN hoặc CƠSỞ_MÃ, ví dụ 34_31 (Hải Phòng, 34 tỉnh)",
                                        hint_en="; in SDMX-CSV write VN or BASIS_CODE, e.g. 34_31 (Hải Phòng, 34 basis)"))
                continue
            basis = "" if tkey == "VN" else tkey.split(":", 1)[0]
            w.writerow([n, indicator, tkey, basis, sector_key(cell(row, "SECTOR")), cell(row, "TIME_PERIOD"),
                        cell(row, "OBS_VALUE", coded=False), cell(row, "UNIT_MEASURE"),
                        cell(row, "PRICE_BASIS"), cell(row, "OBS_STATUS"), cell(row, "NOTE", coded=False)])
            written += 1
    return written, problems


def _flow_of(kind: str, sid: str) -> tuple[str | None, tuple[str, str] | None]:
    """The indicator of a row's STRUCTURE and STRUCTURE_ID, or what is wrong with them (vi, en)."""
    m = _STRUCTURE_ID.match(_label_free(sid))
    if kind not in ("dataflow", "datastructure", "dataprovision") or m is None:
        return None, ("cột STRUCTURE phải là dataflow và STRUCTURE_ID có dạng KINHTESO:MÃ_CHỈ_TIÊU(1.0)",
                      "STRUCTURE must be dataflow and STRUCTURE_ID of the form KINHTESO:INDICATOR(1.0)")
    agency = (m.group("agency") or AGENCY).upper()
    if agency == RESULTS_AGENCY:
        return None, ("đây là kết quả do kinhteso tính, không phải số liệu gửi lên; kết quả không bao giờ được "
                      "nạp thành số liệu gửi",
                      "these are results kinhteso computed, not a submission; results are never stored as "
                      "submissions")
    return m.group("id").upper(), None
