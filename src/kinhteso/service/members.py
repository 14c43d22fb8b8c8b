"""Members of the exchange (the agencies that call the HTTP API), their grants and tokens.

A member has a code, a name and a kind (``statistics``, ``tax``, ``customs``...). A grant gives
it a role (:data:`ROLES`) on indicators and territories, ``*`` for all: indicators are checked
against the registry, territories against the reference data and stored as keys (``34:31``,
``VN``; a code or a name resolves as :func:`kinhteso.service.figures.figure` resolves it, the
34-province basis first). A token is shown once, when it is created, and stored only as its
SHA-256; revoking a member or its tokens stops them working at once.

>>> MemberAddRequest("HP_TAX", "Cục Thuế Hải Phòng", "tax").kind
'tax'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kinhteso.errors import UsageError
from kinhteso.workspace import Workspace

__all__ = [
    "KINDS",
    "ROLES",
    "GrantRequest",
    "GrantResult",
    "MemberAddRequest",
    "MemberInfo",
    "TokenCreateRequest",
    "TokenCreated",
    "TokenRevokeRequest",
    "TokenRevokeResult",
    "add_member",
    "check_code",
    "create_token",
    "grant",
    "grant_territory_key",
    "list_members",
    "revoke_member",
    "revoke_tokens",
]

#: what kind of body a member is
KINDS = ("statistics", "tax", "customs", "port", "transport", "enterprise", "ministry", "province", "health", "education",
         "construction", "environment")
#: the roles a grant gives (see kinhteso.api.auth.ACTIONS for what each may do)
ROLES = ("submitter", "reader", "admin")

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_FORMULA = ("=", "+", "-", "@")


# --- checks ----------------------------------------------------------------------------------------
def check_code(code: str) -> str:
    """A member code: letters, digits, ``_ . -``, at most 64, starting with a letter or digit."""
    text = str(code).strip()
    if not _CODE.match(text):
        raise UsageError("BAD_MEMBER_CODE",
                         f"Mã thành viên '{code}' không hợp lệ: chỉ dùng chữ cái, chữ số và _ . - (tối đa 64 ký tự, "
                         "bắt đầu bằng chữ cái hoặc chữ số), ví dụ HP_TAX.",
                         f"Member code '{code}' is not valid: use letters, digits and _ . - (at most 64, starting "
                         "with a letter or a digit), for example HP_TAX.", member=str(code))
    return text


def _check_name(name: str) -> str:
    text = str(name).strip()
    if not text or len(text) > 200 or any(ord(c) < 32 or ord(c) == 127 for c in text) or text.startswith(_FORMULA):
        raise UsageError("BAD_MEMBER_NAME",
                         "Tên thành viên phải có 1–200 ký tự, không có ký tự điều khiển (xuống dòng...) và không bắt "
                         "đầu bằng = + - @.",
                         "A member's name has 1–200 characters, no control characters (line breaks...) and does "
                         "not start with = + - @.")
    return text


def _check_choice(value: str, choices: tuple[str, ...], code: str, what_vi: str, what_en: str) -> str:
    v = str(value).strip().lower()
    if v not in choices:
        raise UsageError(code, f"{what_vi} '{value}' không hợp lệ; dùng một trong: {', '.join(choices)}.",
                         f"{what_en} '{value}' is not valid; use one of: {', '.join(choices)}.")
    return v


def _member(ws: Workspace, code: str) -> dict:
    rec = ws.store.member(str(code).strip())
    if rec is None:
        raise UsageError("UNKNOWN_MEMBER",
                         f"Không có thành viên '{code}' (xem `kinhteso member list`; thêm bằng `kinhteso member add`).",
                         f"There is no member '{code}' (see `kinhteso member list`; add one with `kinhteso member add`).",
                         member=str(code))
    return rec


def _split(values) -> list[str]:
    """A comma-separated text or a list of texts as a list of non-empty items."""
    if values is None:
        return ["*"]
    items = values.split(",") if isinstance(values, str) else [x for v in values for x in str(v).split(",")]
    out = [x.strip() for x in items if x.strip()]
    return out or ["*"]


def grant_territory_key(text: str) -> str | None:
    """The territory key a grant or a request names by ``text`` (a key, a code or a name; the
    34-province basis first, as the official-figure rule resolves it), or None when unknown."""
    from kinhteso.reference.territories import find_territories  # noqa: PLC0415

    t = str(text).strip()
    if re.fullmatch(r"(34|63)_\d{2}", t):  # an SDMX-safe key
        t = t.replace("_", ":")
    found = find_territories(t, None) if t and len(t) <= 100 else ()
    return found[0] if found else None


# --- members ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MemberAddRequest:
    code: str
    name: str
    kind: str = "statistics"


@dataclass
class MemberInfo:
    code: str
    name: str
    kind: str
    created_at: object = None
    revoked_at: object = None
    grants: list[dict] = field(default_factory=list)
    tokens: int = 0

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "kind": self.kind, "created_at": self.created_at,
                "revoked_at": self.revoked_at, "tokens": self.tokens, "grants": self.grants}


def add_member(ws: Workspace, req: MemberAddRequest) -> MemberInfo:
    """Add a member; a code taken already is ``DUPLICATE_MEMBER`` and nothing changes."""
    code = check_code(req.code)
    name = _check_name(req.name)
    kind = _check_choice(req.kind, KINDS, "BAD_MEMBER_KIND", "Loại thành viên", "Member kind")
    if not ws.store.add_member(code, name, kind):
        raise UsageError("DUPLICATE_MEMBER", f"Đã có thành viên mã '{code}'; không thay đổi gì.",
                         f"A member with code '{code}' exists already; nothing changed.", member=code)
    rec = ws.store.member(code)
    return MemberInfo(code, name, kind, created_at=rec["created_at"])


def _grant_dicts(frame) -> list[dict]:
    return [{"grant_id": int(r.grant_id), "role": r.role, "indicators": r.indicators.split(","),
             "territories": r.territories.split(",")} for r in frame.itertuples()]


def list_members(ws: Workspace) -> list[MemberInfo]:
    """Every member with its standing grants and how many tokens it has, by code."""
    members = ws.store.members()
    grants = ws.store.grants()
    out = []
    for m in members.itertuples():
        revoked = None if m.revoked_at is None or m.revoked_at != m.revoked_at else m.revoked_at
        out.append(MemberInfo(m.code, m.name, m.kind, created_at=m.created_at, revoked_at=revoked,
                              grants=_grant_dicts(grants[grants.member == m.code]), tokens=int(m.tokens)))
    return out


def revoke_member(ws: Workspace, code: str) -> bool:
    """Revoke a member: its tokens stop working at once. False when it was revoked already."""
    rec = _member(ws, code)
    return ws.store.revoke_member(rec["code"])


# --- grants ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GrantRequest:
    member: str
    role: str
    indicators: tuple[str, ...] | str | None = None     #: None or ``*``: all
    territories: tuple[str, ...] | str | None = None    #: None or ``*``: all; codes, keys or names


@dataclass
class GrantResult:
    grant_id: int
    member: str
    role: str
    indicators: tuple[str, ...]
    territories: tuple[str, ...]


def _records_item(item: str) -> bool:
    """Whether a grant item names a dataset's records (``RECORDS:CONTAINER_EVENTS``: another
    member's records of that dataset may be read; see kinhteso.service.sharing)."""
    from kinhteso.reference.datasets import datasets  # noqa: PLC0415

    head, _, code = item.partition(":")
    return head == "RECORDS" and code.lower() in datasets()


