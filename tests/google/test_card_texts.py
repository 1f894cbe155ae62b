"""The programme's own texts ([card] terms, contact, website, how to earn) and the lock-screen
places ([apple] locations, max_distance) reach the pass (pass.json), the Google object (text
and link modules, valid against the discovery document) and the card page, each card in its
customer's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.fakes.google import DISCOVERY, FakeGoogle
from tests.google.conftest import ISSUER
from tests.kit.passes import fields, paid_order, pass_json, token_of, unpack
from tests.kit.programs import MakeProgram
from tests.kit.webhooks import ORDERS_SECRET
from walletcards.clock import FixedClock
from walletcards.google.schema import load, validate
from walletcards.loyalty.models import Program

CARD = {
    "terms": {"en": "Points have no cash value.", "ru": "Баллы не обмениваются на деньги."},
    "contact": "hello@demo.example",
    "website": "https://demo-coffee.example/loyalty?from=card&x=<1>",
    "how_to_earn": {"en": "5 points per dollar.", "ru": "5 баллов за доллар."},
}
PLACES = [
    {"latitude": 40.7128, "longitude": "-74.0060", "relevant_text": "Demo Coffee is around"},
    {"latitude": "40.73", "longitude": -73.99},
]


@pytest.fixture
def program(
    make_program: MakeProgram,
    google: tuple[FakeGoogle, Path, dict[str, Any]],
    apple_table: dict[str, str],
) -> Program:
    return make_program(
        apple={**apple_table, "locations": PLACES, "max_distance": 120},
        google={"issuer_id": ISSUER, "service_account_file": str(google[1])},
        webhooks={"orders_secret": ORDERS_SECRET},
        card=CARD,
    )


def test_the_pass_carries_the_places_and_the_programme_texts(
    client: FlaskClient, clock: FixedClock
) -> None:
    token = token_of(paid_order(client, clock, "A-1"))
    document = pass_json(unpack(client.get(f"/c/{token}/card.pkpass").data))
    assert document["locations"] == [
        {"latitude": 40.7128, "longitude": -74.006, "relevantText": "Demo Coffee is around"},
        {"latitude": 40.73, "longitude": -73.99},
    ]
    assert document["maxDistance"] == 120
    back = {f["key"]: f for f in document["storeCard"]["backFields"]}
    assert back["how_to_earn"]["value"] == "5 points per dollar."
    assert back["how_to_earn"]["label"] == "label.how_to_earn"
    assert back["terms"]["value"] == "Points have no cash value."
    assert back["contact"]["value"] == "hello@demo.example"
    assert back["website"]["value"] == CARD["website"]  # the URL itself: iOS makes it a link
    assert all("changeMessage" not in back[key] for key in CARD)  # never a lock-screen notice
    assert fields(document)["pending"]["value"] == 550  # the front is as before


def test_a_russian_customer_reads_the_texts_in_russian_everywhere(
    client: FlaskClient, clock: FixedClock, fake_google: FakeGoogle
) -> None:
    token = token_of(paid_order(client, clock, "R-1", locale="ru", customer="c-ru"))
    files = unpack(client.get(f"/c/{token}/card.pkpass").data)
    back = {f["key"]: f["value"] for f in pass_json(files)["storeCard"]["backFields"]}
    assert back["terms"] == "Баллы не обмениваются на деньги."
    assert back["how_to_earn"] == "5 баллов за доллар."
    assert back["contact"] == "hello@demo.example"  # one text for every language
    strings = files["ru.lproj/pass.strings"][2:].decode("utf-16-le")
    assert '"label.how_to_earn" = "Как получить баллы";' in strings

    assert client.get(f"/c/{token}/google").status_code == 302
    (body,) = fake_google.store["loyaltyObject"].values()
    schemas = load(str(DISCOVERY))["schemas"]
    assert validate(schemas, "LoyaltyObject", body) == []
    modules = {m["id"]: m for m in body["textModulesData"]}
    assert modules["terms"]["body"] == "Баллы не обмениваются на деньги."
    assert modules["terms"]["header"] == "Условия"
    assert modules["how_to_earn"]["body"] == "5 баллов за доллар."
    assert modules["contact"]["body"] == "hello@demo.example"
    translated = modules["terms"]["localizedHeader"]["translatedValues"]
    assert {"language": "en", "value": "Terms"} in translated
    links = {u["id"]: u for u in body["linksModuleData"]["uris"]}
    assert set(links) == {"card_page", "website"}
    assert links["website"]["uri"] == CARD["website"]
    assert links["website"]["description"] == "Сайт"

    page = client.get(f"/c/{token}").get_data(as_text=True)
    assert '<p id="about-terms">Баллы не обмениваются на деньги.</p>' in page
    assert '<p id="about-how_to_earn">5 баллов за доллар.</p>' in page
    assert '<p id="about-contact">hello@demo.example</p>' in page
    escaped = "https://demo-coffee.example/loyalty?from=card&amp;x=&lt;1&gt;"
    assert f'<a id="about-website" href="{escaped}" rel="noopener">{escaped}</a>' in page
    assert "Как получить баллы" in page and "Условия" in page


def test_the_google_object_of_an_english_card_carries_the_modules(
    client: FlaskClient, clock: FixedClock, fake_google: FakeGoogle
) -> None:
    token = token_of(paid_order(client, clock, "A-1"))
    assert client.get(f"/c/{token}/google").status_code == 302
    (body,) = fake_google.store["loyaltyObject"].values()
    assert validate(load(str(DISCOVERY))["schemas"], "LoyaltyObject", body) == []
    texts = [(m["id"], m["header"], m["body"]) for m in body["textModulesData"]]
    assert texts[-3:] == [
        ("how_to_earn", "How to earn points", "5 points per dollar."),
        ("terms", "Terms", "Points have no cash value."),
        ("contact", "Contact", "hello@demo.example"),
    ]
    assert body["linksModuleData"]["uris"][-1] == {
        "uri": CARD["website"],
        "description": "Website",
        "localizedDescription": {
            "defaultValue": {"language": "en", "value": "Website"},
            "translatedValues": [
                {"language": "ru", "value": "Сайт"},
                {"language": "zh-CN", "value": "网站"},
            ],
        },
        "id": "website",
    }


def test_without_the_tables_the_pass_and_the_page_show_none_of_it(
    client: FlaskClient, clock: FixedClock, make_program: MakeProgram, apple_table: dict[str, str]
) -> None:
    make_program(apple=apple_table, webhooks={"orders_secret": ORDERS_SECRET})  # re-applied
    token = token_of(paid_order(client, clock, "A-1"))
    document = pass_json(unpack(client.get(f"/c/{token}/card.pkpass").data))
    assert "locations" not in document and "maxDistance" not in document
    assert not {"terms", "contact", "website", "how_to_earn"} & set(fields(document))
    assert 'id="about"' not in client.get(f"/c/{token}").get_data(as_text=True)
