"""A walk-in joins at the till in a real browser the size of a phone: "New member", the form,
the QR code of their new card for their own phone, and their first purchase on it."""

from __future__ import annotations

from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import select

from tests.browser import chromium, on_screen, overflow, phone, screenshot
from tests.cashier.test_browser import sign_in
from tests.kit.staff import make_staff
from tests.kit.webhooks import PUBLIC_URL
from walletcards.db import Database
from walletcards.loyalty.models import Card, Customer, Program

# The page's own vendored jsQR reads the QR image back: what a customer's camera would see.
READ_QR = """async () => {
  const img = document.getElementById("card-qr");
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = 400; canvas.height = 400;
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff"; context.fillRect(0, 0, 400, 400);
  context.drawImage(img, 0, 0, 400, 400);
  const found = window.jsQR(context.getImageData(0, 0, 400, 400).data, 400, 400);
  return found ? found.data : null;
}"""


def fill_new_member(page: Page, email: str, name: str = "") -> None:
    page.click("#new-member")
    expect(page.locator("#enrol")).to_be_visible()
    expect(page.locator("#join-consent")).not_to_be_checked()
    if name:
        page.fill("#join-name", name)
    page.fill("#join-email", email)
    page.click("#enrol button[type=submit]")


def test_a_walk_in_joins_scans_their_card_and_earns_on_their_first_purchase(
    live_server: str, database: Database, program: Program
) -> None:
    make_staff(database, "till@example.com", "cashier")
    with sync_playwright() as playwright:
        browser = chromium(playwright)
        try:
            page = phone(browser)
            sign_in(page, live_server)
            # neither email nor phone: the page asks for one and sends nothing
            page.click("#new-member")
            page.fill("#join-name", "Ann Lee")
            page.click("#enrol button[type=submit]")
            expect(page.locator("#message")).to_have_text("Enter the customer's email or phone.")
            assert overflow(page) <= 0
            screenshot(page, "cashier-phone-new-member-form")
            page.fill("#join-email", "Ann@Example.com")
            page.fill("#join-birthday", "1990-04-23")
            page.click("#enrol button[type=submit]")

            expect(page.locator("#customer-name")).to_have_text("Ann Lee")
            expect(page.locator("#new-card")).to_be_visible()
            expect(page.locator("#enrol")).to_be_hidden()
            with database.transaction() as session:
                card = session.execute(select(Card)).scalar_one()
                customer = session.execute(select(Customer)).scalar_one()
            assert customer.email == "ann@example.com" and not customer.marketing_consent
            expect(page.locator("#member")).to_have_text(card.member_number)
            assert page.evaluate(READ_QR) == f"{PUBLIC_URL}/c/{card.public_token}"
            assert on_screen(page, "#card-qr") and overflow(page) <= 0
            screenshot(page, "cashier-phone-new-member-qr")

            # the first purchase goes straight onto the new card
            page.fill("#amount", "20.00")
            page.click("#earn button[type=submit]")
            expect(page.locator("#message")).to_contain_text("Recorded: +", timeout=10_000)
            with database.transaction() as session:
                pending = session.execute(select(Card.pending)).scalar_one()
            assert pending > 0
            expect(page.locator("#pending")).to_have_text(str(pending))

            # the same person again: "Already a member", and their card is selected
            page.click("#clear")
            fill_new_member(page, "ann@example.com", name="Someone Else")
            expect(page.locator("#message")).to_have_text("Already a member: their card is shown.")
            expect(page.locator("#member")).to_have_text(card.member_number)
            expect(page.locator("#customer-name")).to_have_text("Ann Lee")
            expect(page.locator("#new-card")).to_be_hidden()
            screenshot(page, "cashier-phone-already-member")
            with database.transaction() as session:
                assert len(session.execute(select(Customer)).scalars().all()) == 1
        finally:
            browser.close()
