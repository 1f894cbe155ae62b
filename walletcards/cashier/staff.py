"""Staff accounts: argon2 password hashes (passlib) and API tokens stored as SHA-256 digests."""

from __future__ import annotations

import hashlib
import secrets
import warnings
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.cashier.models import ROLES, Staff, StaffToken
from walletcards.loyalty.models import Program

with warnings.catch_warnings():
    # passlib 1.7.4 imports the stdlib 'crypt' module, deprecated since Python 3.11
    warnings.filterwarnings("ignore", message="'crypt' is deprecated", category=DeprecationWarning)
    from passlib.hash import argon2

MIN_PASSWORD = 10


class StaffError(ValueError):
    pass


def add_staff(
    session: Session, program: Program, email: str, role: str, password: str, now: datetime
) -> Staff:
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"the password needs at least {MIN_PASSWORD} characters")
    address = email.strip().lower()
    if "@" not in address:
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


def check_password(staff: Staff, password: str) -> bool:
    return bool(argon2.verify(password, staff.password_hash))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, staff: Staff, now: datetime) -> str:
    """A new API token for a POS integration; only its digest is stored."""
    token = "wct_" + secrets.token_urlsafe(32)
    session.add(StaffToken(staff_id=staff.id, token_hash=token_digest(token), created_at=now))
    return token


def staff_for_token(session: Session, token: str) -> Staff | None:
    """Looked up by the digest (the unique index), so the comparison leaks nothing useful."""
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
