"""The sign-in forms under attack: limits per client address (behind trusted proxies) and per
account, shared across processes through Redis; no timing tells which emails are staff; bad
input gets a 4xx page."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask, request
from flask.testing import FlaskClient

from tests.cashier.test_session import staff_cli
from tests.kit.webhooks import PUBLIC_URL
from walletcards import create_app
from walletcards.clients import build_clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Program
from walletcards.settings import Secret, Settings

PASSWORD = "a long enough password"
REDIS = "redis://127.0.0.1:6379"
MakeApp = Callable[..., Flask]


@pytest.fixture
def make_app(database: Database, clock: FixedClock, tmp_path: Path) -> Iterator[MakeApp]:
    """Apps (think: gunicorn workers) on the test database with the given settings."""
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        configured = Settings(
            database_url=database.url,
            public_url=PUBLIC_URL,
            secret_key=Secret("test-secret-key-0123456789"),
            instance_path=tmp_path,
            **settings,
        )
        app = create_app(configured, build_clients(configured, clock))
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["walletcards.db"].dispose()


def fresh_address() -> str:
    """A client address no other test (nor an earlier run sharing Redis) has used."""
    return ".".join(str(byte) for byte in uuid.uuid4().bytes[:4])


def attempt(
    client: FlaskClient,
    password: str = PASSWORD,
    *,
    email: str = "till1@example.com",
    program: str = "demo",
    area: str = "cashier",
    forwarded_for: str | None = None,
    proxy: str = "10.0.0.2",
) -> Any:
    """One sign-in through the form, arriving from ``proxy`` (the peer address), which
    forwards for ``forwarded_for``."""
    page = client.get(f"/{area}/")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(
        f"/{area}/login",
        data={"csrf_token": csrf, "program": program, "email": email, "password": password},
        headers=headers,
        environ_base={"REMOTE_ADDR": proxy},
    )


def outcome(answer: Any) -> str:
    if answer.status_code == 429:
        return "limited"
    assert answer.status_code == 303, answer.text
    return "failed" if answer.headers["Location"].endswith("error=1") else "in"


@pytest.fixture
def staff(database: Database, program: Program) -> None:
    for email, role in (("till1@example.com", "cashier"), ("till2@example.com", "cashier")):
        added = staff_cli(
            database, "add", "--program", "demo", "--role", role, email, stdin=PASSWORD
        )
        assert added.exit_code == 0, added.output


def test_behind_a_trusted_proxy_each_client_address_has_its_own_limit(
    make_app: MakeApp, staff: None
) -> None:
    client = make_app(trusted_proxies=1).test_client()
    one, two = fresh_address(), fresh_address()
    answers = [outcome(attempt(client, "wrong password!", forwarded_for=one)) for _ in range(6)]
    assert answers == ["failed"] * 5 + ["limited"]
    # the till and the dashboard forms count together
    assert outcome(attempt(client, area="admin", forwarded_for=one)) == "limited"
    assert outcome(attempt(client, forwarded_for=two)) == "in"


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(
    make_app: MakeApp, staff: None
) -> None:
    client = make_app().test_client()
    proxy = fresh_address()
    for _ in range(5):
        attempt(client, "wrong password!", forwarded_for=fresh_address(), proxy=proxy)
    assert outcome(attempt(client, forwarded_for=fresh_address(), proxy=proxy)) == "limited"


def test_the_limit_answers_an_html_page_with_the_form(make_app: MakeApp, staff: None) -> None:
    client = make_app(trusted_proxies=1).test_client()
    address = fresh_address()
    for _ in range(5):
        attempt(client, "wrong password!", forwarded_for=address)
    for area in ("cashier", "admin"):
        limited = attempt(client, area=area, forwarded_for=address)
        assert limited.status_code == 429 and limited.mimetype == "text/html"
        assert f'action="/{area}/login"' in limited.text
        assert "Too many sign-in attempts" in limited.text
        assert int(limited.headers["Retry-After"]) > 0


def test_failures_from_many_addresses_lock_the_account_but_one_address_cannot(
    make_app: MakeApp, staff: None
) -> None:
    client = make_app(trusted_proxies=1).test_client()
    attacker = fresh_address()
    tries = [outcome(attempt(client, "guess!", forwarded_for=attacker)) for _ in range(6)]
    assert tries[-1] == "limited"  # the attacker's address is stopped first ...
    assert outcome(attempt(client, forwarded_for=fresh_address())) == "in"  # ... not the cashier
    for _ in range(5):  # a botnet, every guess from another address: 10 failures in a minute
        assert outcome(attempt(client, "guess!", forwarded_for=fresh_address())) == "failed"
    assert outcome(attempt(client, forwarded_for=fresh_address())) == "limited"
    assert outcome(attempt(client, email="TILL2@example.com ", forwarded_for=fresh_address())) == (
        "in"
    )


def test_the_account_limit_counts_failures_only(make_app: MakeApp, staff: None) -> None:
    client = make_app(trusted_proxies=1).test_client()
    for _ in range(12):
        assert outcome(attempt(client, forwarded_for=fresh_address())) == "in"


def test_two_processes_share_the_limits_through_redis(make_app: MakeApp, staff: None) -> None:
    """Needs the Redis server on 127.0.0.1:6379 (started by CI like PostgreSQL)."""
    redis.Redis.from_url(REDIS).ping()  # down: fail here, plainly (never skipped)
    one = make_app(trusted_proxies=1, ratelimit_storage_url=Secret(REDIS)).test_client()
    two = make_app(trusted_proxies=1, ratelimit_storage_url=Secret(REDIS)).test_client()
    address, nobody = fresh_address(), f"{uuid.uuid4().hex}@example.com"
    for client in (one, two, one, two, one):
        assert outcome(attempt(client, email=nobody, forwarded_for=address)) == "failed"
    assert outcome(attempt(two, email=nobody, forwarded_for=address)) == "limited"
    for client in (one, two) * 5:
        attempt(client, email=nobody, forwarded_for=fresh_address())
    assert outcome(attempt(one, email=nobody, forwarded_for=fresh_address())) == "limited"


def test_an_unknown_or_disabled_email_takes_as_long_as_a_wrong_password(
    make_app: MakeApp, staff: None, database: Database
) -> None:
    client = make_app(trusted_proxies=1).test_client()
    assert staff_cli(database, "disable", "till2@example.com").exit_code == 0

    def seconds(email: str) -> float:
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            answer = attempt(client, "wrong!", email=email, forwarded_for=fresh_address())
            assert outcome(answer) == "failed"
            runs.append(time.perf_counter() - started)
        return min(runs)

    wrong = seconds("till1@example.com")
    for email in ("nobody@example.com", "till2@example.com"):
        # argon2 takes ~0.2 s; a database miss alone takes a few ms
        assert 0.6 < seconds(email) / wrong < 1.6


BAD_VALUES = ["demo\r\nSet-Cookie: evil=1", "demo\n", "de\x00mo", "\x1b[31m", "d" * 2000]


@pytest.mark.parametrize("area", ["cashier", "admin"])
def test_control_characters_and_overlong_values_get_a_400_page(
    make_app: MakeApp, staff: None, area: str
) -> None:
    client = make_app(trusted_proxies=1).test_client()
    for field in ("program", "email", "password"):
        for bad in BAD_VALUES:
            values: dict[str, Any] = {"program": "demo", "email": "till1@example.com"}
            values["password"] = PASSWORD
            values[field] = bad if field != "email" else f"till1@example.com{bad}"
            answer = attempt(client, area=area, forwarded_for=fresh_address(), **values)
            assert answer.status_code == 400, (field, bad, answer.status_code)
            assert answer.mimetype == "text/html" and f'action="/{area}/login"' in answer.text
            assert "evil" not in answer.headers.get("Set-Cookie", "")
    page = client.get(f"/{area}/?program=demo%0D%0ASet-Cookie:%20evil=1")
    assert page.status_code == 200 and "evil" not in page.headers.get("Set-Cookie", "")


def test_sign_in_still_works_and_is_limited_while_redis_is_unreachable(
    make_app: MakeApp, staff: None
) -> None:
    client = make_app(ratelimit_storage_url=Secret("redis://127.0.0.1:1")).test_client()
    answers = [outcome(attempt(client, "wrong password!")) for _ in range(6)]
    assert answers == ["failed"] * 5 + ["limited"]  # counted in this process meanwhile


@pytest.mark.parametrize("area", ["cashier", "admin"])
def test_an_integration_account_cannot_sign_in_to_the_pages(
    make_app: MakeApp, staff: None, database: Database, area: str
) -> None:
    added = staff_cli(
        database,
        "add",
        "--program",
        "demo",
        "--role",
        "integration",
        "shop@example.com",
        stdin=PASSWORD,
    )
    assert added.exit_code == 0, added.output
    client = make_app().test_client()
    signed = attempt(client, email="shop@example.com", area=area, forwarded_for=fresh_address())
    assert outcome(signed) == "failed"
    cashier = attempt(client, area=area, forwarded_for=fresh_address())  # the form still works
    assert outcome(cashier) == "in"


def test_pass_gets_and_webhooks_skip_the_limiter_and_sign_ins_stay_limited(
    make_app: MakeApp, staff: None
) -> None:
    """The PassKit web service and the shops' webhooks skip Flask-Limiter's per-request hooks
    (staff.signin ``UNLIMITED_BLUEPRINTS``); every other request still goes through them."""
    app = make_app(trusted_proxies=1)
    consulted: list[str] = []

    def note() -> bool:  # called by the limiter's check of each request it looks at
        consulted.append(request.path)
        return False

    app.extensions["walletcards.limiter"].request_filter(note)
    client = app.test_client()
    for _ in range(40):  # more than any limit would allow
        answer = client.get("/passkit/v1/passes/pass.com.example.demo/no-such-serial")
        assert answer.status_code == 401
        answer = client.post("/webhooks/demo/no-such-source", data=b"{}")
        assert 400 <= answer.status_code < 500 and answer.status_code != 429
    assert consulted == []
    address = fresh_address()
    answers = [outcome(attempt(client, "wrong password!", forwarded_for=address)) for _ in range(6)]
    assert answers == ["failed"] * 5 + ["limited"]
    assert "/cashier/login" in consulted and "/cashier/" in consulted
