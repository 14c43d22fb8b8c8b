"""Who is calling and what they may do: members, their grants, their tokens.

A request carries ``Authorization: Bearer TOKEN``. :func:`current_member` resolves it to a
:class:`Member` (``None`` for an anonymous request); :func:`authorize` checks a member's grants
for an action on indicators and territories, raising 401 (no or a bad token) or 403 (a grant
that does not cover the request), in Vietnamese and English.

Roles: ``submitter`` (submit the granted indicators and territories), ``reader`` (read
submissions and results where granted), ``admin`` (everything). Published results (the
official figures) are open to all unless the server runs ``--private``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from kinhteso.errors import KinhtesoError

__all__ = ["Member", "Grant", "current_member", "authorize", "ApiAuthError", "ROLES", "ACTIONS"]

ROLES = ("submitter", "reader", "admin")
#: action → the roles that may do it (within their grant's indicators and territories)
ACTIONS = {"submit": ("submitter", "admin"), "read": ("reader", "admin"), "admin": ("admin",)}


class ApiAuthError(KinhtesoError):
    """Authentication (401) or authorisation (403) refused."""

    def __init__(self, status: int, code: str, vi: str, en: str, **context) -> None:
        super().__init__(code, vi, en, **context)
        self.status = status


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


def current_member(request: Request) -> Member | None:
    """The member whose token the request carries (None when it carries none).

    Placeholder until members, grants and tokens are stored: every request is anonymous."""
    return None


def authorize(member: Member | None, action: str, *, indicators=(), territories=(), public: bool = False,
              private_server: bool = False) -> None:
    """Raise :class:`ApiAuthError` unless ``member`` may do ``action`` on these indicators and
    territories. ``public``: an official figure, open to all unless the server is private.

    Placeholder until grants are stored: everything is allowed."""
    return None
