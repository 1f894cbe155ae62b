"""An open code from the card page shows on the Apple pass's back and on the Google object."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.fakes.google import DISCOVERY
from tests.google.conftest import ISSUER
from tests.kit.passes import fields, paid_order, pass_json, token_of, unpack
from tests.loyalty.test_ledger import give
from walletcards.cardface import card_face
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.google.objects import loyalty_object
from walletcards.google.schema import load, validate
from walletcards.loyalty.models import Card, Program

FORM = re.compile(r'name="form" value="([^"]+)"')


def test_the_open_code_is_on_the_pass_back_and_the_google_object(
    client: FlaskClient, clock: FixedClock, database: Database, program: Program
) -> None:
    token = token_of(paid_order(client, clock, "A-1"))
    with database.transaction() as session:
        card = session.execute(select(Card).where(Card.public_token == token)).scalar_one()
    give(database, card, clock, 800, "g")
    found = FORM.search(client.get(f"/c/{token}").get_data(as_text=True))
    assert found is not None
    made = client.post(f"/c/{token}/redemptions", data={"points": "500", "form": found.group(1)})
    code = re.search(r'id="new-code">([^<]+)<', made.get_data(as_text=True))
    assert made.status_code == 200 and code is not None
    back = fields(pass_json(unpack(client.get(f"/c/{token}/card.pkpass").data)))["codes"]
    assert back["label"] == "label.codes" and back["value"].startswith(f"{code.group(1)}: $5.00")
    with database.transaction() as session:
        fresh = session.get(Card, card.id)
        assert fresh is not None
        face = card_face(session, program, fresh, clock.now(), "k" * 20)
        body = loyalty_object(ISSUER, program.slug, fresh.serial, face, "https://x/c/t")
    module = {m["id"]: m for m in body["textModulesData"]}["codes"]
    assert module["header"] == "Discount codes" and code.group(1) in module["body"]
    assert validate(load(str(DISCOVERY))["schemas"], "LoyaltyObject", body) == []
