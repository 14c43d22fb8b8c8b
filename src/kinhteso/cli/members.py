"""``kinhteso member``, ``grant``, ``token``: who may call the HTTP API, and what they may do."""

from __future__ import annotations

from pathlib import Path

import click

from kinhteso.cli._common import output_options, render_frame, to_json, workspace_option
from kinhteso.i18n import tr

#: kept here (not imported from the service) so that importing the CLI loads nothing heavy
_KINDS = ("statistics", "tax", "customs", "port", "transport", "enterprise", "ministry", "province")
_ROLES = ("submitter", "reader", "admin")


@click.group("member")
def member_group() -> None:
    """Thành viên trao đổi dữ liệu / members: the agencies that call the HTTP API."""


@member_group.command("add")
@click.option("--code", required=True, help="Mã thành viên / member code (letters, digits, _ . -), e.g. HP_TAX.")
@click.option("--name", required=True, help="Tên / name, e.g. 'Cục Thuế Hải Phòng'.")
@click.option("--kind", type=click.Choice(_KINDS), default="statistics", show_default=True,
              help="Loại cơ quan / kind of body.")
@workspace_option
def member_add(code: str, name: str, kind: str, workspace: Path) -> None:
    """Thêm thành viên / add a member (no grant, no token yet: see `grant`, `token create`).

    A code taken already is DUPLICATE_MEMBER (exit 2) and nothing changes."""
    from kinhteso.service.members import MemberAddRequest, add_member  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    with Workspace.open(workspace) as ws:
        m = add_member(ws, MemberAddRequest(code=code, name=name, kind=kind))
    click.echo(tr(f"✓ Đã thêm thành viên {m.code} ({m.name}, {m.kind}). Cấp quyền: `kinhteso grant --member {m.code} ...`.",
                  f"✓ Added member {m.code} ({m.name}, {m.kind}). Grant it rights: `kinhteso grant --member {m.code} ...`."))


@member_group.command("list")
@output_options("table", "json")
@workspace_option
def member_list(fmt: str, workspace: Path) -> None:
    """Các thành viên, quyền và số mã truy cập / members, their grants and how many tokens."""
    from kinhteso.service.members import list_members  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    with Workspace.open(workspace) as ws:
        members = list_members(ws)
    if fmt == "json":
        click.echo(to_json([m.as_dict() for m in members]))
        return
    if fmt == "xlsx":
        import pandas as pd  # noqa: PLC0415

        click.echo(render_frame(pd.DataFrame([m.as_dict() for m in members]), fmt, sheet=tr("thanh_vien", "members")))
        return
    if not members:
        click.echo(tr("(chưa có thành viên; thêm bằng `kinhteso member add`)", "(no members yet; add one with `kinhteso member add`)"))
        return
    for m in members:
        state = tr(" [đã thu hồi]", " [revoked]") if m.revoked_at is not None else ""
        click.echo(f"{m.code}\t{m.kind}\t{m.name}{state}\t" + tr(f"{m.tokens} mã truy cập", f"{m.tokens} token(s)"))
        for g in m.grants:
            click.echo(f"  #{g['grant_id']} {g['role']}: " + tr("chỉ tiêu ", "indicators ") + ",".join(g["indicators"])
                       + tr("; địa bàn ", "; territories ") + ",".join(g["territories"]))
        if not m.grants:
            click.echo(tr("  (chưa có quyền)", "  (no grants)"))


@member_group.command("revoke")
@click.option("--code", required=True, help="Mã thành viên / member code.")
@workspace_option
def member_revoke(code: str, workspace: Path) -> None:
    """Thu hồi thành viên / revoke a member: its tokens stop working at once (it is kept, revoked)."""
    from kinhteso.service.members import revoke_member  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    with Workspace.open(workspace) as ws:
        now = revoke_member(ws, code)
    click.echo(tr(f"✓ Đã thu hồi thành viên {code}; mã truy cập của nó không còn dùng được." if now else
                  f"= Thành viên {code} đã bị thu hồi từ trước; không thay đổi gì.",
                  f"✓ Member {code} revoked; its tokens no longer work." if now else
                  f"= Member {code} was revoked already; nothing changed."))


