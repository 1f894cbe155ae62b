"""A real browser for the page tests: Playwright drives Debian's Chromium (/usr/bin/chromium,
installed by `make test`; no browser download) against the app served on a loopback port.
Screenshots go to test-artifacts/ for a human to look at."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, ViewportSize

from tests.kit.clone import ROOT

CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = ROOT / "test-artifacts"
PHONE: ViewportSize = {"width": 390, "height": 844}  # an iPhone 12-15's CSS viewport


def chromium(playwright: Playwright, *args: str) -> Browser:
    assert Path(CHROMIUM).exists(), "make test installs Debian's chromium (see Makefile)"
    ARTEFACTS.mkdir(exist_ok=True)
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            *args,
        ],
    )


def phone(browser: Browser) -> Page:
    """A page the size of a phone, touch and mobile viewport rules included."""
    return browser.new_page(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="en-US"
    )


def overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the screen (0: no sideways scrolling)."""
    width: int = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return width


def on_screen(page: Page, selector: str) -> bool:
    """Whether the element is shown whole in the first screen, without scrolling."""
    box = page.evaluate(
        """(selector) => {
          const r = document.querySelector(selector).getBoundingClientRect();
          return {top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left, right: r.right,
                  height: r.height};
        }""",
        selector,
    )
    viewport = page.viewport_size
    assert viewport is not None
    return bool(
        box["height"] > 0
        and box["top"] >= 0
        and box["bottom"] <= viewport["height"]
        and box["left"] >= 0
        and box["right"] <= viewport["width"]
    )


def screenshot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)
