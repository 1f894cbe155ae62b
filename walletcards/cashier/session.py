"""Browser sessions for the till: login with CSRF protection, idle timeout, logout.

The session cookie is Flask's signed cookie (HttpOnly, SameSite=Lax, Secure under https); it
holds the staff id, a CSRF token that every write must echo in ``X-CSRF-Token``, and the time
of the last request (30 minutes idle signs the cashier out).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from flask import session as cookie
from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.cashier.models import Staff
from walletcards.cashier.staff import check_password
from walletcards.loyalty.models import Program

IDLE = timedelta(minutes=30)


def csrf_token() -> str:
    token = cookie.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        cookie["csrf"] = token
    return token


def csrf_ok(sent: str | None) -> bool:
    expected = cookie.get("csrf")
    return isinstance(expected, str) and bool(sent) and hmac.compare_digest(expected, sent or "")


def login(session: Session, slug: str, email: str, password: str, now: datetime) -> Staff | None:
    staff = session.execute(
        select(Staff)
        .join(Program, Program.id == Staff.program_id)
        .where(
            Program.slug == slug, Staff.email == email.strip().lower(), Staff.disabled.is_(False)
        )
    ).scalar_one_or_none()
    if staff is None or not check_password(staff, password):
        return None
    cookie.clear()
    cookie["staff"] = staff.id
    cookie["csrf"] = secrets.token_urlsafe(24)
    cookie["seen"] = now.timestamp()
    return staff


def current_staff_id(now: datetime) -> int | None:
    staff_id, seen = cookie.get("staff"), cookie.get("seen")
    if not isinstance(staff_id, int) or not isinstance(seen, int | float):
        return None
    if now.timestamp() - seen > IDLE.total_seconds():
        cookie.clear()
        return None
    cookie["seen"] = now.timestamp()
    return staff_id


def signed_in(session: Session, now: datetime) -> tuple[Staff, Program] | None:
    """The staff member of this browser session and their programme (None: signed out, idle
    too long, or the account was disabled since)."""
    staff_id = current_staff_id(now)
    staff = session.get(Staff, staff_id) if staff_id is not None else None
    if staff is None or staff.disabled:
        return None
    program = session.get(Program, staff.program_id)
    assert program is not None  # a foreign key
    return staff, program


def logout() -> None:
    cookie.clear()
