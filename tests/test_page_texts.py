"""The pages speak: the till and the dashboard in the staff browser's language among the
programme's (else its default), the card page in the customer's."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.cashier.test_api import login
from tests.kit.programs import MakeProgram
from tests.kit.staff import make_staff
from tests.kit.webhooks import ORDERS_SECRET
from walletcards.db import Database
from walletcards.loyalty.models import Program


@pytest.fixture
def program(make_program: MakeProgram, apple_table: dict[str, str]) -> Program:
    """A Russian shop that offers English too, not Chinese."""
    return make_program(
        apple=apple_table,
        webhooks={"orders_secret": ORDERS_SECRET},
        locale="ru",
        languages=["ru", "en"],
    )


def browser(client: FlaskClient, accept: str) -> FlaskClient:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept
    return client


def test_signed_out_staff_pages_follow_the_browser_language(client: FlaskClient) -> None:
    till = browser(client, "zh-CN,zh;q=0.9").get("/cashier/").get_data(as_text=True)
    assert '<html lang="zh">' in till and "<h1>登录收银台</h1>" in till and ">登录</button>" in till
    dashboard = browser(client, "fr-FR").get("/admin/").get_data(as_text=True)
    assert '<html lang="en">' in dashboard and "<h1>Dashboard sign-in</h1>" in dashboard


def test_signed_in_staff_pages_speak_a_language_the_programme_offers(
    client: FlaskClient,
    database: Database,
    program: Program,
) -> None:
    make_staff(database, "boss@example.com", "manager")
    browser(client, "zh-CN")  # not offered: the programme's default, Russian
    assert login(client, area="admin", email="boss@example.com").status_code == 303
    page = client.get("/admin/").get_data(as_text=True)
    assert '<html lang="ru">' in page and "<h2>Лучшие клиенты</h2>" in page
    assert ">Выйти</button>" in page
    till = client.get("/cashier/").get_data(as_text=True)
    assert ">Провести покупку</button>" in till and ">Сумма (USD)" in till
    english = browser(client, "en-GB,en;q=0.8").get("/admin/").get_data(as_text=True)
    assert '<html lang="en">' in english and "<h2>Top customers</h2>" in english
