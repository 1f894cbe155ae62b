"""A real browser at the till: Playwright drives Debian's Chromium (/usr/bin/chromium, installed
by `make test`; no browser download), whose fake camera shows a video of the card's QR code."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import qrcode
from flask import Flask
from PIL import Image
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from tests.cashier.conftest import make_staff
from tests.cashier.test_api import card_code  # noqa: F401  (fixture)
from tests.conftest import ROOT
from walletcards.db import Database

CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = ROOT / "test-artifacts"


def qr_video(code: str, path: Path, frames: int = 15) -> Path:
    """A Y4M (YUV 4:2:0) clip of the QR code on white, what Chromium's fake camera plays."""
    width, height = 640, 480
    qr = qrcode.make(code, border=4).get_image().convert("RGB").resize((360, 360), Image.NEAREST)
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


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    server.server_close()


def test_a_cashier_signs_in_scans_a_wallet_card_with_the_camera_and_redeems(
    live_server: str,
    database: Database,
    card_code: str,
    tmp_path: Path,
) -> None:
    assert Path(CHROMIUM).exists(), "make test installs Debian's chromium (see Makefile)"
    make_staff(database, "till@example.com", "cashier")
    video = qr_video(card_code, tmp_path / "card.y4m")
    ARTEFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
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
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 420, "height": 900})
            page.goto(f"{live_server}/cashier/?program=demo")
            page.fill("input[name=email]", "till@example.com")
            page.fill("input[name=password]", "a long enough password")
            page.click("button[type=submit]")
            # No typing: the camera sees the card and the page looks the customer up.
            expect(page.locator("#customer-name")).to_have_text("Ann Lee", timeout=20_000)
            expect(page.locator("#available")).to_have_text("550")
            expect(page.locator("#tier")).to_have_text("Bronze")
            page.fill("#points", "100")
            page.click("#redeem button[type=submit]")
            expect(page.locator("#confirm-balance")).to_have_text("450")
            page.click("#confirm-yes")
            expect(page.locator("#available")).to_have_text("450", timeout=10_000)
            expect(page.locator("#message")).to_have_text("Redeemed 100 points")
            page.screenshot(path=str(ARTEFACTS / "cashier-redeemed.png"), full_page=True)
        finally:
            browser.close()
