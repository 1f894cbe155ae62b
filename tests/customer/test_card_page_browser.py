"""The card page on a phone, in a real browser (tests/browser.py): the badges drawn by the page
itself show whole, with any font, and nothing is wider than the screen."""

from __future__ import annotations

from flask.testing import FlaskClient
from playwright.sync_api import expect, sync_playwright

from tests.browser import chromium, on_screen, overflow, phone, screenshot
from tests.kit.passes import paid_order, token_of
from tests.kit.programs import MakeProgram
from tests.kit.webhooks import ORDERS_SECRET
from walletcards.clock import FixedClock


def test_the_card_page_fits_a_phone_with_its_logo_and_both_wallet_badges(
    live_server: str,
    client: FlaskClient,
    clock: FixedClock,
    make_program: MakeProgram,
    apple_table: dict[str, str],
) -> None:
    make_program(
        apple=apple_table,
        google={"issuer_id": "3388000000012345678", "service_account_file": "sa.json"},
        webhooks={"orders_secret": ORDERS_SECRET},
    )
    token = token_of(paid_order(client, clock, "A-1"))
    with sync_playwright() as playwright:
        browser = chromium(playwright)
        try:
            page = phone(browser)
            page.goto(f"{live_server}/c/{token}")
            expect(page.locator("#pending-note")).to_have_text("550 points available from Mar 15")
            logo = page.locator("img.logo")
            expect(logo).to_be_visible()
            assert logo.evaluate("img => img.complete && img.naturalWidth > 0")
            for name in ("Add to Apple Wallet", "Add to Google Wallet"):
                badge = page.get_by_role("link", name=name)
                expect(badge).to_be_visible()
                one_line = badge.evaluate(
                    "a => [...a.querySelectorAll('span')]"
                    ".every(s => s.scrollWidth <= s.clientWidth)"
                )
                assert one_line, name
            assert on_screen(page, ".card header") and overflow(page) <= 0
            screenshot(page, "card-phone")
        finally:
            browser.close()
