"""The PassKit web service as an iPhone uses it, and everything a bad client might send."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.kit.apple import DEVICE, PTID, PUSH
from tests.kit.passes import auth, fields, paid_order, pass_json, registration_url, unpack
from walletcards.apple.models import AppleRegistration
from walletcards.clock import FixedClock
from walletcards.db import Database


def test_the_whole_device_conversation(
    client: FlaskClient, clock: FixedClock, issued: tuple[str, str, str]
) -> None:
    _, serial, secret = issued
    first = client.post(registration_url(serial), json={"pushToken": PUSH}, headers=auth(secret))
    again = client.post(registration_url(serial), json={"pushToken": PUSH}, headers=auth(secret))
    assert (first.status_code, again.status_code) == (201, 200)

    listed = client.get(f"/passkit/v1/devices/{DEVICE}/registrations/{PTID}")
    assert listed.status_code == 200 and listed.json is not None
    assert listed.json["serialNumbers"] == [serial]
    tag = listed.json["lastUpdated"]
    assert isinstance(tag, str)  # a string, never a number
    nothing = client.get(
        f"/passkit/v1/devices/{DEVICE}/registrations/{PTID}?passesUpdatedSince={tag}"
    )
    assert nothing.status_code == 204

    fetched = client.get(f"/passkit/v1/passes/{PTID}/{serial}", headers=auth(secret))
    assert fetched.status_code == 200 and fetched.mimetype == "application/vnd.apple.pkpass"
    modified = fetched.headers["Last-Modified"]

    clock.advance(timedelta(minutes=5))
    paid_order(client, clock, "A-2", "20.00")  # a ledger change

    changed = client.get(
        f"/passkit/v1/devices/{DEVICE}/registrations/{PTID}?passesUpdatedSince={tag}"
    )
    assert changed.status_code == 200 and changed.json is not None
    assert changed.json["serialNumbers"] == [serial] and changed.json["lastUpdated"] != tag
    updated = client.get(
        f"/passkit/v1/passes/{PTID}/{serial}",
        headers={**auth(secret), "If-Modified-Since": modified},
    )
    assert updated.status_code == 200
    assert fields(pass_json(unpack(updated.data)))["pending"]["value"] == 250 + 300 + 140
    latest = updated.headers["Last-Modified"]
    unchanged = client.get(
        f"/passkit/v1/passes/{PTID}/{serial}", headers={**auth(secret), "If-Modified-Since": latest}
    )
    assert unchanged.status_code == 304 and unchanged.data == b""
    head = client.head(f"/passkit/v1/passes/{PTID}/{serial}", headers=auth(secret))
    assert head.status_code == 200 and head.data == b""

    gone = client.delete(registration_url(serial), headers=auth(secret))
    assert gone.status_code == 200
    assert client.get(f"/passkit/v1/devices/{DEVICE}/registrations/{PTID}").status_code == 204


def test_bad_tokens_unknown_serials_and_wrong_pass_types_all_answer_401(
    client: FlaskClient, issued: tuple[str, str, str], database: Database
) -> None:
    _, serial, secret = issued
    attempts = [
        client.post(
            registration_url(serial), json={"pushToken": PUSH}, headers=auth("wrong-token-0000")
        ),
        client.post(
            registration_url(serial),
            json={"pushToken": PUSH},
            headers={"Authorization": f"Bearer {secret}"},
        ),
        client.post(registration_url(serial), json={"pushToken": PUSH}),
        client.post(
            registration_url("00000000-0000-0000-0000-000000000000"),
            json={"pushToken": PUSH},
            headers=auth(secret),
        ),
        client.post(
            registration_url(serial, ptid="pass.com.other"),
            json={"pushToken": PUSH},
            headers=auth(secret),
        ),
        client.get(f"/passkit/v1/passes/{PTID}/{serial}", headers=auth("x" * 32)),
        client.get(f"/passkit/v1/passes/{PTID}/{'9' * 300}", headers=auth(secret)),
        client.delete(registration_url(serial), headers=auth("nope")),
    ]
    bodies = {(r.status_code, r.get_data(as_text=True)) for r in attempts}
    assert len(bodies) == 1  # the same 401 whether or not the serial exists
    ((status, _),) = bodies
    assert status == 401
    with database.transaction() as session:
        assert (
            session.execute(select(func.count()).select_from(AppleRegistration)).scalar_one() == 0
        )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"pushToken": 5}',
        b'{"pushToken": ""}',
        b'{"token": "abc"}',
        b'{"pushToken": "' + b"a" * 300 + b'"}',
    ],
)
def test_malformed_push_token_bodies_are_400(
    client: FlaskClient, issued: tuple[str, str, str], body: bytes
) -> None:
    _, serial, secret = issued
    response = client.post(
        registration_url(serial), data=body, headers=auth(secret), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json is not None and response.json["error"]["code"] == "bad_request"


def test_an_unreadable_if_modified_since_gets_the_pass(
    client: FlaskClient, issued: tuple[str, str, str], clock: FixedClock
) -> None:
    _, serial, secret = issued
    garbage = client.get(
        f"/passkit/v1/passes/{PTID}/{serial}",
        headers={**auth(secret), "If-Modified-Since": "yesterday-ish"},
    )
    older = client.get(
        f"/passkit/v1/passes/{PTID}/{serial}",
        headers={
            **auth(secret),
            "If-Modified-Since": format_datetime(clock.now() - timedelta(days=1), usegmt=True),
        },
    )
    assert garbage.status_code == 200 and older.status_code == 200
