"""What every process checks when it starts (`serve`, `worker`, the WSGI app): each programme's
``env:`` references, certificate and key files, key passwords and the Google service account.
A misconfiguration shows as one clear log line per problem at start-up instead of refused
webhooks, unsigned passes or silent events later. Problems are logged, never fatal: the other
programmes keep working."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from walletcards.apple.certificates import CertificateError, check_signer, load_signer
from walletcards.db import Database
from walletcards.loyalty.config import ProgramConfig
from walletcards.loyalty.config_tables import AppleTable, GoogleTable
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    level: int  # logging.ERROR: something does not work; logging.WARNING: it soon will not
    message: str


def _consequence(field: str) -> str:
    if field.startswith("webhooks.") and "_previous_" in field:
        return "deliveries signed with the previous secret are refused"
    if field.startswith("webhooks."):
        source = field.removeprefix("webhooks.").split("_", 1)[0]
        return f"{source} deliveries are answered 503 until it is set"
    if field.startswith("events["):
        return "events to that endpoint cannot be signed"
    return "the setting is empty"


def _environment(config: ProgramConfig) -> list[Problem]:
    problems = []
    for field, secret in config.references:
        if field == "apple.private_key_password":
            continue  # an unencrypted key needs none: reported with the key if it fails to load
        variable = secret.unset_variable()
        if variable:
            problems.append(
                Problem(
                    logging.ERROR,
                    f"{field} names the environment variable {variable}, which is not set: "
                    f"{_consequence(field)}",
                )
            )
    return problems


def _apple(table: AppleTable, now: datetime) -> list[Problem]:
    password = table.private_key_password
    password_variable = password.unset_variable() if password else None
    try:
        signer = load_signer(
            table.certificate, table.private_key, table.wwdr_certificate, table.password()
        )
        warnings = check_signer(signer, table.pass_type_identifier, table.team_identifier, now)
    except CertificateError as exc:
        hint = (
            f" (the key's password variable {password_variable} is not set)"
            if password_variable
            else ""
        )
        return [Problem(logging.ERROR, f"Apple passes cannot be signed: {exc}{hint}")]
    problems = [Problem(logging.WARNING, f"Apple passes: {warning}") for warning in warnings]
    for key, path in (("images_dir", table.images_dir), ("apns_key_file", table.apns_key_file)):
        if path and not Path(path).exists():
            problems.append(Problem(logging.ERROR, f"apple.{key}: {path} does not exist"))
    return problems


def _google(table: GoogleTable) -> list[Problem]:
    path = table.service_account_file
    try:
        info = json.loads(Path(path).read_text())
    except OSError as exc:
        reason = f"cannot read {path}: {exc.strerror}"
    except ValueError:
        reason = f"{path} is not a service account's JSON key"
    else:
        if isinstance(info, dict) and {"client_email", "private_key"} <= info.keys():
            return []
        reason = f"{path} is not a service account's JSON key"
    return [Problem(logging.ERROR, f"Google cards cannot be saved or updated: {reason}")]


def program_problems(program: Program, now: datetime) -> list[Problem]:
    """What stops (ERROR) or will soon stop (WARNING) this programme from working here."""
    config = program_config(program)
    problems = _environment(config)
    if config.apple is not None:
        problems += _apple(config.apple, now)
    if config.google is not None:
        problems += _google(config.google)
    return [Problem(p.level, f"programme {program.slug}: {p.message}") for p in problems]


def check(session: Session, now: datetime) -> list[Problem]:
    found = []
    for program in session.execute(select(Program).order_by(Program.slug)).scalars():
        found += program_problems(program, now)
    return found


def log_problems(database: Database, now: datetime) -> list[Problem]:
    """Check every programme and log one line per problem (skipped, with a line saying so,
    while the database is not reachable or not migrated yet)."""
    try:
        with database.transaction() as session:
            problems = check(session, now)
    except SQLAlchemyError:
        log.warning("start-up check skipped: the database is not ready")
        return []
    for problem in problems:
        log.log(problem.level, "%s", problem.message)
    return problems
