"""A partner's users and their role in each workspace of the partner: list, create (a one-time password
when none is given), change (name, admin flag, roles, unlock, password), remove; the last partner admin
stays. Another partner's user or workspace is treated as absent (404), as in runtime/tenancy.py."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select

from runtime import accounts
from runtime.identity_models import Membership, Partner, User
from runtime.models import Workspace
from runtime.tenancy import MAX_NAME, Refused

if TYPE_CHECKING:
    from runtime.wiring import Runtime


def describe_user(user: User, memberships: list[tuple[str, str]]) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "partner_admin": user.partner_admin,
            "locked": accounts.is_locked(user), "memberships": [{"workspace": w, "role": r} for w, r in memberships]}


def list_users(rt: Runtime, partner_id: str) -> list[dict]:
    with rt.sessions() as s:
        users = s.scalars(select(User).where(User.partner_id == partner_id).order_by(User.email)).all()
        rows = s.execute(select(Membership.user_id, Membership.workspace, Membership.role)
                         .join(User, User.id == Membership.user_id).where(User.partner_id == partner_id)
                         .order_by(Membership.workspace)).all()
    held: dict[int, list] = {}
    for user_id, ws, role in rows:
        held.setdefault(user_id, []).append((ws, role))
    return [describe_user(u, held.get(u.id, [])) for u in users]


def get_user(rt: Runtime, partner_id: str, user_id: Any) -> dict:
    found = [u for u in list_users(rt, partner_id) if u["id"] == user_id]
    if not found:
        raise Refused("not_found", "not_found", "user", f"no user {user_id!r}")
    return found[0]


def create_user(rt: Runtime, partner_id: str, data: Any) -> tuple[dict, str | None]:
    """A user of the partner from {"email", "name", "password"?, "partner_admin"?, "memberships"?}; without a
    password one is made, returned once, and must be changed at the first login."""
    if not isinstance(data, dict):
        raise Refused("invalid", "invalid_argument", "", "the body is a JSON object")
    _fields(data, ("email", "name", "password", "partner_admin", "memberships"))
    name = _user_name(data.get("name", ""))
    admin = _flag(data.get("partner_admin", False), "partner_admin")
    roles = check_memberships(rt, partner_id, data.get("memberships") or [])
    made = data.get("password") is None
    password = accounts.new_password() if made else data["password"]
    try:
        user_id = accounts.create_user(rt, partner_id, data.get("email"), password, name=name, partner_admin=admin,
                                       memberships=roles, must_change_password=made)
    except accounts.AccountProblem as err:
        raise _refused(err) from None
    return get_user(rt, partner_id, user_id), password if made else None


def update_user(rt: Runtime, partner_id: str, user_id: int, changes: Any) -> tuple[dict, str | None]:
    """Apply {"name"?, "partner_admin"?, "memberships"? (replaced whole), "unlock"?: true, "password"?}. A
    password set here must be changed at the next login; null makes one and returns it once. No change
    may leave the partner without an admin."""
    if not isinstance(changes, dict):
        raise Refused("invalid", "invalid_argument", "", "the body is a JSON object")
    _fields(changes, ("name", "partner_admin", "memberships", "unlock", "password"))
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = _user_name(changes["name"])
    if "partner_admin" in changes:
        values["partner_admin"] = _flag(changes["partner_admin"], "partner_admin")
    roles = check_memberships(rt, partner_id, changes["memberships"]) if "memberships" in changes else None
    password = None
    if "password" in changes:
        password = accounts.new_password() if changes["password"] is None else changes["password"]
        try:
            accounts.check_password(password)
        except accounts.AccountProblem as err:
            raise _refused(err) from None
    if "unlock" in changes and changes["unlock"] is not True:
        raise Refused("invalid", "invalid_argument", "unlock", "unlock is true or left out")
    with rt.sessions.begin() as s:
        s.get(Partner, partner_id, with_for_update=True)  # admin changes of one partner one at a time
        user = s.get(User, user_id)
        if user is None or user.partner_id != partner_id:
            raise Refused("not_found", "not_found", "user", f"no user {user_id!r}")
        if user.partner_admin and values.get("partner_admin") is False:
            _keep_an_admin(s, partner_id, user_id)
        for key, value in values.items():
            setattr(user, key, value)
        if changes.get("unlock"):
            user.failed_logins, user.locked_until = 0, None
        if roles is not None:
            s.execute(delete(Membership).where(Membership.user_id == user_id))
            s.add_all([Membership(user_id=user_id, workspace=ws, role=role) for ws, role in roles.items()])
    if password is not None:  # ends the user's sessions (a new epoch)
        accounts.set_password(rt, user_id, password, must_change=True)
    accounts.forget()
    return get_user(rt, partner_id, user_id), password if "password" in changes and changes["password"] is None else None


def remove_user(rt: Runtime, partner_id: str, user_id: int) -> None:
    with rt.sessions.begin() as s:
        s.get(Partner, partner_id, with_for_update=True)
        user = s.get(User, user_id)
        if user is None or user.partner_id != partner_id:
            raise Refused("not_found", "not_found", "user", f"no user {user_id!r}")
        if user.partner_admin:
            _keep_an_admin(s, partner_id, user_id)
        s.execute(delete(Membership).where(Membership.user_id == user_id))
        s.execute(delete(User).where(User.id == user_id))
    accounts.forget()


def check_memberships(rt: Runtime, partner_id: str, memberships: Any) -> dict[str, str]:
    """[{"workspace", "role"}] as {workspace: role}; a workspace of another partner is no workspace (404)."""
    if not isinstance(memberships, list):
        raise Refused("invalid", "invalid_argument", "memberships", "memberships is a list of {workspace, role}")
    out: dict[str, str] = {}
    for i, m in enumerate(memberships):
        if not isinstance(m, dict) or not isinstance(m.get("workspace"), str) or set(m) - {"workspace", "role"}:
            raise Refused("invalid", "invalid_argument", f"memberships[{i}]", "each membership is {workspace, role}")
        if m.get("role") not in accounts.ROLES:
            raise Refused("invalid", "invalid_role", f"memberships[{i}].role", f"role is one of {list(accounts.ROLES)}")
        if m["workspace"] in out:
            raise Refused("invalid", "invalid_argument", f"memberships[{i}].workspace",
                          f"workspace {m['workspace']!r} is named twice")
        out[m["workspace"]] = m["role"]
    if out:
        with rt.sessions() as s:
            mine = set(s.scalars(select(Workspace.id).where(Workspace.partner_id == partner_id,
                                                            Workspace.id.in_(list(out)))))
        for i, ws in enumerate(out):
            if ws not in mine:
                raise Refused("not_found", "not_found", f"memberships[{i}].workspace", f"no workspace {ws!r}")
    return out


def _keep_an_admin(s, partner_id: str, user_id: int) -> None:
    others = s.scalar(select(func.count()).select_from(User).where(
        User.partner_id == partner_id, User.partner_admin.is_(True), User.id != user_id))
    if not others:
        raise Refused("conflict", "last_admin", "partner_admin", "the partner's last admin stays an admin; make "
                                                                 "another user admin first")


def _refused(err: accounts.AccountProblem) -> Refused:
    if err.code == "email_taken":
        return Refused("conflict", "conflict", err.field, str(err))
    return Refused("invalid", err.code, err.field, str(err))


def _fields(data: dict, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise Refused("invalid", "invalid_argument", unknown[0], f"no field {unknown[0]!r} here")


def _user_name(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_NAME or "\x00" in value:
        raise Refused("invalid", "invalid_argument", "name", f"a name is text of at most {MAX_NAME} characters")
    return value.strip()


def _flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise Refused("invalid", "invalid_argument", field, f"{field} is true or false")
    return value
