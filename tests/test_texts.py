"""Russian counts on a real card: the balance and the expiry warning on the card face and in
the Apple pass take the CLDR plural form of their number (one: 1, 21; few: 2, 22; many: 0, 5,
11, 25), where a hand-written rule once said "1 балл сгорят" and "Теперь у вас 2 баллов"."""

# ruff: noqa: RUF001, RUF002  (Russian text on purpose: its letters only look Latin)
from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from tests.kit.programs import MakeCard, MakeProgram
from walletcards import texts
from walletcards.apple.pkpass import PassDesign, PassStyle
from walletcards.cardface import CardFace, card_face
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import ledger

# n -> (balance, expiry warning due 6 March, lock-screen notice of the new balance)
RUSSIAN = {
    0: ("0 баллов", "0 баллов сгорят 6 мар.", "Теперь у вас %@ баллов"),
    1: ("1 балл", "1 балл сгорит 6 мар.", "Теперь у вас %@ балл"),
    2: ("2 балла", "2 балла сгорят 6 мар.", "Теперь у вас %@ балла"),
    5: ("5 баллов", "5 баллов сгорят 6 мар.", "Теперь у вас %@ баллов"),
    11: ("11 баллов", "11 баллов сгорят 6 мар.", "Теперь у вас %@ баллов"),
    21: ("21 балл", "21 балл сгорит 6 мар.", "Теперь у вас %@ балл"),
    22: ("22 балла", "22 балла сгорят 6 мар.", "Теперь у вас %@ балла"),
    25: ("25 баллов", "25 баллов сгорят 6 мар.", "Теперь у вас %@ баллов"),
}
STYLE = PassStyle("pass.com.example.tests", "TEAM123456", "Demo Coffee", "https://x/passkit/")


def russian_face(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock, n: int
) -> CardFace:
    """A Russian customer's card holding ``n`` points that expire in 5 days (warned 10 ahead)."""
    program = make_program(locale="ru")
    card = make_card(program, email="ivan@example.com", locale="ru")
    now = clock.now()
    with database.transaction() as session:
        if n:
            ledger.credit(
                session,
                ledger.lock_card(session, card.id),
                kind="bonus",
                key="gift",
                points=n,
                cause="test:gift",
                now=now,
                available_at=now,
                expires_at=now + timedelta(days=5),
                max_points=10_000,
            )
        locked = ledger.lock_card(session, card.id)
        return card_face(session, program, locked, now, "k" * 20)


def pass_fields(face: CardFace) -> dict[str, dict[str, Any]]:
    document = json.loads(PassDesign(STYLE).pass_json(face, "serial", "token" * 4, "https://x/c"))
    return {f["key"]: f for group in document["storeCard"].values() for f in group}


@pytest.mark.parametrize("n", sorted(RUSSIAN))
def test_russian_balance_and_expiry_take_the_plural_form_of_their_number(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock, n: int
) -> None:
    balance, warning, notice = RUSSIAN[n]
    face = russian_face(database, make_program, make_card, clock, n)
    assert (face.locale, face.available, face.balance, face.change_points) == (
        "ru",
        n,
        balance,
        notice,
    )
    assert texts.expiring("ru", n, date(2026, 3, 6)) == warning
    found = pass_fields(face)
    assert found["points"]["value"] == n and found["points"]["changeMessage"] == notice
    if n:  # nothing to warn about on an empty card
        assert (face.expiring_points, face.expiring) == (n, warning)
        assert found["expiring"]["value"] == warning


def test_pass_strings_hold_only_labels_the_counted_texts_are_written_per_pass() -> None:
    design = PassDesign(STYLE, languages=("ru",))
    assert sorted(design.files) == sorted(
        [name for name in design.files if name.endswith(".png")]
        + ["en.lproj/pass.strings", "ru.lproj/pass.strings"]
    )
    raw = design.files["ru.lproj/pass.strings"]
    assert raw.startswith(b"\xff\xfe")
    lines = raw[2:].decode("utf-16-le").splitlines()
    assert lines == [f'"{key}" = "{value}";' for key, value in texts.labels("ru").items()]
    assert '"label.points" = "Баллы";' in lines and not any("%@" in line for line in lines)


def test_english_counts_are_singular_only_for_one() -> None:
    assert [texts.points("en", n) for n in (0, 1, 2, 1000)] == [
        "0 points",
        "1 point",
        "2 points",
        "1,000 points",
    ]
    assert texts.expiring("en", 1, date(2026, 4, 14)) == "1 point expires on Apr 14"
    assert texts.orders_to_reward("en", 1) == "1 more order to your reward"


def test_what_points_are_worth_takes_the_plural_form_and_the_languages_money() -> None:
    assert [texts.points_worth("ru", n, "1,00\xa0$") for n in (1, 2, 5, 21)] == [
        "1 балл = 1,00\xa0$",
        "2 балла = 1,00\xa0$",
        "5 баллов = 1,00\xa0$",
        "21 балл = 1,00\xa0$",
    ]
    assert texts.points_worth("en", 1, "$0.01") == "1 point = $0.01"
    assert texts.points_worth("zh", 650, "US$6.50") == "650积分 = US$6.50"
    assert [texts.labels(lang)["label.value"] for lang in ("en", "ru", "zh")] == [
        "Worth",
        "На сумму",
        "价值",
    ]
