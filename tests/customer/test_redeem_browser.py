"""The card page's "spend points online" in a real browser (tests/browser.py): the money value
follows the typed amount, a code is requested, and its copy button copies it."""

from __future__ import annotations

import re

from playwright.sync_api import expect, sync_playwright

from tests.browser import PHONE, chromium, overflow, screenshot
from tests.kit.programs import MakeCard, MakeProgram
from tests.loyalty.test_ledger import give
from walletcards.clock import FixedClock
from walletcards.db import Database


def test_the_value_follows_the_amount_and_the_new_code_copies(
    live_server: str,
    make_program: MakeProgram,
    make_card: MakeCard,
    database: Database,
    clock: FixedClock,
) -> None:
    program = make_program()  # the demo: 1 point = $0.01, codes of 100 to 5000 points
    card = make_card(program, email="ann@example.com", name="Ann")
    give(database, card, clock, 1500, "g")
    with sync_playwright() as playwright:
        browser = chromium(playwright)
        try:
            context = browser.new_context(
                viewport=PHONE,
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                locale="en-US",
                permissions=["clipboard-read", "clipboard-write"],
            )
            page = context.new_page()
            page.goto(f"{live_server}/c/{card.public_token}")
            amount = page.locator("#points-input")
            value = page.locator("#points-value")
            expect(value).to_have_text("= $1.00")  # the form's first amount, 100 points
            amount.fill("1250")
            expect(value).to_have_text("= $12.50")
            amount.fill("99")  # below the programme's minimum: no value promised
            expect(value).to_have_text("")
            amount.fill("1501")  # more than the card holds
            expect(value).to_have_text("")
            amount.fill("250")
            expect(value).to_have_text("= $2.50")
            page.get_by_role("button", name="Get a code").click()
            code = page.locator("#new-code")
            expect(code).to_have_text(re.compile(r"^DEMO-[A-Z0-9]{10}$"))
            # the new code's own button (the open codes list has one too); found by its place,
            # since its name changes while it says "Copied"
            copy = page.locator("#redeem p:has(#new-code) button.copy")
            expect(copy).to_be_visible()
            copy.click()
            expect(copy).to_have_text("Copied")
            assert page.evaluate("navigator.clipboard.readText()") == code.inner_text()
            expect(copy).to_have_text("Copy", timeout=5000)  # the label comes back
            expect(page.locator("#open-codes")).to_contain_text("250 points = $2.50")
            assert overflow(page) <= 0
            screenshot(page, "card-redeem-phone")
        finally:
            browser.close()
