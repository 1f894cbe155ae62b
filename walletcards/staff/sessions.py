"""Browser sessions for the till and the dashboard: CSRF protection, idle timeout, sign-out.

Flask's signed cookie (HttpOnly, SameSite=Lax, Secure under https) holds a CSRF token that
every write must echo in ``X-CSRF-Token`` and, once signed in, a random session key. The key's
digest is a :class:`StaffSession` row, checked on every request: signing out, disabling the
member or a new password revokes the row, so a copy of the cookie is dead too. 30 minutes
without a request (on the server's clock) end a session as well.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from flask import session as cookie
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from walletcards.loyalty.models import Program
from walletcards.staff.accounts import token_digest
from walletcards.staff.models import Staff, StaffSession

IDLE = timedelta(minutes=30)
TOUCH = timedelta(minutes=1)  # last_seen is written at most this often


def csrf_token() -> str:
    token = cookie.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        cookie["csrf"] = token
    return token


def csrf_ok(sent: str | None) -> bool:
    expected = cookie.get("csrf")
    if not isinstance(expected, str) or not sent:
        return False
    # bytes: compare_digest raises TypeError on non-ASCII str (a 500 for a forged token)
    return hmac.compare_digest(expected.encode(), sent.encode("utf-8", "surrogatepass"))


def start(session: Session, staff: Staff, now: datetime) -> None:
    """Sign this browser in as ``staff``: a new session row, a new cookie, a new CSRF token.
    The member's ended sessions are deleted on the way (the table holds only live ones)."""
    session.execute(
        delete(StaffSession).where(
            StaffSession.staff_id == staff.id,
            or_(StaffSession.revoked_at.is_not(None), StaffSession.last_seen < now - IDLE),
        )
    )
    key = secrets.token_urlsafe(32)
    session.add(
        StaffSession(staff_id=staff.id, key_hash=token_digest(key), created_at=now, last_seen=now)
    )
    cookie.clear()
    # The browser drops the cookie after IDLE too (refreshed on every answer, see create_app).
    cookie.permanent = True
    cookie["session"] = key
    cookie["csrf"] = secrets.token_urlsafe(24)


def _key() -> str | None:
    key = cookie.get("session")
    return key if isinstance(key, str) else None


def signed_in(session: Session, now: datetime) -> tuple[Staff, Program] | None:
    """The staff member of this browser session and their programme (None: signed out, idle
    too long, signed out elsewhere with a copy of the cookie, or the member was disabled)."""
    key = _key()
    if key is None:
        return None
    row = session.execute(
        select(StaffSession).where(StaffSession.key_hash == token_digest(key))
    ).scalar_one_or_none()
    staff = session.get(Staff, row.staff_id) if row is not None else None
    if (
        row is None
        or staff is None
        or row.revoked_at is not None
        or now - row.last_seen > IDLE
        or staff.disabled
    ):
        cookie.pop("session", None)
        return None
    if now - row.last_seen >= TOUCH:
        row.last_seen = now
    program = session.get(Program, staff.program_id)
    assert program is not None  # a foreign key
    return staff, program


def logout(session: Session, now: datetime) -> None:
    """End this browser's session on the server, then forget the cookie."""
    key = _key()
    if key is not None:
        session.execute(
            update(StaffSession)
            .where(StaffSession.key_hash == token_digest(key), StaffSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    cookie.clear()
