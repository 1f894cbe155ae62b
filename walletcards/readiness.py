"""The checks behind `/readyz`, `walletcards doctor`, the worker's log and the dashboard banner.

Each check answers ``ok``, ``warn`` (works now, act soon) or ``fail`` (broken now). A Pass Type
ID certificate that expires is the first cause of dead passes (phones stop accepting updates,
APNs refuses the pushes), so each programme's certificates are loaded as the service would
load them and flagged 30 days before they expire. No detail names a secret.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import cache

from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from walletcards.apple.certificates import (
    EXPIRY_WARNING,
    CertificateError,
    PassSigner,
    check_signer,
    load_signer,
)
from walletcards.apple.passes import AppleNotConfigured, apple_table
from walletcards.db import Database
from walletcards.loyalty.config_tables import AppleTable
from walletcards.loyalty.models import Card, Program
from walletcards.migrate import SCRIPTS

OK, WARN, FAIL = "ok", "warn", "fail"
PUSH_WAIT_WARNING = timedelta(minutes=10)  # longer than this: is a worker running?


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    program: str | None = None

    def as_json(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def overall(checks: list[Check]) -> str:
    statuses = {c.status for c in checks}
    return FAIL if FAIL in statuses else WARN if WARN in statuses else OK


def service_checks(database: Database, now: datetime) -> list[Check]:
    """Database reachable, schema at the code's head, every programme's Apple certificates."""
    if not database.ping():
        return [
            Check("database", FAIL, "not reachable"),
            Check("migrations", FAIL, "not checked: the database is not reachable"),
        ]
    checks = [Check("database", OK, f"reachable ({database.engine.dialect.name})")]
    checks.append(migrations_check(database))
    try:
        with database.transaction() as session:
            programs = list(session.execute(select(Program).order_by(Program.slug)).scalars())
    except SQLAlchemyError:
        return [*checks, Check("apple_certificates", FAIL, "not checked: cannot read programmes")]
    checks.extend(c for c in (certificate_check(p, now) for p in programs) if c is not None)
    return checks


@cache
def _code_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """(heads, every revision) of the migrations shipped with this code."""
    script = ScriptDirectory(str(SCRIPTS))
    return frozenset(script.get_heads()), frozenset(r.revision for r in script.walk_revisions())


def migrations_check(database: Database) -> Check:
    heads, known = _code_revisions()
    try:  # read alembic_version directly: MigrationContext logs at INFO on every call
        with database.engine.connect() as conn:
            current: set[str] = set()
            if inspect(conn).has_table("alembic_version"):
                found = conn.execute(text("SELECT version_num FROM alembic_version"))
                current = set(found.scalars())
    except SQLAlchemyError:
        return Check("migrations", FAIL, "cannot read the schema revision")
    shown = ", ".join(sorted(current)) or "none"
    if current == heads:
        return Check("migrations", OK, f"at {shown} (the latest)")
    if current - known:
        return Check("migrations", WARN, f"the database ({shown}) is newer than this code")
    return Check(
        "migrations",
        FAIL,
        f"at {shown}, this code needs {', '.join(sorted(heads))}: run `walletcards db upgrade`",
    )


_signers: dict[tuple[object, ...], PassSigner | CertificateError] = {}


def _signer(table: AppleTable) -> PassSigner:
    """Load the programme's certificate, key and WWDR (again only when a file changed)."""
    certificate, private_key, wwdr = table.certificate, table.private_key, table.wwdr_certificate
    files = (certificate, private_key, wwdr)
    try:
        stamps = tuple((os.stat(f).st_mtime_ns, os.stat(f).st_size) for f in files)
    except OSError:
        stamps = ()
    password = table.password()
    key = (*files, stamps, hash(password))
    if stamps and key in _signers:
        found = _signers[key]
    else:
        try:
            found = load_signer(certificate, private_key, wwdr, password)
        except CertificateError as exc:
            found = exc
        _signers[key] = found
    if isinstance(found, CertificateError):
        raise found
    return found


