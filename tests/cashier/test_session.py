"""Staff sessions live on the server: signing out, disabling a member and changing their
password end them at once, even for a copy of the cookie taken before."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.cashier.test_api import login, session_csrf
from tests.kit.programs import MakeProgram
from tests.kit.web import json_of
from walletcards.cli import main
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Program
from walletcards.staff.models import Staff

COOKIE = "walletcards_till"


def staff_cli(database: Database, *args: str, stdin: str | None = None) -> Result:
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    return CliRunner().invoke(main, ["staff", *args], input=stdin, env=env)


def copy_of_cookie(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding the very same cookie (what a thief would copy)."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    return thief


def scan(client: FlaskClient, code: str, csrf: str) -> int:
    answer = client.post(
        "/api/v1/cashier/scan", json={"code": code}, headers={"X-CSRF-Token": csrf}
    )
    return answer.status_code


def signed_in_at(client: FlaskClient, area: str) -> bool:
    return f'action="/{area}/logout"' in client.get(f"/{area}/").text


def test_a_till_cookie_copied_before_sign_out_is_dead_afterwards(
    app: Flask, client: FlaskClient, cashier: dict[str, str], card_code: str
) -> None:
    assert login(client).status_code == 303
    csrf = session_csrf(client)
    thief = copy_of_cookie(app, client)
    assert scan(thief, card_code, csrf) == 200  # the copy works while the session is open
    client.post("/cashier/logout", data={"csrf_token": csrf})
    assert scan(thief, card_code, csrf) == 401
    assert not signed_in_at(thief, "cashier")


def test_a_dashboard_cookie_copied_before_sign_out_is_dead_afterwards(
    app: Flask, client: FlaskClient, manager: dict[str, str]
) -> None:
    login(client, area="admin", email="boss@example.com")
    thief = copy_of_cookie(app, client)
    assert thief.get("/admin/export.csv?table=tiers").status_code == 200
    csrf = client.get("/admin/").text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/admin/logout", data={"csrf_token": csrf})
    assert thief.get("/admin/export.csv?table=tiers").status_code == 401
    assert not signed_in_at(thief, "admin")


def test_signing_out_ends_only_that_browser_s_session(
    app: Flask, client: FlaskClient, cashier: dict[str, str], card_code: str
) -> None:
    other = app.test_client()
    login(client)
    login(other)
    client.post("/cashier/logout", data={"csrf_token": session_csrf(client)})
    assert scan(other, card_code, session_csrf(other)) == 200


def test_a_disabled_member_is_locked_out_everywhere_at_once(
    client: FlaskClient,
    database: Database,
    cashier: dict[str, str],
    manager: dict[str, str],
    card_code: str,
) -> None:
    boss = client.application.test_client()
    login(client)
    login(boss, area="admin", email="boss@example.com")
    csrf = session_csrf(client)
    assert scan(client, card_code, csrf) == 200

    assert staff_cli(database, "disable", "till1@example.com").exit_code == 0
    assert staff_cli(database, "disable", "--program", "demo", "boss@example.com").exit_code == 0
    assert scan(client, card_code, csrf) == 401  # the open till session
    assert not signed_in_at(client, "cashier")
    token = client.post("/api/v1/cashier/scan", json={"code": card_code}, headers=cashier)
    assert token.status_code == 401  # the POS token
    assert boss.get("/admin/export.csv?table=tiers").status_code == 401  # the open dashboard
    assert login(client).headers["Location"].endswith("error=1")  # signing in again
    assert login(boss, area="admin", email="boss@example.com").headers["Location"] != "/admin/"

    enabled = staff_cli(database, "enable", "till1@example.com")
    assert enabled.exit_code == 0, enabled.output
    assert login(client).headers["Location"] == "/cashier/"
    assert scan(client, card_code, session_csrf(client)) == 200


def test_a_new_password_ends_every_session_and_retires_the_old_one(
    app: Flask, client: FlaskClient, database: Database, cashier: dict[str, str], card_code: str
) -> None:
    tablet = app.test_client()
    login(client)
    login(tablet)
    changed = staff_cli(database, "password", "till1@example.com", stdin="a brand new password\n")
    assert changed.exit_code == 0, changed.output
    assert "a brand new password" not in changed.output
    assert scan(client, card_code, session_csrf(client)) == 401
    assert not signed_in_at(tablet, "cashier")
    assert login(client).headers["Location"].endswith("error=1")
    assert login(client, "a brand new password").headers["Location"] == "/cashier/"


def test_staff_commands_refuse_short_passwords_and_unknown_members(
    client: FlaskClient, database: Database, cashier: dict[str, str]
) -> None:
    short = staff_cli(database, "password", "till1@example.com", stdin="short\n")
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    assert login(client).headers["Location"] == "/cashier/"  # nothing changed
    for command in ("disable", "enable", "password"):
        unknown = staff_cli(database, command, "nobody@example.com", stdin="long enough pass\n")
        assert unknown.exit_code != 0 and "no such staff member" in unknown.output


def test_an_idle_session_ends_on_the_server_clock(
    client: FlaskClient, cashier: dict[str, str], card_code: str, clock: FixedClock
) -> None:
    login(client)
    csrf = session_csrf(client)
    clock.advance(timedelta(minutes=29))
    assert scan(client, card_code, csrf) == 200  # each request restarts the idle time
    clock.advance(timedelta(minutes=29))
    assert scan(client, card_code, csrf) == 200
    clock.advance(timedelta(minutes=31))
    assert scan(client, card_code, csrf) == 401


def test_disable_acts_on_every_programme_of_the_email_enable_and_password_need_one(
    database: Database, make_program: MakeProgram, program: Program
) -> None:
    make_program(slug="other")
    for slug in ("demo", "other"):
        added = staff_cli(
            database, "add", "--program", slug, "--role", "cashier", "x@example.com",
            stdin="a long enough password\n",
        )  # fmt: skip
        assert added.exit_code == 0, added.output
    disabled = staff_cli(database, "disable", "x@example.com")
    assert disabled.exit_code == 0 and "disabled in 2 programme(s)" in disabled.output
    for command in ("enable", "password"):
        ambiguous = staff_cli(database, command, "x@example.com", stdin="another long password\n")
        assert ambiguous.exit_code != 0 and "add --program" in ambiguous.output
    assert staff_cli(database, "enable", "--program", "other", "x@example.com").exit_code == 0
    with database.transaction() as session:
        states = session.execute(
            select(Program.slug, Staff.disabled)
            .join(Staff, Staff.program_id == Program.id)
            .order_by(Program.slug)
        ).all()
    assert [tuple(row) for row in states] == [("demo", True), ("other", False)]


def test_odd_csrf_tokens_are_refused_cleanly(
    client: FlaskClient, cashier: dict[str, str], card_code: str
) -> None:
    client.get("/cashier/")  # the form's cookie
    for token in ("é", "\x00", "ab\r\ncd"):
        form = {"csrf_token": token, "program": "demo", "email": "x@example.com", "password": "y"}
        answer = client.post("/cashier/login", data=form)
        assert answer.status_code == 400 and json_of(answer)["error"]["code"] == "csrf"
    login(client)
    odd = client.post(
        "/api/v1/cashier/scan", json={"code": card_code}, headers={"X-CSRF-Token": "é"}
    )
    assert odd.status_code == 403 and json_of(odd)["error"]["code"] == "csrf"
