"""Staff accounts: argon2 password hashes (libpass), API tokens stored as SHA-256 digests, and
what ends a member's access (disabling, a new password)."""

from __future__ import annotations

import functools
import hashlib
import secrets
import unicodedata
from datetime import datetime

from passlib.hash import argon2  # libpass, passlib's maintained fork
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from walletcards.loyalty.models import Program
from walletcards.staff.models import ROLES, Staff, StaffSession, StaffToken

MIN_PASSWORD = 10
MAX_PASSWORD = 1024
MAX_EMAIL = 320


class StaffError(ValueError):
    pass


def has_control_characters(text: str) -> bool:
    """CR, LF, NUL, ESC, DEL...: never part of a slug, an email or a password."""
    return any(unicodedata.category(char) == "Cc" for char in text)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"the password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD or has_control_characters(password):
        raise StaffError(f"the password: at most {MAX_PASSWORD} characters, no control characters")


def add_staff(
    session: Session, program: Program, email: str, role: str, password: str, now: datetime
) -> Staff:
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    _check_password(password)
    address = email.strip().lower()
    if "@" not in address or len(address) > MAX_EMAIL or has_control_characters(address):
        raise StaffError(f"{email!r} is not an email address")
    existing = session.execute(
        select(Staff).where(Staff.program_id == program.id, Staff.email == address)
    ).scalar_one_or_none()
    if existing is not None:
        raise StaffError(f"{address} is already staff of {program.slug}")
    staff = Staff(
        program_id=program.id,
        email=address,
        role=role,
        password_hash=argon2.hash(password),
        disabled=False,
        created_at=now,
    )
    session.add(staff)
    session.flush()
    return staff


def staff_by_email(session: Session, email: str, slug: str | None) -> list[Staff]:
    """Every member with this email (only in programme ``slug`` when given); never empty."""
    query = select(Staff).where(Staff.email == email.strip().lower())
    if slug:
        query = query.join(Program, Program.id == Staff.program_id).where(Program.slug == slug)
    found = list(session.execute(query.order_by(Staff.id)).scalars())
    if not found:
        raise StaffError(f"{email}: no such staff member")
    return found


def one_staff(session: Session, email: str, slug: str | None) -> Staff:
    """The one member with this email; staff of several programmes need ``slug``."""
    found = staff_by_email(session, email, slug)
    if len(found) > 1:
        raise StaffError(f"{email} is staff of several programmes: add --program")
    return found[0]


@functools.cache
def _dummy_hash() -> str:
    return str(argon2.hash(secrets.token_urlsafe(16)))


def authenticate(session: Session, slug: str, email: str, password: str) -> Staff | None:
    """The enabled member with these credentials who may use a browser. An unknown or disabled
    account, or an ``integration`` one (API tokens only), costs the same argon2 verification as
    a wrong password: the answer's timing does not tell which emails are staff."""
    staff = session.execute(
        select(Staff)
        .join(Program, Program.id == Staff.program_id)
        .where(Program.slug == slug, Staff.email == email.strip().lower())
    ).scalar_one_or_none()
    usable = staff is not None and not staff.disabled and staff.role != "integration"
    stored = staff.password_hash if staff is not None and usable else _dummy_hash()
    matches = bool(argon2.verify(password, stored))
    return staff if usable and matches else None


def end_sessions(session: Session, staff: Staff, now: datetime) -> int:
    """Revoke every open browser session of the member (their cookies stop working)."""
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff.id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def set_password(session: Session, staff: Staff, password: str, now: datetime) -> int:
    """A new password; every session signed in with the old one ends (their number)."""
    _check_password(password)
    staff.password_hash = argon2.hash(password)
    return end_sessions(session, staff, now)


def set_disabled(session: Session, staff: Staff, disabled: bool, now: datetime) -> int:
    """Disable (sessions end; sign-in and API tokens refused) or enable the member again."""
    staff.disabled = disabled
    return end_sessions(session, staff, now) if disabled else 0


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, staff: Staff, now: datetime) -> str:
    """A new API token for a POS integration; only its digest is stored."""
    token = "wct_" + secrets.token_urlsafe(32)
    session.add(StaffToken(staff_id=staff.id, token_hash=token_digest(token), created_at=now))
    return token


def revoke_tokens(session: Session, staff: Staff, now: datetime) -> int:
    """Revoke every API token of the member (their number)."""
    result = session.execute(
        update(StaffToken)
        .where(StaffToken.staff_id == staff.id, StaffToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def staff_for_token(session: Session, token: str) -> Staff | None:
    """Looked up by the digest (the unique index), so the comparison leaks nothing useful.
    A disabled member's tokens answer nothing."""
    row = session.execute(
        select(Staff)
        .join(StaffToken, StaffToken.staff_id == Staff.id)
        .where(
            StaffToken.token_hash == token_digest(token),
            StaffToken.revoked_at.is_(None),
            Staff.disabled.is_(False),
        )
    ).scalar_one_or_none()
    return row