def certificate_check(program: Program, now: datetime) -> Check | None:
    """The programme's Apple signing setup; None for a programme without ``[apple]``."""
    try:
        table = apple_table(program)
    except AppleNotConfigured:
        return None
    name = "apple_certificate"
    try:
        signer = _signer(table)
        check_signer(signer, table.pass_type_identifier, table.team_identifier, now)
    except (CertificateError, KeyError, ValueError) as exc:
        return Check(name, FAIL, f"Apple passes cannot be signed: {exc}", program.slug)
    for what, certificate in (("pass", signer.certificate), ("WWDR", signer.wwdr)):
        until = certificate.not_valid_after_utc
        if until - now < EXPIRY_WARNING:
            return Check(
                name,
                WARN,
                f"the {what} certificate expires on {until:%Y-%m-%d} ({(until - now).days} "
                "days): renew it now, or passes stop updating on the phones",
                program.slug,
            )
    until = signer.certificate.not_valid_after_utc
    return Check(name, OK, f"valid until {until:%Y-%m-%d}", program.slug)


def certificate_expiries(programs: list[Program]) -> dict[str, datetime]:
    """Each programme's earliest Apple certificate expiry (the metric operators alert on)."""
    expiries = {}
    for program in programs:
        try:
            signer = _signer(apple_table(program))
        except (AppleNotConfigured, CertificateError, KeyError, ValueError):
            continue
        expiries[program.slug] = min(
            signer.certificate.not_valid_after_utc, signer.wwdr.not_valid_after_utc
        )
    return expiries


@dataclass(frozen=True)
class Backlog:
    cards: int  # cards whose wallets are behind (version > pushed_version)
    oldest: timedelta | None  # since the oldest of them last changed
    emails: int  # card emails pending
    events: int  # outbound events pending
    paused: int  # outbound events waiting for a paused endpoint


def backlog(session: Session, now: datetime) -> Backlog:
    from walletcards.outbound.models import OutboundEvent, OutboxEmail

    cards, oldest = session.execute(
        select(func.count(), func.min(Card.updated_at)).where(Card.version > Card.pushed_version)
    ).one()
    emails = session.execute(
        select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status == "pending")
    ).scalar_one()
    events: dict[str, int] = {
        status: count
        for status, count in session.execute(
            select(OutboundEvent.status, func.count())
            .where(OutboundEvent.status.in_(("pending", "paused")))
            .group_by(OutboundEvent.status)
        )
    }
    wait = max(now - oldest, timedelta(0)) if oldest is not None else None
    return Backlog(cards, wait, emails, events.get("pending", 0), events.get("paused", 0))


def backlog_checks(found: Backlog, smtp_configured: bool) -> list[Check]:
    """What `walletcards doctor` adds: the worker's to-do list, and whether it is moving."""
    wait = f", oldest changed {_duration(found.oldest)} ago" if found.oldest is not None else ""
    push = Check("push_backlog", OK, f"{found.cards} card(s) waiting to be pushed{wait}")
    if found.oldest is not None and found.oldest > PUSH_WAIT_WARNING:
        push = Check("push_backlog", WARN, f"{push.detail}: is a `walletcards worker` running?")
    detail = (
        f"{found.emails} card email(s) pending, {found.events} event(s) pending, "
        f"{found.paused} waiting for a paused endpoint"
    )
    outbox = Check("outbox", OK, detail)
    if found.emails and not smtp_configured:
        outbox = Check(
            "outbox",
            WARN,
            f"{detail}; card emails are held: WALLETCARDS_SMTP_URL is not set "
            "(see `walletcards email list`)",
        )
    elif found.paused:
        outbox = Check("outbox", WARN, f"{detail}; see `walletcards events resume`")
    return [push, outbox]


def doctor_checks(database: Database, smtp_configured: bool, now: datetime) -> list[Check]:
    """`walletcards doctor`: the service checks, then the worker's backlog."""
    checks = service_checks(database, now)
    if checks[0].status == FAIL:
        return checks
    try:
        with database.transaction() as session:
            found = backlog(session, now)
    except SQLAlchemyError:
        return [*checks, Check("backlog", FAIL, "cannot read the backlog")]
    return [*checks, *backlog_checks(found, smtp_configured)]


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"
