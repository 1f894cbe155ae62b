"""The sign-up page in a real browser on a phone (tests/browser.py): the form fits the screen,
the browser's own checks stop an incomplete form before it is sent, and a filled form leads
to the new member's card page."""

from __future__ import annotations

from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func, select

from tests.browser import chromium, overflow, phone, screenshot
from tests.join.pages import JOIN
from tests.kit.programs import MakeProgram
from walletcards.db import Database
from walletcards.loyalty.models import Card, Customer


def test_a_phone_fills_the_form_and_lands_on_its_new_card(
    live_server: str, make_program: MakeProgram, database: Database
) -> None:
    make_program(join={**JOIN, "confirm_email": False})
    with sync_playwright() as playwright:
        browser = chromium(playwright)
        try:
            page = phone(browser)
            page.goto(f"{live_server}/join/demo")
            assert overflow(page) <= 0
            page.get_by_role("textbox", name="Name").fill("Ann Lee")
            page.get_by_role("textbox", name="Email").fill("ann@example.com")
            page.get_by_role("button", name="Join").click()
            # terms unticked: the browser's `required` check keeps the form on the page
            expect(page).to_have_url(f"{live_server}/join/demo")
            with database.transaction() as session:
                assert session.scalar(select(func.count()).select_from(Customer)) == 0
            page.locator('input[name="terms"]').check()
            page.get_by_role("button", name="Join").click()
            page.wait_for_url(f"{live_server}/c/**")
            with database.transaction() as session:
                ann = session.execute(select(Customer)).scalar_one()
                card = session.execute(select(Card)).scalar_one()
                assert (ann.name, ann.email, ann.joined_via) == (
                    "Ann Lee",
                    "ann@example.com",
                    "join",
                )
                assert not ann.marketing_consent  # the box was left unticked
            assert page.url == f"{live_server}/c/{card.public_token}"
            expect(page.locator(".card header")).to_be_visible()
            assert overflow(page) <= 0
            screenshot(page, "join-phone")
        finally:
            browser.close()
