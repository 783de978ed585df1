"""People who log in: users of a partner (emails kept lower-case, argon2 password hashes), the login check
with its lockout, password changes (which end every session of the user), the first start's admin and
sample hook key, and what a user may see (their workspaces and roles) read through a short per-process cache.

The cache: designer/access.py asks `identity(rt, user_id)` on every request of a browser session; a change
made in this process (`forget()`, called by every write here and by the partner-level APIs) is seen at once,
one made by another process within IDENTITY_FRESH_S.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update

from runtime import keys
from runtime.identity_models import Membership, Partner, User
from runtime.models import Workspace, utcnow
from runtime.readthrough import ReadThrough

if TYPE_CHECKING:
    from runtime.wiring import Runtime

MAX_FAILURES = 5  # failed logins in a row before the account locks
LOCK_FOR = dt.timedelta(minutes=15)
MIN_PASSWORD, MAX_PASSWORD = 10, 1024  # a longer "password" is only a way to make argon2 work for nothing
IDENTITY_FRESH_S = 2.0
ROLES = ("consultant", "mapper", "operator", "viewer")
ADMIN_ROLE = "admin"  # what a partner admin holds in each workspace of the partner (not a membership role)

hasher = PasswordHasher()
_nobody: list[str] = []  # a hash checked when no user has the email: an unknown address costs what a known one does
_kept = ReadThrough(IDENTITY_FRESH_S)


class AccountProblem(ValueError):
    """Input the API answers with 400 (or 409 for `email_taken`): `field` names what is wrong."""

    def __init__(self, code: str, field: str, message: str):
        super().__init__(message)
        self.code, self.field = code, field


@dataclass(frozen=True)
class Identity:
    """What a request of a user needs, kept briefly: who, which partner, the session epoch, and the
    workspaces the user sees with their role and status ({id: (role, status, name)})."""
    user_id: int
    email: str
    name: str
    partner_id: str
    partner_admin: bool
    epoch: int
    must_change_password: bool
    workspaces: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Login:
    outcome: str  # "ok" | "invalid" | "locked"
    user_id: int | None = None
    epoch: int = 0


@dataclass(frozen=True)
class Bootstrap:
    email: str
    password: str
    hook_key: str


def normal_email(email) -> str:
    return email.strip().lower() if isinstance(email, str) else ""


def check_password(password) -> None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountProblem("weak_password", "password",
                             f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")


def new_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


def create_user(rt: Runtime, partner_id: str, email: str, password: str, *, name: str = "",
                partner_admin: bool = False, memberships: dict | None = None, must_change_password: bool = False,
                password_hash: str | None = None) -> int:
    """A new user; `memberships` {workspace: role}. `password_hash` lets a caller that made many users with
    one password (tests) hash it once."""
    email = normal_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountProblem("invalid_email", "email", "an email address is needed")
    if password_hash is None:
        check_password(password)
    for ws, role in (memberships or {}).items():
        if role not in ROLES:
            raise AccountProblem("invalid_role", "memberships", f"role is one of {list(ROLES)}, not {role!r}")
    with rt.sessions.begin() as s:
        if s.execute(select(User.id).where(User.email == email)).first() is not None:
            raise AccountProblem("email_taken", "email", f"a user with the email {email!r} exists")
        user = User(partner_id=partner_id, email=email, name=name or "", partner_admin=bool(partner_admin),
                    password_hash=password_hash or hasher.hash(password), failed_logins=0, session_epoch=0,
                    must_change_password=must_change_password, created_at=utcnow())
        s.add(user)
        s.flush()
        for ws, role in (memberships or {}).items():
            s.add(Membership(user_id=user.id, workspace=ws, role=role))
        user_id = user.id
    forget()
    return user_id


def find(rt: Runtime, email: str) -> User | None:
    with rt.sessions() as s:
        return s.execute(select(User).where(User.email == normal_email(email))).scalar_one_or_none()


def login(rt: Runtime, email, password) -> Login:
    """The login check. A locked account answers `locked` whatever the password, so the answer says
    nothing about it; the failure that makes MAX_FAILURES in a row locks the account."""
    user = find(rt, email) if isinstance(password, str) and len(password) <= MAX_PASSWORD else None
    now = utcnow()
    if user is None:
        if not _nobody:
            _nobody.append(hasher.hash(secrets.token_urlsafe(16)))
        _verify(_nobody[0], password if isinstance(password, str) else "")
        return Login("invalid")
    if user.locked_until is not None and user.locked_until > now:
        return Login("locked")
    if not _verify(user.password_hash, password):
        return Login("locked" if _failed(rt, user.id) else "invalid")
    values = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
    if hasher.check_needs_rehash(user.password_hash):
        values["password_hash"] = hasher.hash(password)
    with rt.sessions.begin() as s:
        s.execute(update(User).where(User.id == user.id).values(**values))
    return Login("ok", user.id, user.session_epoch)


def change_password(rt: Runtime, user_id: int, current: str, new: str) -> bool:
    """False when `current` is not the user's password. The change ends every session of the user (the
    epoch in their cookies no longer matches); the caller gives the current session a new cookie."""
    with rt.sessions() as s:
        user = s.get(User, user_id)
    if user is None or is_locked(user) or not isinstance(current, str) or len(current) > MAX_PASSWORD:
        return False
    if not _verify(user.password_hash, current):  # guesses through a stolen session count like logins
        _failed(rt, user_id)
        return False
    check_password(new)
    set_password(rt, user_id, new)
    return True


def set_password(rt: Runtime, user_id: int, new: str, *, must_change: bool = False) -> None:
    check_password(new)
    with rt.sessions.begin() as s:
        s.execute(update(User).where(User.id == user_id).values(
            password_hash=hasher.hash(new), session_epoch=User.session_epoch + 1, must_change_password=must_change,
            failed_logins=0, locked_until=None))
    forget()


def unlock(rt: Runtime, user_id: int) -> None:
    with rt.sessions.begin() as s:
        s.execute(update(User).where(User.id == user_id).values(failed_logins=0, locked_until=None))


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def identity(rt: Runtime, user_id: int) -> Identity | None:
    """The user and the workspaces they see (a partner admin: every workspace of the partner), or None."""
    def load() -> Identity | None:
        with rt.read_sessions() as s:
            user = s.get(User, user_id)
            if user is None:
                return None
            if user.partner_admin:
                rows = s.execute(select(Workspace.id, Workspace.status, Workspace.name)
                                 .where(Workspace.partner_id == user.partner_id)).all()
                seen = {ws: (ADMIN_ROLE, status, name) for ws, status, name in rows}
            else:  # a membership in another partner's workspace grants nothing
                rows = s.execute(select(Membership.workspace, Membership.role, Workspace.status, Workspace.name)
                                 .join(Workspace, Workspace.id == Membership.workspace)
                                 .where(Membership.user_id == user_id, Workspace.partner_id == user.partner_id)).all()
                seen = {ws: (role, status, name) for ws, role, status, name in rows}
            return Identity(user.id, user.email, user.name, user.partner_id, user.partner_admin, user.session_epoch,
                            user.must_change_password, dict(sorted(seen.items())))

    return _kept.get((str(rt.engine.url), rt.settings.database_schema, "user", user_id), load)


def workspace_state(rt: Runtime, workspace: str) -> tuple[str, str] | None:
    """(partner_id, status) of a workspace, or None: what a key's request needs besides the key."""
    def load():
        with rt.read_sessions() as s:
            row = s.execute(select(Workspace.partner_id, Workspace.status).where(Workspace.id == workspace)).first()
        if row is None:
            raise LookupError(workspace)  # not kept: the workspace may be created next
        return tuple(row)

    try:
        return _kept.get((str(rt.engine.url), rt.settings.database_schema, "workspace", workspace), load)
    except LookupError:
        return None


