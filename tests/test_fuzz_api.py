"""schemathesis fuzzes every documented endpoint through the WSGI app (valid and invalid
requests): no 5xx anywhere, and every JSON 4xx in the documented error shape.

The owner's API and dashboard are fuzzed signed in as a manager of the "demo" programme, and
most cases are aimed at its slug and at a real card (chosen from the generated case itself,
so Hypothesis can replay and shrink a failure), so they reach the views' validation and the
database, not just the sign-in check. The other endpoints are fuzzed as an anonymous caller.

Budget: PostgreSQL is the production database and refuses what SQLite stores (NUL
characters, text longer than its column), so it gets the long run: 40 examples for each of
the 31 operations, more than 1,000 cases in about a minute on 2 cores; SQLite gets 10.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from hypothesis import HealthCheck, settings
from passlib.hash import argon2

from tests.kit.database import T0
from tests.kit.programs import MakeCard, MakeProgram
from tests.kit.webhooks import ORDERS_SECRET
from walletcards import create_app
from walletcards.clients import build_clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.openapi import document
from walletcards.settings import Secret, Settings
from walletcards.staff.accounts import issue_token
from walletcards.staff.models import Staff

schema = schemathesis.openapi.from_dict(document())
POSTGRES = os.environ.get("WALLETCARDS_TEST_DATABASE_URL", "").startswith("postgresql")
EXAMPLES = 40 if POSTGRES else 10
OWNER = ("/api/v1/programs/", "/admin/")
PASSWORD = "a long enough password"
pytestmark = pytest.mark.committing


@dataclass
class Target:
    app: Flask
    token: str  # a manager's API token
    cookie: str  # the same manager's dashboard session (Flask's signed cookie)
    member_number: str


@pytest.fixture(scope="module")
def fuzz_app(
    migrated_database: Database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    """One app for the module (the database is emptied after every test, not the app): the
    tests commit for real (``committing``), as this app's connections are not the test's."""
    settings = Settings(
        database_url=migrated_database.url,
        public_url="https://cards.example.com",
        secret_key=Secret("test-secret-key-0123456789"),
        instance_path=tmp_path_factory.mktemp("fuzz"),
    )
    app = create_app(settings, build_clients(settings, FixedClock(T0)))
    yield app
    app.extensions["walletcards.db"].dispose()


@pytest.fixture(scope="module")
def password_hash() -> str:
    return str(argon2.hash(PASSWORD))  # once: argon2 is slow on purpose


@pytest.fixture
def target(
    database: Database,
    fuzz_app: Flask,
    password_hash: str,
    make_program: MakeProgram,
    make_card: MakeCard,
) -> Target:
    program = make_program(webhooks={"orders_secret": ORDERS_SECRET})
    card = make_card(program, email="ann@example.com", name="Ann")
    with database.transaction() as session:
        staff = Staff(
            program_id=program.id,
            email="boss@example.com",
            role="manager",
            password_hash=password_hash,
            disabled=False,
            created_at=T0,
        )
        session.add(staff)
        session.flush()
        token = issue_token(session, staff, T0)
        signed = {"staff": staff.id, "csrf": "fuzz-csrf", "seen": T0.timestamp()}
    serializer = SecureCookieSessionInterface().get_signing_serializer(fuzz_app)
    assert serializer is not None
    return Target(fuzz_app, token, str(serializer.dumps(signed)), card.member_number)


# What Hypothesis's text almost never draws but an attacker sends: NUL (PostgreSQL refuses it),
# an unpaired surrogate (valid JSON, not UTF-8), text longer than any column, huge numbers
HOSTILE_TEXT = ("a\x00b", "x" * 600)
HOSTILE_JSON: tuple[Any, ...] = (*HOSTILE_TEXT, "\ud800", 2**64, -(2**63) - 1, [[[[[[]]]]]])


def aim(case: schemathesis.Case[Any], target: Target) -> dict[str, dict[str, str]]:
    """For the owner's endpoints: the real slug and card in most cases, signed in, and one
    case in three with a hostile value in place of a generated one. Every choice comes from
    the generated case, so Hypothesis can replay and shrink a failure. Returns what to add
    to the request (``headers``, ``cookies``)."""
    if not case.path.startswith(OWNER):
        return {}
    params = case.path_parameters if case.path_parameters is not None else {}
    salt = zlib.crc32(repr((sorted(params.items()), case.query, case.body)).encode())
    if "slug" in params and salt % 5:
        params["slug"] = "demo"
    if "member_number" in params and salt % 3:
        params["member_number"] = target.member_number
    if salt % 3 == 0:
        spoil(case, salt // 3)
    if case.path.startswith("/admin/"):
        return {"cookies": {"walletcards_till": target.cookie}}
    return {"headers": {"Authorization": f"Bearer {target.token}"}} if salt % 7 else {}


def spoil(case: schemathesis.Case[Any], salt: int) -> None:
    """Puts a hostile value in the body, else the query, else the last path parameter."""
    if isinstance(case.body, dict):
        keys = sorted(case.body) or ["reason"]
        # a form body (the dashboard's forms) is URL-encoded UTF-8: no surrogates, no nesting
        form = case.media_type == "application/x-www-form-urlencoded"
        hostile = HOSTILE_TEXT if form else HOSTILE_JSON
        case.body[keys[salt % len(keys)]] = hostile[salt % len(hostile)]
    elif case.query:
        key = sorted(case.query)[salt % len(case.query)]
        case.query[key] = HOSTILE_TEXT[salt % len(HOSTILE_TEXT)]
    elif case.path_parameters:
        key = sorted(case.path_parameters)[-1]
        case.path_parameters[key] = f"{case.path_parameters[key]}{HOSTILE_TEXT[salt % 2]}"


@schema.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
def test_no_endpoint_answers_5xx_and_errors_have_the_documented_shape(
    case: schemathesis.Case[Any], target: Target
) -> None:
    extra = aim(case, target)
    response = case.call(app=target.app, headers=extra.get("headers"), cookies=extra.get("cookies"))
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
    if 400 <= response.status_code < 500 and response.headers.get("Content-Type", [""])[
        0
    ].startswith("application/json"):
        body = response.json()
        assert set(body) >= {"error"} and {"code", "message"} <= set(body["error"]), body
