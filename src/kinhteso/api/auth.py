"""Who is calling and what they may do: members, their grants, their tokens.

A request carries ``Authorization: Bearer TOKEN``. :func:`current_member` resolves it to a
:class:`Member` (``None`` for an anonymous request); :func:`authorize` checks a member's grants
for an action on indicators and territories, raising 401 (no or a bad token) or 403 (a grant
that does not cover the request), in Vietnamese and English.

Roles: ``submitter`` (submit the granted indicators and territories), ``reader`` (read
submissions and results where granted), ``admin`` (everything, within its grant). Published
results (the official figures) are open to all unless the server runs ``--private``.

Tokens are stored only as their SHA-256 (:func:`kinhteso.store.token_sha256`); a revoked
token, or any token of a revoked member, is refused at once (the grants and tokens are read
from the store on every request). Grants name territories by key (``34:31``, ``VN``); what a
request names (a key, a code, a name, an SDMX-safe ``34_31``) is resolved to its key before it
is checked (:func:`kinhteso.service.members.grant_territory_key`). A request that touches
several indicators and territories is allowed when every (indicator, territory) pair is covered
by some grant of a role the action allows.

>>> g = Grant("reader", ("GRDP_VA",), ("34:31",))
>>> g.covers(["GRDP_VA"], ["34:31"]), g.covers(["PORT_TEU"], ["34:31"])
(True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import product

from fastapi import Request

from kinhteso.errors import KinhtesoError

__all__ = [
    "ACTIONS",
    "ROLES",
    "ApiAuthError",
    "require_member",
    "ForbiddenError",
    "Grant",
    "Member",
    "UnauthenticatedError",
    "authorize",
    "current_member",
    "member_from_token",
]

ROLES = ("submitter", "reader", "admin")
#: action → the roles that may do it (within their grant's indicators and territories)
ACTIONS = {"submit": ("submitter", "admin"), "read": ("reader", "admin"), "admin": ("admin",)}
_ACTION_WORDS = {"submit": ("gửi số liệu", "submit"), "read": ("đọc", "read"), "admin": ("quản trị", "administer")}
#: what a bearer token may look like (``kts_`` + URL-safe base64 from ``kinhteso token create``)
_TOKEN = re.compile(r"^[A-Za-z0-9._~+/=\-]{8,512}$")


class ApiAuthError(KinhtesoError):
    """Authentication (401) or authorisation (403) refused."""

    def __init__(self, status: int, code: str, vi: str, en: str, **context) -> None:
        super().__init__(code, vi, en, **context)
        self.status = status
        #: headers of the response (``WWW-Authenticate`` on a 401)
        self.headers = {"WWW-Authenticate": 'Bearer realm="kinhteso"'} if status == 401 else {}


class UnauthenticatedError(ApiAuthError):
    """401: no token, a malformed ``Authorization`` header, or an unknown or revoked token."""

    def __init__(self, code: str, vi: str, en: str, **context) -> None:
        super().__init__(401, code, vi, en, **context)


class ForbiddenError(ApiAuthError):
    """403: the member's grants do not cover what the request touches."""

    def __init__(self, code: str, vi: str, en: str, **context) -> None:
        super().__init__(403, code, vi, en, **context)


@dataclass(frozen=True)
class Grant:
    role: str
    indicators: tuple[str, ...] = ("*",)
    territories: tuple[str, ...] = ("*",)

    def covers(self, indicators, territories) -> bool:
        ok_i = "*" in self.indicators or all(i in self.indicators for i in indicators)
        ok_t = "*" in self.territories or all(t in self.territories for t in territories)
        return ok_i and ok_t


@dataclass(frozen=True)
class Member:
    code: str
    name: str = ""
    kind: str = ""
    grants: tuple[Grant, ...] = field(default_factory=tuple)


def member_from_token(store, token: str) -> Member | None:
    """The member a token belongs to, with its standing grants (None: unknown or revoked)."""
    from kinhteso.store import token_sha256  # noqa: PLC0415

    found = store.member_by_token(token_sha256(token))
    if found is None:
        return None
    (code, name, kind), grants = found
    return Member(code, name, kind, tuple(Grant(role, tuple(inds.split(",")), tuple(terrs.split(",")))
                                          for role, inds, terrs in grants))