def grant(ws: Workspace, req: GrantRequest) -> GrantResult:
    """Give a member a role on indicators and territories (an item ``records:<dataset>`` names
    that dataset's records, for a reader: see kinhteso.service.sharing). Unknown indicators
    (``UNKNOWN_INDICATOR``) or territories (``UNKNOWN_TERRITORY``) refuse the grant whole."""
    rec = _member(ws, req.member)
    role = _check_choice(req.role, ROLES, "BAD_ROLE", "Vai trò", "Role")
    indicators = _split(req.indicators)
    if "*" in indicators:
        indicators = ["*"]
    else:
        known = ws.indicators()
        indicators = sorted({i.upper() for i in indicators})
        bad = [i for i in indicators if i not in known and not _records_item(i)]
        if bad:
            raise UsageError("UNKNOWN_INDICATOR",
                             f"Chỉ tiêu không có trong danh mục: {', '.join(bad)}. Có: {', '.join(sorted(known))}. "
                             "Không cấp quyền nào.",
                             f"Indicators not in the registry: {', '.join(bad)}. Known: {', '.join(sorted(known))}. "
                             "Nothing was granted.", indicators=bad)
    territories = _split(req.territories)
    if "*" in territories:
        territories = ["*"]
    else:
        keys, bad = [], []
        for t in territories:
            k = grant_territory_key(t)
            (bad.append(t) if k is None else keys.append(k))
        if bad:
            raise UsageError("UNKNOWN_TERRITORY",
                             f"Không nhận ra địa bàn: {', '.join(bad)}. Dùng khóa như 34:31, 63:30, VN hoặc tên tỉnh; "
                             "không cấp quyền nào.",
                             f"Unknown territories: {', '.join(bad)}. Use a key such as 34:31, 63:30, VN, or a "
                             "province name; nothing was granted.", territories=bad)
        territories = sorted(set(keys))
    gid = ws.store.add_grant(rec["code"], role, indicators, territories)
    return GrantResult(gid, rec["code"], role, tuple(indicators), tuple(territories))


