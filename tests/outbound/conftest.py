"""Outbound test kit: a real SMTP server (aiosmtpd) and an HTTP receiver, both on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask, Response, request

from tests.fakes.loopback import serving
from tests.kit.programs import MakeProgram
from tests.kit.web import MakeSettings
from tests.kit.webhooks import ORDERS_SECRET
from walletcards.loyalty.models import Program
from walletcards.settings import Secret, Settings

EVENTS_SECRET = "whsec_events_secret_0123456789"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd needs a real port number up front
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, inbox
    controller.stop()


@dataclass
class Receiver:
    url: str
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # statuses to give, then 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = Flask("receiver")
    box = Receiver("")

    @app.post("/hook")
    def hook() -> Response:
        box.calls.append(({k: v for k, v in request.headers.items()}, request.get_data()))
        status = box.answers.pop(0) if box.answers else 200
        return Response("ok", status=status)

    with serving(app) as server:
        box.url = f"{server.url}/hook"
        yield box


@pytest.fixture
def program(make_program: MakeProgram, receiver: Receiver) -> Program:
    return make_program(
        webhooks={"orders_secret": ORDERS_SECRET},
        events=[{"url": receiver.url, "secret": EVENTS_SECRET}],
    )


@pytest.fixture
def settings(make_settings: MakeSettings, smtp: tuple[Controller, Inbox]) -> Settings:
    return make_settings(
        smtp_url=Secret(f"smtp://127.0.0.1:{smtp[0].port}"),
        dev=True,  # the receiver is on loopback (production refuses it: test_destinations.py)
    )
