"""What a careless or hostile client can send the PassKit web service: malformed, oversized,
unauthenticated, replayed and duplicate input. Always a clear 4xx in the error shape (never a
500: NUL characters used to reach PostgreSQL, which refuses them), and nothing stored."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.kit.apple import DEVICE, PTID, PUSH
from tests.kit.passes import auth, registration_url, statements
from walletcards.apple.models import AppleRegistration
from walletcards.db import Database

Issued = tuple[str, str, str]


def registrations(database: Database) -> list[tuple[str, str]]:
    with database.transaction() as session:
        rows = session.execute(
            select(AppleRegistration.device_library_id, AppleRegistration.push_token)
        ).all()
    return [(device, token) for device, token in rows]


def error_code(response: TestResponse) -> str:
    body: Any = response.json
    assert set(body["error"]) == {"code", "message"}, body
    code: str = body["error"]["code"]
    return code


NOT_DEVICE_TOKENS = [
    "\x01" * 64,  # control characters: the worker could never put it in a URL
    "".join(chr(c) for c in range(1, 257)),  # 256 arbitrary characters
    "ab\x00" * 20,  # NUL
    "g" * 64,  # not hex
    "ab cd" * 10,
    "/../" * 16,
    "é" * 64,
    "a" * 201,  # longer than any device token
    "a" * 15,
]
DEVICE_TOKENS = ["ab" * 8, "0123456789abcdef" * 4, "AB" * 54, "f" * 200]  # hex, 16 to 200
MALFORMED_DEVICES = ["a%00b", "%00", "a%01b", "x" * 129, "a%20b", "%C3%A9", "a:b"]
MALFORMED_PASSES = [  # (pass type, serial); None: the card's own serial
    (PTID, "a%00b"),
    (PTID, "%00"),
    (PTID, "9" * 65),
    (PTID, "a%0Ab"),
    (PTID, "%C3%A9"),
    ("pass.a%00b", None),
    ("p" * 256, None),
]
UNREADABLE_TAGS = ["1" * 21, "9" * 18, "abc", "-5", "١٢٣", "²", "1e5", " 5", "0x10", "5" * 5000, ""]


def test_push_tokens_that_are_not_hex_device_tokens_are_400_and_not_stored(
    client: FlaskClient, issued: Issued, database: Database
) -> None:
    _, serial, secret = issued
    for push_token in NOT_DEVICE_TOKENS:
        response = client.post(
            registration_url(serial), json={"pushToken": push_token}, headers=auth(secret)
        )
        assert response.status_code == 400, push_token
        assert error_code(response) == "bad_request"
    assert registrations(database) == []


def test_hex_device_tokens_of_any_length_from_16_to_200_are_accepted(
    client: FlaskClient, issued: Issued, database: Database
) -> None:
    _, serial, secret = issued
    for number, push_token in enumerate(DEVICE_TOKENS):
        response = client.post(
            registration_url(serial, device=f"device{number}"),
            json={"pushToken": push_token},
            headers=auth(secret),
        )
        assert response.status_code == 201, push_token
    assert sorted(registrations(database)) == [
        (f"device{number}", token) for number, token in enumerate(DEVICE_TOKENS)
    ]


def test_malformed_device_library_identifiers_are_400_on_every_device_endpoint_unqueried(
    app: Flask, client: FlaskClient, issued: Issued, database: Database
) -> None:
    _, serial, secret = issued
    for device in MALFORMED_DEVICES:
        url = registration_url(serial, device=device)
        listing = f"/passkit/v1/devices/{device}/registrations/{PTID}"
        with statements(app) as seen:
            answers = [
                client.post(url, json={"pushToken": PUSH}, headers=auth(secret)),
                client.delete(url, headers=auth(secret)),
                client.get(listing),
                client.get(listing, query_string={"passesUpdatedSince": "1"}),
            ]
        assert [(r.status_code, error_code(r)) for r in answers] == [(400, "bad_request")] * 4
        assert seen == [], device
    assert registrations(database) == []


def test_malformed_serials_and_pass_types_are_the_same_401_as_unknown_ones_unqueried(
    app: Flask, client: FlaskClient, issued: Issued, database: Database
) -> None:
    _, real_serial, secret = issued
    unknown = client.post(
        registration_url("0" * 36), json={"pushToken": PUSH}, headers=auth(secret)
    )
    assert unknown.status_code == 401
    for ptid, malformed in MALFORMED_PASSES:
        serial = malformed or real_serial
        url = registration_url(serial, ptid=ptid)
        with statements(app) as seen:
            answers = [
                client.post(url, json={"pushToken": PUSH}, headers=auth(secret)),
                client.delete(url, headers=auth(secret)),
                client.get(f"/passkit/v1/passes/{ptid}/{serial}", headers=auth(secret)),
            ]
            head = client.head(f"/passkit/v1/passes/{ptid}/{serial}", headers=auth(secret))
        assert {(r.status_code, r.get_data()) for r in answers} == {(401, unknown.get_data())}
        assert head.status_code == 401
        assert seen == [], (ptid, serial)  # nothing of ours looks like that: no query
    assert registrations(database) == []


def test_listing_serials_for_a_malformed_pass_type_is_400(client: FlaskClient) -> None:
    for ptid in ("pass.a%00b", "p" * 256, "a%20b"):
        response = client.get(f"/passkit/v1/devices/{DEVICE}/registrations/{ptid}")
        assert response.status_code == 400 and error_code(response) == "bad_request"


def test_a_tag_we_could_not_have_given_out_counts_as_no_tag(
    client: FlaskClient, issued: Issued
) -> None:
    """The device then gets all its serials and a fresh tag, instead of an error it would
    retry with the same tag forever."""
    _, serial, secret = issued
    client.post(registration_url(serial), json={"pushToken": PUSH}, headers=auth(secret))
    listing = f"/passkit/v1/devices/{DEVICE}/registrations/{PTID}"
    for tag in UNREADABLE_TAGS:
        listed = client.get(listing, query_string={"passesUpdatedSince": tag})
        assert listed.status_code == 200, tag
        assert listed.json is not None and listed.json["serialNumbers"] == [serial]
        fresh = listed.json["lastUpdated"]
        assert isinstance(fresh, str) and fresh.isdigit()
        assert client.get(listing, query_string={"passesUpdatedSince": fresh}).status_code == 204


def test_registration_bodies_over_4_kib_are_413_and_store_nothing(
    client: FlaskClient, issued: Issued, database: Database
) -> None:
    _, serial, secret = issued
    body = json.dumps({"pushToken": PUSH, "padding": "x" * 4096})
    response = client.post(
        registration_url(serial), data=body, headers=auth(secret), content_type="application/json"
    )
    assert response.status_code == 413 and error_code(response) == "request_entity_too_large"
    assert registrations(database) == []


def test_unauthenticated_registrations_are_401_whatever_the_body(
    client: FlaskClient, issued: Issued, database: Database
) -> None:
    _, serial, _ = issued
    answers = [
        client.post(registration_url(serial), json={"pushToken": "\x01" * 64}),
        client.post(registration_url(serial), data=b"not json", headers=auth("x" * 10_000)),
        client.post(registration_url(serial), json={"pushToken": PUSH}, headers=auth("")),
        client.post(
            registration_url(serial),
            json={"pushToken": PUSH},
            headers={"Authorization": "ApplePass"},
        ),
    ]
    assert [r.status_code for r in answers] == [401] * 4
    assert registrations(database) == []


def test_a_replayed_registration_is_200_and_keeps_one_row_with_the_latest_token(
    client: FlaskClient, issued: Issued, database: Database
) -> None:
    _, serial, secret = issued
    url = registration_url(serial)
    statuses = [
        client.post(url, json={"pushToken": PUSH}, headers=auth(secret)).status_code,
        client.post(url, json={"pushToken": PUSH}, headers=auth(secret)).status_code,
        client.post(url, json={"pushToken": "ab" * 32}, headers=auth(secret)).status_code,
    ]
    assert statuses == [201, 200, 200]
    assert registrations(database) == [(DEVICE, "ab" * 32)]


def test_a_replayed_unregistration_is_200_each_time(
    client: FlaskClient, issued: Issued, database: Database
) -> None:
    _, serial, secret = issued
    url = registration_url(serial)
    client.post(url, json={"pushToken": PUSH}, headers=auth(secret))
    statuses = [client.delete(url, headers=auth(secret)).status_code for _ in range(2)]
    assert statuses == [200, 200] and registrations(database) == []