@click.command("grant")
@click.option("--member", "member", required=True, help="Mã thành viên / member code.")
@click.option("--role", type=click.Choice(_ROLES), required=True,
              help="Vai trò / role: submitter (gửi), reader (đọc), admin (quản trị).")
@click.option("--indicators", default="*", show_default=True,
              help="Chỉ tiêu, cách nhau bởi dấu phẩy, hoặc * / indicators, comma-separated, or * for all.")
@click.option("--territories", default="*", show_default=True,
              help="Địa bàn (khóa, mã hoặc tên), hoặc * / territories (keys, codes or names), or * for all.")
@workspace_option
def grant_cmd(member: str, role: str, indicators: str, territories: str, workspace: Path) -> None:
    """Cấp quyền / grant a member a role on indicators and territories (nothing is open by default).

    Indicators are checked against the registry and territories against the reference data
    (stored as keys, e.g. 34:31; a code or a name is read on the 34-province basis first); an
    unknown one refuses the grant whole (exit 2)."""
    from kinhteso.service.members import GrantRequest, grant  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    with Workspace.open(workspace) as ws:
        g = grant(ws, GrantRequest(member=member, role=role, indicators=indicators, territories=territories))
    click.echo(tr(f"✓ Quyền #{g.grant_id}: {g.member} là {g.role} cho chỉ tiêu {','.join(g.indicators)}, "
                  f"địa bàn {','.join(g.territories)}.",
                  f"✓ Grant #{g.grant_id}: {g.member} is {g.role} for indicators {','.join(g.indicators)}, "
                  f"territories {','.join(g.territories)}."))


@click.group("token")
def token_group() -> None:
    """Mã truy cập API / API tokens: create (shown once), revoke."""


@token_group.command("create")
@click.option("--member", "member", required=True, help="Mã thành viên / member code.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="Định dạng đầu ra / output format (json: {\"member\": CODE, \"token\": \"...\"}).")
@workspace_option
def token_create(member: str, fmt: str, workspace: Path) -> None:
    """Tạo mã truy cập / create a token for a member: printed this once, stored only as its SHA-256.

    Send it as `Authorization: Bearer TOKEN`. Keep it secret; a lost token cannot be shown
    again: revoke it and create another."""
    from kinhteso.service.members import TokenCreateRequest, create_token  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    with Workspace.open(workspace) as ws:
        t = create_token(ws, TokenCreateRequest(member=member))
    if fmt == "json":
        click.echo(to_json(t.as_dict()))
        return
    click.echo(t.token)
    click.echo(tr(f"Mã truy cập của {t.member}, chỉ hiện lần này (chỉ lưu mã băm SHA-256). "
                  "Gửi kèm tiêu đề 'Authorization: Bearer <mã>'.",
                  f"The token of {t.member}, shown this once (only its SHA-256 is stored). "
                  "Send it as 'Authorization: Bearer <token>'."), err=True)


@token_group.command("revoke")
@click.option("--member", "member", default=None, help="Thu hồi mọi mã của thành viên / revoke every token of a member.")
@click.option("--token", "token", default=None, help="Thu hồi một mã / revoke one token.")
@workspace_option
def token_revoke(member: str | None, token: str | None, workspace: Path) -> None:
    """Thu hồi mã truy cập / revoke a member's tokens, or one token: refused at once from then on."""
    from kinhteso.service.members import TokenRevokeRequest, revoke_tokens  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    with Workspace.open(workspace) as ws:
        r = revoke_tokens(ws, TokenRevokeRequest(member=member, token=token))
    who = ", ".join(sorted(set(r.members)))
    click.echo(tr(f"✓ Đã thu hồi {r.revoked} mã truy cập ({who}).", f"✓ Revoked {r.revoked} token(s) ({who})."))


COMMANDS = [member_group, grant_cmd, token_group]