def forget() -> None:
    """Drop the kept identities: call it after a change to users, memberships, workspaces or partners."""
    _kept.forget()


def ensure_partner(rt: Runtime, partner_id: str, name: str | None = None) -> None:
    with rt.sessions.begin() as s:
        if s.get(Partner, partner_id) is None:
            s.add(Partner(id=partner_id, name=name or partner_id, created_at=utcnow()))


def create_admin(rt: Runtime, email: str, *, partner_id: str = "default", name: str = "",
                 password: str | None = None, must_change_password: bool = True) -> tuple[int, str]:
    """A partner admin (the partner is created if new); their id and password (generated when not given)."""
    password = password or new_password()
    ensure_partner(rt, partner_id)
    return create_user(rt, partner_id, email, password, name=name, partner_admin=True,
                       must_change_password=must_change_password), password


def bootstrap(rt: Runtime) -> Bootstrap | None:
    """The first start of an installation: partner `default`'s admin `admin@localhost` with a random
    password, and the key `samples` (hooks:write) the sample systems call workspace `default`'s webhooks
    with. None when any user exists already (shown once: they are never printed again)."""
    with rt.sessions() as s:
        if s.execute(select(func.count()).select_from(User)).scalar_one():
            return None
    try:
        _, password = create_admin(rt, "admin@localhost", name="Administrator", must_change_password=False)
    except AccountProblem as err:  # another process starting at the same time made it
        if err.code == "email_taken":
            return None
        raise
    _, secret = keys.create(rt, "default", "samples", ["hooks:write"], "admin@localhost")
    return Bootstrap("admin@localhost", password, secret)


def _failed(rt: Runtime, user_id: int) -> bool:
    """Count a wrong password; True when it locked the account. Counted in the database, so that
    concurrent guesses all count."""
    with rt.sessions.begin() as s:
        s.execute(update(User).where(User.id == user_id).values(failed_logins=User.failed_logins + 1))
        failures = s.execute(select(User.failed_logins).where(User.id == user_id)).scalar_one()
        if failures >= MAX_FAILURES:
            s.execute(update(User).where(User.id == user_id).values(failed_logins=0, locked_until=utcnow() + LOCK_FOR))
    return failures >= MAX_FAILURES


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