# --- tokens ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TokenCreateRequest:
    member: str


@dataclass
class TokenCreated:
    member: str
    token: str   #: shown this once; the store keeps only its SHA-256

    def as_dict(self) -> dict:
        return {"member": self.member, "token": self.token}


def create_token(ws: Workspace, req: TokenCreateRequest) -> TokenCreated:
    """A new token for a member (``MEMBER_REVOKED`` for a revoked one)."""
    rec = _member(ws, req.member)
    if rec.get("revoked_at") is not None and rec["revoked_at"] == rec["revoked_at"]:
        raise UsageError("MEMBER_REVOKED", f"Thành viên '{rec['code']}' đã bị thu hồi; không tạo mã truy cập.",
                         f"Member '{rec['code']}' is revoked; no token was created.", member=rec["code"])
    return TokenCreated(rec["code"], ws.store.create_token(rec["code"]))


@dataclass(frozen=True)
class TokenRevokeRequest:
    member: str | None = None
    token: str | None = None


@dataclass
class TokenRevokeResult:
    revoked: int
    members: tuple[str, ...]


def revoke_tokens(ws: Workspace, req: TokenRevokeRequest) -> TokenRevokeResult:
    """Revoke every token of a member, or one token; ``UNKNOWN_TOKEN`` for a token not standing."""
    from kinhteso.store import token_sha256  # noqa: PLC0415

    if (req.member is None) == (req.token is None):
        raise UsageError("TOKEN_REVOKE_TARGET", "Cần đúng một trong --member hoặc --token.",
                         "Give exactly one of --member or --token.")
    if req.member is not None:
        rec = _member(ws, req.member)
        revoked = ws.store.revoke_tokens(member=rec["code"])
        return TokenRevokeResult(len(revoked), (rec["code"],))
    revoked = ws.store.revoke_tokens(token_sha=token_sha256(str(req.token).strip()))
    if not revoked:
        raise UsageError("UNKNOWN_TOKEN", "Không có mã truy cập này (hoặc nó đã bị thu hồi); không thay đổi gì.",
                         "There is no such token (or it was revoked already); nothing changed.")
    return TokenRevokeResult(len(revoked), tuple(revoked))
