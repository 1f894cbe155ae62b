# ruff: noqa: RUF001  (Russian text on purpose: its letters only look Latin)
"""The card email speaks the customer's language with the right plural for the points."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.kit.programs import MakeCard, MakeProgram
from walletcards.cardface import CardFace, card_face
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.outbound.mail import CardMail, build


def face_of(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock, lang: str
) -> CardFace:
    program = make_program()
    card = make_card(program, email="mira@example.com", locale=lang)
    with database.transaction() as session:
        return card_face(session, program, card, clock.now(), "k" * 20)


def text_of(face: CardFace) -> tuple[str, str, str]:
    links: dict[str, str | None] = {"url": "https://x/c/t", "apple": "https://x/a", "google": None}
    message = build(CardMail("mira@example.com", "shop@example.com", None, "<1@x>", face, links))
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return str(message["Subject"]), plain.get_content(), html.get_content()


@pytest.mark.parametrize(
    ("points", "said"),
    [(1, "уже 1 балл."), (3, "уже 3 балла."), (21, "уже 21 балл."), (25, "уже 25 баллов.")],
)
def test_a_russian_email_counts_points_in_the_right_plural(
    database: Database,
    make_program: MakeProgram,
    make_card: MakeCard,
    clock: FixedClock,
    points: int,
    said: str,
) -> None:
    face = replace(face_of(database, make_program, make_card, clock, "ru"), available=points)
    subject, plain, html = text_of(face)
    assert subject == "Ваша карта лояльности Demo Coffee"
    assert said in plain and said in html and "Добавить в Apple Wallet" in plain
    assert '<html lang="ru">' in html


def test_a_chinese_email_is_chinese(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock
) -> None:
    face = replace(face_of(database, make_program, make_card, clock, "zh"), available=1200)
    subject, plain, _ = text_of(face)
    assert subject == "您的Demo Coffee会员卡"
    assert "目前积分：1,200。" in plain and "打开会员卡: https://x/c/t" in plain
