"""The VSIC code lists and the 2018 → 2025 correspondence: ``kinhteso vsic``.

>>> r = vsic_codes(VsicRequest(version=2025, level="section"))
>>> len(r.frame), r.frame.code.iloc[-1]
(22, 'V')
>>> m = vsic_codes(VsicRequest(mapping="2018:2025", code="6312"))
>>> m.frame[["code_2018", "code_2025", "weight"]].values.tolist()
[['6312', '6390', 1.0], ['6312', '6039', 0.0]]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kinhteso.errors import UsageError

__all__ = ["VsicRequest", "VsicResult", "vsic_codes", "LEVEL_NAMES", "MAPPINGS"]

#: The levels ``--level`` takes.
LEVEL_NAMES = ("section", "division", "group", "class")
#: The correspondences ``--map`` shows.
MAPPINGS = ("2018:2025",)


@dataclass(frozen=True)
class VsicRequest:
    """A code list (``version``, optionally one ``level``, optionally under or at ``code``) or,
    with ``mapping`` (``"2018:2025"``), the correspondence (optionally of one 2018 ``code`` and
    its descendants); ``override``: a workspace's ``vsic2018_2025.csv`` (used when it exists)."""

    version: int = 2018
    level: str | None = None
    mapping: str | None = None
    code: str | None = None
    override: Path | None = None


@dataclass
class VsicResult:
    kind: str                 #: "list" or "map"
    version: int | None       #: the list's version (None for a map)
    frame: pd.DataFrame
    notes: list[tuple[str, str]] = field(default_factory=list)  #: (vi, en)


def vsic_codes(req: VsicRequest) -> VsicResult:
    """The list or the correspondence the request asks for (see :class:`VsicRequest`)."""
    from kinhteso.reference import vsic  # noqa: PLC0415

    if req.level is not None and req.level not in LEVEL_NAMES:
        raise UsageError("BAD_VSIC_LEVEL", f"Cấp '{req.level}' không có; dùng {', '.join(LEVEL_NAMES)}.",
                         f"Unknown level '{req.level}'; use {', '.join(LEVEL_NAMES)}.")
    if req.mapping is not None:
        if req.mapping not in MAPPINGS:
            raise UsageError("BAD_VSIC_MAP", f"Bảng chuyển đổi '{req.mapping}' không có; dùng {', '.join(MAPPINGS)}.",
                             f"Unknown correspondence '{req.mapping}'; use {', '.join(MAPPINGS)}.")
        corr = vsic.correspondence(req.override)
        corr = corr[corr.code_2018 != vsic.TOTAL]
        if req.code:
            root = vsic.get_sector(req.code, 2018).code
            codes = {root} | {s.code for s in vsic.sectors(2018) if root in vsic.ancestors(s.code, 2018)}
            corr = corr[corr.code_2018.isin(codes)]
        if req.level:
            levels = {s.code: s.level for s in vsic.sectors(2018)}
            corr = corr[corr.code_2018.map(levels) == req.level]
        notes = [("Bảng chuyển đổi do kinhteso lập từ thay đổi ISIC Rev.4 → Rev.5 (chưa có bảng chính thức của "
                  "Quyết định 36/2025/QĐ-TTg); trọng số 0 là phần tách chưa có số liệu.",
                  "A correspondence built by kinhteso from the ISIC Rev.4 → Rev.5 changes (the official table of "
                  "Decision 36/2025/QĐ-TTg is not available); weight 0 marks a split part without data.")]
        if req.override is not None and Path(req.override).exists():
            notes.append((f"Trọng số của không gian làm việc: {req.override}.",
                          f"The workspace's weights: {req.override}."))
        return VsicResult("map", None, corr.reset_index(drop=True), notes)
    version = vsic.parse_version(req.version)
    df = vsic.sector_table(version)
    df = df[df.level != "total"]
    if req.code:
        root = vsic.get_sector(req.code, version).code
        df = df[(df.code == root) | df.code.map(lambda c: root in vsic.ancestors(c, version))]
    if req.level:
        df = df[df.level == req.level]
    df = df.assign(key=[vsic.key(c, version) for c in df.code])
    notes = []
    if version == 2025:
        notes.append(("Tên tiếng Việt có name_vi_source = kinhteso là bản dịch tạm của kinhteso từ ISIC Rev.5, chờ "
                      "văn bản Phụ lục I Quyết định 36/2025/QĐ-TTg.",
                      "Vietnamese names with name_vi_source = kinhteso are kinhteso's provisional translations of "
                      "ISIC Rev.5, pending the text of Decision 36/2025/QĐ-TTg Annex I."))
    return VsicResult("list", version, df.reset_index(drop=True), notes)
