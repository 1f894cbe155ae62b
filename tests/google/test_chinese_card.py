"""A Chinese programme end to end: a programme in Chinese (and English) with names per language,
a signed order from a Chinese customer, then the Apple pass, the Google class and object (valid
against the discovery document) and the card page all speak Chinese, with English alongside
where the phone chooses."""

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

NAME = {"zh": "演示咖啡", "en": "Demo Coffee"}
TIERS = {
    "qualify_by": "paid_orders",
    "levels": [
        {"code": "bronze", "name": {"zh": "铜卡", "en": "Bronze"}, "threshold": 1},
        {"code": "silver", "name": {"zh": "银卡", "en": "Silver"}, "threshold": 2},
        {"code": "gold", "name": {"zh": "金卡", "en": "Gold"}, "threshold": 4},
    ],
}


@pytest.fixture
def program(
    make_program: MakeProgram,
    google: tuple[FakeGoogle, Path, dict[str, Any]],
    apple_table: dict[str, str],
) -> Program:
    return make_program(
        name=NAME,
        locale="zh",
        languages=["zh", "en"],
        tiers=TIERS,
        apple=apple_table,
        google={"issuer_id": ISSUER, "service_account_file": str(google[1])},
        webhooks={"orders_secret": ORDERS_SECRET},
    )


def strings(raw: bytes) -> dict[str, str]:
    assert raw.startswith(b"\xff\xfe")
    pairs = (line.partition(" = ") for line in raw[2:].decode("utf-16-le").splitlines())
    return {key.strip('"'): value.rstrip(";").strip('"') for key, _, value in pairs}


def test_a_chinese_card_is_chinese_on_the_pass_in_google_wallet_and_on_the_card_page(
    client: FlaskClient, clock: FixedClock, fake_google: FakeGoogle
) -> None:
    token = token_of(paid_order(client, clock, "Z-1", locale="zh-CN", customer="c-zh"))

    response = client.get(f"/c/{token}/card.pkpass")
    assert response.status_code == 200
    files = unpack(response.data)
    lproj = sorted(name for name in files if name.endswith("pass.strings"))
    assert lproj == ["en.lproj/pass.strings", "zh-Hans.lproj/pass.strings"]  # offered + en
    assert strings(files["zh-Hans.lproj/pass.strings"])["label.tier"] == "等级"
    assert strings(files["en.lproj/pass.strings"])["label.tier"] == "Level"
    document = pass_json(files)
    assert (document["description"], document["logoText"]) == ("演示咖啡会员卡", "演示咖啡")
    found = fields(document)
    assert (found["tier"]["value"], found["tier"]["changeMessage"]) == ("铜卡", "您的等级已变为%@")
    assert found["points"]["changeMessage"] == "您现在有%@积分"
    assert found["next_tier"]["value"] == "再购买1单升级至银卡"
    assert found["reward"]["value"] == "再购买4单获得奖励"

    assert client.get(f"/c/{token}/google").status_code == 302
    schemas = load(str(DISCOVERY))["schemas"]
    (klass,) = fake_google.store["loyaltyClass"].values()
    (body,) = fake_google.store["loyaltyObject"].values()
    assert validate(schemas, "LoyaltyClass", klass) == []
    assert validate(schemas, "LoyaltyObject", body) == []
    assert klass["programName"] == "演示咖啡" and klass["rewardsTierLabel"] == "等级"
    assert klass["localizedProgramName"] == {
        "defaultValue": {"language": "zh-CN", "value": "演示咖啡"},
        "translatedValues": [{"language": "en", "value": "Demo Coffee"}],
    }
    assert klass["localizedRewardsTierLabel"]["translatedValues"] == [
        {"language": "en", "value": "Level"}
    ]
    tier = body["textModulesData"][0]
    assert (tier["id"], tier["header"], tier["body"]) == ("tier", "等级", "铜卡")
    assert tier["localizedHeader"] == {
        "defaultValue": {"language": "zh-CN", "value": "等级"},
        "translatedValues": [{"language": "en", "value": "Level"}],
    }
    assert body["loyaltyPoints"]["label"] == "积分"
    assert body["loyaltyPoints"]["localizedLabel"]["translatedValues"] == [
        {"language": "en", "value": "Points"}
    ]

    page = client.get(f"/c/{token}").get_data(as_text=True)
    assert '<html lang="zh">' in page and "<h1>演示咖啡</h1>" in page
    assert '<p id="tier">铜卡</p>' in page and "再购买1单升级至银卡" in page
    assert 'aria-label="添加到 Apple 钱包"' in page and 'alt="二维码 ' in page
