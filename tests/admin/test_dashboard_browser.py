"""The dashboard on a phone, in a real browser (tests/browser.py): nothing wider than the
screen, wide tables scrolling inside their panel, a bad range answered next to a filled form."""

from __future__ import annotations

from playwright.sync_api import expect, sync_playwright

from tests.admin.seed import NOW, RANGE
from tests.browser import chromium, overflow, phone, screenshot
from walletcards.clock import FixedClock
from walletcards.loyalty.models import Card


def test_the_dashboard_fits_a_phone_and_its_tables_scroll_inside_their_panels(
    live_server: str, clock: FixedClock, seeded: dict[str, Card], manager: dict[str, str]
) -> None:
    clock.set(NOW)
    with sync_playwright() as playwright:
        browser = chromium(playwright)
        try:
            page = phone(browser)
            page.goto(f"{live_server}/admin/")
            assert overflow(page) <= 0
            page.select_option("select[name=program]", "demo")  # demo and "other" to choose from
            screenshot(page, "dashboard-phone-sign-in")
            page.fill("input[name=email]", "boss@example.com")
            page.fill("input[name=password]", "a long enough password")
            page.click("button[type=submit]")
            expect(page.locator("#kpi-members .value")).to_have_text("4")
            page.goto(f"{live_server}/admin/?{RANGE}")
            expect(page.locator("#top-customers td").first).to_be_visible()
            assert overflow(page) <= 0
            wide = page.eval_on_selector(
                "#top-customers", "t => t.parentElement.scrollWidth > t.parentElement.clientWidth"
            )
            assert wide  # the table is wider than the phone, and scrolls inside its panel
            for chart in page.locator("svg.chart").all():
                box = chart.bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
            screenshot(page, "dashboard-phone")

            page.fill("input[name=from]", "2026-03-09")
            page.fill("input[name=to]", "2026-03-01")
            page.click("form.range button[type=submit]")
            expect(page.locator("p.error[role=alert]")).to_have_text("from: must not be after to")
            expect(page.locator("input[name=from]")).to_have_value("2026-03-09")
            expect(page.locator("input[name=to]")).to_have_value("2026-03-01")
            assert overflow(page) <= 0
            screenshot(page, "dashboard-phone-bad-range")
        finally:
            browser.close()
