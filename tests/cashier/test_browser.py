"""A real browser at the till, the size of a phone: Playwright drives Debian's Chromium, whose
fake camera shows a video of the card's QR code (tests/browser.py)."""

from __future__ import annotations

from pathlib import Path

import qrcode
from PIL import Image
from playwright.sync_api import Page, Route, expect, sync_playwright

from tests.browser import chromium, on_screen, overflow, phone, screenshot
from tests.kit.staff import make_staff
from walletcards.db import Database


def qr_video(code: str, path: Path, frames: int = 15) -> Path:
    """A Y4M (YUV 4:2:0) clip of the QR code on white, what Chromium's fake camera plays."""
    width, height = 640, 480
    qr = (
        qrcode.make(code, border=4)
        .get_image()
        .convert("RGB")
        .resize((360, 360), Image.Resampling.NEAREST)
    )
    frame = Image.new("RGB", (width, height), "white")
    frame.paste(qr, ((width - 360) // 2, (height - 360) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + planes)
    return path


# Of a 390 x 844 iPhone's screen, Safari's status, address and tool bars leave about 660 CSS px
# to the page: the panel must end there, not merely inside the 844.
SAFARI_PAGE_HEIGHT = 660
# Whether an input's placeholder, in the input's own font, fits inside its padding.
PLACEHOLDER_FITS = """e => {
  const style = getComputedStyle(e), text = document.createElement("canvas").getContext("2d");
  text.font = style.font;
  const room = e.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return text.measureText(e.placeholder).width <= room;
}"""


def bottom(page: Page, selector: str) -> float:
    """Where the element ends, in CSS px from the top of the page."""
    end: float = page.eval_on_selector(selector, "e => e.getBoundingClientRect().bottom + scrollY")
    return end


def sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/cashier/?program=demo")
    expect(page.locator("select[name=program]")).to_have_value("demo")
    assert overflow(page) <= 0
    screenshot(page, "cashier-phone-sign-in")
    page.fill("input[name=email]", "till@example.com")
    page.fill("input[name=password]", "a long enough password")
    page.click("button[type=submit]")


def expect_cleared(page: Page) -> None:
    """No customer on screen and nothing of theirs left to act on."""
    expect(page.locator("#customer")).to_be_hidden()
    for field in ("#customer-name", "#available", "#member"):
        expect(page.locator(field)).to_have_text("")
    for field in ("#amount", "#points"):
        expect(page.locator(field)).to_have_value("")


def test_a_cashier_on_a_phone_scans_a_wallet_card_with_the_camera_and_redeems(
    live_server: str,
    database: Database,
    card_code: str,
    tmp_path: Path,
) -> None:
    make_staff(database, "till@example.com", "cashier")
    video = qr_video(card_code, tmp_path / "card.y4m")
    with sync_playwright() as playwright:
        browser = chromium(
            playwright,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        )
        try:
            page = phone(browser)
            sign_in(page, live_server)
            # No typing: the camera sees the card and the page looks the customer up.
            expect(page.locator("#customer-name")).to_have_text("Ann Lee", timeout=20_000)
            expect(page.locator("#available")).to_have_text("550")
            expect(page.locator("#tier")).to_have_text("Bronze")
            # Who, level, balance and both actions in the first screen of a phone, no sideways
            # scrolling, and the labelled inputs wide enough for their placeholders.
            for part in ("#customer-name", "#tier", "#available", "#earn", "#redeem"):
                assert on_screen(page, part), part
            assert bottom(page, "#redeem") <= SAFARI_PAGE_HEIGHT
            assert overflow(page) <= 0
            for field in ("#amount", "#reference", "#points", "#code"):
                assert page.eval_on_selector(field, PLACEHOLDER_FITS), field
            screenshot(page, "cashier-phone-customer")
            page.fill("#points", "100")
            page.click("#redeem button[type=submit]")
            expect(page.locator("#confirm-balance")).to_have_text("450")
            expect(page.locator("#confirm-value")).to_have_text("$1.00")  # 100 x $0.01
            assert on_screen(page, "#confirm")
            screenshot(page, "cashier-phone-confirm")
            page.click("#confirm-yes")
            expect(page.locator("#available")).to_have_text("450", timeout=10_000)
            expect(page.locator("#message")).to_have_text("Redeemed 100 points ($1.00)")
            screenshot(page, "cashier-redeemed")

            # A failed scan leaves no customer behind: not the one before, not their forms.
            page.fill("#amount", "12.50")
            page.fill("#code", "999999999")
            page.press("#code", "Enter")
            expect(page.locator("#message")).to_have_text(
                "no card matches this code, number, phone or email"
            )
            expect_cleared(page)
            assert on_screen(page, "#message") and overflow(page) <= 0
            screenshot(page, "cashier-phone-failed-scan")
        finally:
            browser.close()


def test_an_unknown_card_answer_to_a_purchase_clears_the_customer(
    live_server: str, database: Database, card_code: str
) -> None:
    make_staff(database, "till@example.com", "cashier")
    with sync_playwright() as playwright:
        browser = chromium(playwright)  # no camera: the code is typed (or USB-scanned)
        try:
            page = phone(browser)
            sign_in(page, live_server)
            page.fill("#code", card_code)
            page.press("#code", "Enter")
            expect(page.locator("#customer-name")).to_have_text("Ann Lee")

            def unknown(route: Route) -> None:  # the card went away between scan and purchase
                body = {"error": {"code": "unknown_card", "message": "no card matches this code"}}
                route.fulfill(status=404, json=body)

            page.route("**/api/v1/cashier/earn", unknown)
            page.fill("#amount", "12.50")
            page.click("#earn button[type=submit]")
            expect(page.locator("#message")).to_have_text("no card matches this code")
            expect_cleared(page)
        finally:
            browser.close()