async def current_member(request: Request) -> Member | None:
    """The member whose token the request carries (None when it carries none). A malformed
    ``Authorization`` header, or an unknown or revoked token, is 401 ``UNAUTHENTICATED``.
    The member's code is left in ``request.state.member`` (for the exchange log).

    A coroutine, run on the event loop rather than in a worker thread: a server answers it from
    memory (the store remembers a token's member until its next write), and the rare look-up
    after a write is one indexed query of a small table."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    parts = header.strip().split(" ")
    if len(parts) != 2 or parts[0].lower() != "bearer" or not _TOKEN.match(parts[1]):
        raise UnauthenticatedError(
            "UNAUTHENTICATED",
            "Tiêu đề Authorization không đúng dạng: cần 'Authorization: Bearer <mã truy cập>' "
            "(mã tạo bằng `kinhteso token create`).",
            "Malformed Authorization header: expected 'Authorization: Bearer <token>' "
            "(a token from `kinhteso token create`).")
    member = member_from_token(request.app.state.ws.store, parts[1])
    if member is None:
        raise UnauthenticatedError(
            "UNAUTHENTICATED",
            "Mã truy cập không hợp lệ hoặc đã bị thu hồi (hoặc thành viên của nó đã bị thu hồi).",
            "The token is unknown or revoked (or its member is revoked).")
    request.state.member = member.code
    return member


def _territory_keys(territories) -> list[str]:
    from kinhteso.service.members import grant_territory_key  # noqa: PLC0415

    out = []
    for t in territories:
        if t is None or str(t).strip() == "":
            continue
        out.append(grant_territory_key(str(t)) or str(t).strip())
    return sorted(set(out))


def require_member(member: Member | None) -> Member:
    """The member, or 401 ``UNAUTHENTICATED`` when the request carries no token."""
    if member is None:
        raise UnauthenticatedError(
            "UNAUTHENTICATED",
            "Cần mã truy cập: gửi tiêu đề 'Authorization: Bearer <mã truy cập>' (mã tạo bằng `kinhteso token create`).",
            "A token is needed: send the header 'Authorization: Bearer <token>' (a token from "
            "`kinhteso token create`).")
    return member


def authorize(member: Member | None, action: str, *, indicators=(), territories=(), public: bool = False,
              private_server: bool = False) -> None:
    """Raise :class:`ApiAuthError` unless ``member`` may do ``action`` on these indicators and
    territories. ``public``: an official figure, open to all (anonymous callers too) unless the
    server is private; then, as every other request, it needs a grant.

    - no member: 401 ``UNAUTHENTICATED``;
    - no grant of a role the action allows (:data:`ACTIONS`), or grants that leave some
      (indicator, territory) pair uncovered: 403 ``FORBIDDEN``, naming what is not covered.
    """
    if action == "public":
        action, public = "read", True
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; use one of {sorted(ACTIONS)}")
    if public and not private_server:
        return
    member = require_member(member)
    roles = ACTIONS[action]
    verb_vi, verb_en = _ACTION_WORDS[action]
    grants = [g for g in member.grants if g.role in roles]
    if not grants:
        raise ForbiddenError(
            "FORBIDDEN",
            f"Thành viên '{member.code}' không có quyền {verb_vi}: cần quyền {' hoặc '.join(roles)} "
            "(cấp bằng `kinhteso grant`).",
            f"Member '{member.code}' may not {verb_en}: that needs a {' or '.join(roles)} grant "
            "(given with `kinhteso grant`).", member=member.code, action=action)
    inds = sorted({str(i).strip().upper() for i in indicators if i is not None and str(i).strip()})
    terrs = _territory_keys(territories)

    def covered(i: str | None, t: str | None) -> bool:
        return any((i is None or "*" in g.indicators or i in g.indicators)
                   and (t is None or "*" in g.territories or t in g.territories) for g in grants)

    missing = [(i, t) for i, t in product(inds or [None], terrs or [None]) if not covered(i, t)]
    if not missing:
        return
    shown = ", ".join("/".join(x for x in pair if x) for pair in missing[:10]) + (" …" if len(missing) > 10 else "")
    bad_i = sorted({i for i, _ in missing if i is not None})
    bad_t = sorted({t for _, t in missing if t is not None})
    raise ForbiddenError(
        "FORBIDDEN",
        f"Quyền của thành viên '{member.code}' không cho phép {verb_vi} {shown} "
        f"(chỉ tiêu: {', '.join(bad_i) or '-'}; địa bàn: {', '.join(bad_t) or '-'}).",
        f"Member '{member.code}' has no grant to {verb_en} {shown} "
        f"(indicators: {', '.join(bad_i) or '-'}; territories: {', '.join(bad_t) or '-'}).",
        member=member.code, action=action, indicators=bad_i, territories=bad_t)
