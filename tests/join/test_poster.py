"""The counter poster and the sign-up page's QR code."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest
import qrcode
from flask.testing import FlaskClient

from tests.join.pages import JOIN
from tests.kit.programs import MakeProgram
from tests.kit.webhooks import PUBLIC_URL

SVG = "{http://www.w3.org/2000/svg}"


def modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules qrcode's path image draws: one "M x,y H.. V.. H.. z" square each."""
    root = ElementTree.fromstring(svg)  # noqa: S314 (our own output, in a test)
    assert root.tag == f"{SVG}svg"
    (path,) = root.iter(f"{SVG}path")
    return {(int(x), int(y)) for x, y in re.findall(r"M(\d+),(\d+)H", path.attrib["d"])}


def encoded(url: str) -> set[tuple[int, int]]:
    """The dark modules of ``url``'s QR code (border 2), as the qrcode library lays them out."""
    code = qrcode.QRCode(border=2)
    code.add_data(url)
    code.make(fit=True)
    return {(x, y) for y, row in enumerate(code.get_matrix()) for x, dark in enumerate(row) if dark}


def test_the_qr_code_is_a_cacheable_svg_of_the_sign_up_page(client: FlaskClient) -> None:
    answer = client.get("/join/demo/qr.svg")
    assert answer.status_code == 200 and answer.mimetype == "image/svg+xml"
    assert answer.headers["Cache-Control"] == "public, max-age=86400"
    assert modules(answer.get_data(as_text=True)) == encoded(f"{PUBLIC_URL}/join/demo")
    staffed = client.get("/join/demo/qr.svg?staff=till-1").get_data(as_text=True)
    assert modules(staffed) == encoded(f"{PUBLIC_URL}/join/demo?staff=till-1")
    ignored = client.get("/join/demo/qr.svg?staff=BAD%00").get_data(as_text=True)
    assert modules(ignored) == encoded(f"{PUBLIC_URL}/join/demo")


def test_the_poster_shows_the_programme_offer_qr_and_steps(client: FlaskClient) -> None:
    answer = client.get("/join/demo/poster?staff=till-1")
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    html = answer.get_data(as_text=True)
    assert "Demo Coffee" in html and 'src="/p/demo/logo.png"' in html
    assert "300 bonus points on your first order" in html
    assert "5 points for every $1.00 you spend" in html
    assert "size: A4;" in html and html.count("<li>") >= 3 + 2
    inline = html[html.index("<svg") : html.index("</svg>") + len("</svg>")]
    assert modules(inline) == encoded(f"{PUBLIC_URL}/join/demo?staff=till-1")
    assert f"{PUBLIC_URL}/join/demo?staff=till-1" in html


@pytest.mark.parametrize(("size", "page"), [("a5", "A5"), ("letter", "letter"), ("A3", "A4")])
def test_the_poster_prints_on_a4_a5_or_letter(client: FlaskClient, size: str, page: str) -> None:
    html = client.get(f"/join/demo/poster?size={size}").get_data(as_text=True)
    assert f"@page {{ size: {page}; margin: 12mm; }}" in html


def test_the_offer_follows_the_rules_in_the_posters_language(
    client: FlaskClient, make_program: MakeProgram
) -> None:
    make_program(
        join=JOIN,
        welcome={"points": 250, "on": "join"},
        earning={"cashback_percent": "5"},
    )
    html = client.get("/join/demo/poster?lang=ru").get_data(as_text=True)
    assert '<html lang="ru">' in html and "250" in html and "5" in html
    english = client.get("/join/demo/poster").get_data(as_text=True)
    assert "250 bonus points when you join" in english
    assert "5% back in points on every purchase" in english
