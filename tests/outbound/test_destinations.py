"""Where events may go: in production only https to public addresses, checked when a programme
is applied (literal addresses) and again at every delivery after resolving the name (DNS
rebinding), with the connection pinned to the address that was checked."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask, Response, request
from sqlalchemy import select

from tests.fakes.loopback import serving
from tests.fakes.tls import loopback_server_cert
from tests.kit.passes import paid_order
from tests.kit.programs import MakeProgram, demo_file
from tests.kit.webhooks import ORDERS_SECRET
from tests.outbound.conftest import EVENTS_SECRET, Receiver
from walletcards.cli import main
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.outbound.delivery import deliver_events
from walletcards.outbound.destinations import url_problem
from walletcards.outbound.models import OutboundEvent
from walletcards.outbound.sender import EventSender
from walletcards.settings import Settings

REFUSED = {
    "http://127.0.0.1:5432/": "must be https",
    "https://127.0.0.1:5432/": "127.0.0.1 is a loopback address",
    "https://[::1]/": "loopback",
    "https://[::ffff:127.0.0.1]/": "loopback",
    "https://[::ffff:a9fe:a9fe]/": "link-local",  # 169.254.169.254, the metadata service
    "https://[64:ff9b::a00:1]/": "private",  # NAT64 of 10.0.0.1
    "https://[2002:c0a8:101::1]/": "private (tunnelled)",  # 6to4 of 192.168.1.1
    "https://10.1.2.3/": "private",
    "https://172.16.0.1/": "private",
    "https://192.168.1.1/": "private",
    "https://169.254.169.254/latest/meta-data/": "link-local",
    "https://100.64.0.1/": "non-global",
    "https://[fe80::1%25eth0]/": "link-local",
    "https://[fd00::1]/": "private",
    "https://224.0.0.1/": "multicast",
    "https://[ff02::1]/": "multicast",
    "https://0.0.0.0/": "unspecified",
    "https://[::]/": "unspecified",
    "https://240.0.0.1/": "private",
    "https://2130706433/": "not an IP address",  # 127.0.0.1 to inet_aton()
    "https://0x7f000001/": "not an IP address",
    "https://0177.0.0.1/": "not an IP address",
    "https://127.1/": "not an IP address",
    "https://localhost:8080/": "loopback name",
    "https://api.localhost./": "loopback name",
    "https://user:pw@crm.example.com/": "user name or password",
    "https://crm.example.com@127.0.0.1/": "user name or password",
    "https://crm.example.com\\@127.0.0.1/": "backslashes",
    "https://crm.example.com:99999/": "not a valid URL",
    "https://crm%2eexample.com/": "not a host name",
    "ftp://crm.example.com/": "http(s)",
}
ALLOWED = [
    "https://crm.example.com/hooks/walletcards",
    "https://8.8.8.8:8443/hook",
    "https://[2606:4700::1111]/hook",
    "https://[64:ff9b::808:808]/",  # NAT64 of a public address
]


@pytest.mark.once
@pytest.mark.parametrize(("url", "reason"), REFUSED.items())
def test_production_refuses_non_public_destinations(url: str, reason: str) -> None:
    problem = url_problem(url, dev=False)
    assert problem is not None and reason in problem, (url, problem)


@pytest.mark.once
@pytest.mark.parametrize("url", ALLOWED)
def test_production_allows_https_to_public_hosts(url: str) -> None:
    assert url_problem(url, dev=False) is None


@pytest.mark.once
def test_development_allows_http_and_loopback_but_not_odd_address_forms() -> None:
    assert url_problem("http://127.0.0.1:5432/hook", dev=True) is None
    assert url_problem("http://localhost:8000/hook", dev=True) is None
    assert "not an IP address" in (url_problem("http://2130706433/", dev=True) or "")


def apply(database: Database, tmp_path: Path, url: str, dev: bool) -> Any:
    text = demo_file().read_text()
    text += f'\n[[events]]\nurl = "{url}"\nsecret = "{EVENTS_SECRET}"\n'
    path = tmp_path / "programme.toml"
    path.write_text(text)
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1" if dev else ""}
    if not dev:
        env |= {"WALLETCARDS_PUBLIC_URL": "https://cards.example.com"}
        env |= {"WALLETCARDS_SECRET_KEY": "test-secret-key-0123456789"}
    return CliRunner().invoke(main, ["program", "apply", str(path)], env=env)


def test_program_apply_refuses_a_loopback_event_url_outside_development(
    database: Database, tmp_path: Path
) -> None:
    refused = apply(database, tmp_path, "http://127.0.0.1:5432/", dev=False)
    assert refused.exit_code != 0
    assert "events[0].url: must be https" in refused.output, refused.output
    assert "not applied" in refused.output
    applied = apply(database, tmp_path, "http://127.0.0.1:5432/", dev=True)
    assert applied.exit_code == 0, applied.output


def fake_resolver(table: dict[str, list[str]]) -> Any:
    """A resolver that answers from ``table`` (what a DNS under an attacker's control says)."""

    def resolve(host: str, port: int) -> Sequence[str]:
        return table[host]

    return resolve


def events(database: Database) -> list[OutboundEvent]:
    with database.transaction() as session:
        rows = list(session.execute(select(OutboundEvent)).scalars())
        session.expunge_all()
    return rows


@pytest.fixture
def production(settings: Settings) -> Settings:
    from dataclasses import replace

    return replace(settings, dev=False)


@pytest.mark.parametrize(
    "addresses", [["127.0.0.1"], ["93.184.215.14", "127.0.0.1"], ["::ffff:10.0.0.7"]]
)
def test_a_name_that_resolves_to_a_private_address_is_refused_at_delivery(
    app: Flask,
    database: Database,
    production: Settings,
    clock: FixedClock,
    make_program: MakeProgram,
    receiver: Receiver,
    addresses: list[str],
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    url = f"https://crm.example.com:{port}/hook"  # public-looking: passes the check on apply
    assert url_problem(url, dev=False) is None
    make_program(
        webhooks={"orders_secret": ORDERS_SECRET}, events=[{"url": url, "secret": EVENTS_SECRET}]
    )
    paid_order(app.test_client(), clock, "A-1")
    sender = EventSender(dev=False, resolver=fake_resolver({"crm.example.com": addresses}))
    assert deliver_events(database, production, sender, clock.now()) == 0
    sender.close()
    assert receiver.calls == []
    rows = events(database)
    assert rows and {row.status for row in rows} == {"pending"}  # retried, like a dead endpoint
    private = ipaddress.ip_address(addresses[-1])
    for row in rows:
        assert row.attempts == 1 and row.last_status is not None
        assert row.last_status.startswith(f"refused: crm.example.com resolves to {private}, a ")


def test_a_stored_loopback_url_is_refused_at_delivery_in_production(
    app: Flask,
    database: Database,
    production: Settings,
    clock: FixedClock,
    make_program: MakeProgram,
    receiver: Receiver,
) -> None:
    make_program(  # stored before the check existed, or applied with WALLETCARDS_DEV=1
        webhooks={"orders_secret": ORDERS_SECRET},
        events=[{"url": receiver.url, "secret": EVENTS_SECRET}],
    )
    paid_order(app.test_client(), clock, "A-1")
    sender = EventSender(dev=production.dev)
    assert deliver_events(database, production, sender, clock.now()) == 0
    sender.close()
    assert receiver.calls == []
    assert {row.last_status for row in events(database)} == {
        "refused: must be https (http only in development, WALLETCARDS_DEV=1)"
    }


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(
    app: Flask,
    database: Database,
    settings: Settings,
    clock: FixedClock,
    make_program: MakeProgram,
    receiver: Receiver,
) -> None:
    """crm.test exists only in the fake resolver: the request can only have reached the
    receiver through the pinned address, and it still names crm.test."""
    port = receiver.url.split(":")[2].split("/")[0]
    make_program(
        webhooks={"orders_secret": ORDERS_SECRET},
        events=[{"url": f"http://crm.test:{port}/hook", "secret": EVENTS_SECRET}],
    )
    paid_order(app.test_client(), clock, "A-1")
    sender = EventSender(dev=True, resolver=fake_resolver({"crm.test": ["127.0.0.1"]}))
    assert deliver_events(database, settings, sender, clock.now()) >= 3
    sender.close()
    assert {headers["Host"] for headers, _ in receiver.calls} == {f"crm.test:{port}"}


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[Receiver, ssl.SSLContext, list[str]]]:
    """An HTTPS receiver on loopback whose certificate names only crm.test; records SNI."""
    ca, cert, key = loopback_server_cert(tmp_path, names=("crm.test",), ip=False)
    server_names: list[str] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def note_name(_sock: Any, name: str | None, _ctx: Any) -> None:
        server_names.append(str(name))

    context.sni_callback = note_name
    app = Flask("tls-receiver")
    box = Receiver("")

    @app.post("/hook")
    def hook() -> Response:
        box.calls.append(({k: v for k, v in request.headers.items()}, request.get_data()))
        return Response("ok")

    with serving(app, context) as server:
        box.url = f"https://crm.test:{server.port}/hook"
        yield box, ssl.create_default_context(cafile=str(ca)), server_names


def test_tls_to_a_pinned_address_checks_the_certificate_for_the_name_and_sends_it_as_sni(
    app: Flask,
    database: Database,
    settings: Settings,
    clock: FixedClock,
    make_program: MakeProgram,
    tls_receiver: tuple[Receiver, ssl.SSLContext, list[str]],
) -> None:
    receiver, trust, server_names = tls_receiver
    make_program(
        webhooks={"orders_secret": ORDERS_SECRET},
        events=[{"url": receiver.url, "secret": EVENTS_SECRET}],
    )
    paid_order(app.test_client(), clock, "A-1")
    resolver = fake_resolver({"crm.test": ["127.0.0.1"]})
    sender = EventSender(dev=True, resolver=resolver, verify=trust)
    delivered = deliver_events(database, settings, sender, clock.now())
    sender.close()
    assert delivered == len(receiver.calls) >= 3, {r.last_status for r in events(database)}
    assert set(server_names) == {"crm.test"}
    assert {headers["Host"] for headers, _ in receiver.calls} == {receiver.url.split("/")[2]}
