from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from flask.testing import FlaskClient

from tests.kit.apple import PTID, TEAM
from tests.kit.passes import fields, paid_order, pass_json, release_holds, token_of, unpack
from tests.kit.programs import MakeProgram
from tests.kit.webhooks import ORDERS_SECRET, PUBLIC_URL, post_orders
from walletcards.apple.certificates import DevChain
from walletcards.clock import FixedClock
from walletcards.db import Database


def download(client: FlaskClient, token: str) -> bytes:
    response = client.get(f"/c/{token}/card.pkpass")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.apple.pkpass"
    assert response.headers["Content-Disposition"] == 'attachment; filename="demo-card.pkpass"'
    return response.get_data()


@pytest.fixture
def pkpass(client: FlaskClient, clock: FixedClock) -> bytes:
    return download(client, token_of(paid_order(client, clock, "A-1")))


def test_manifest_lists_the_sha1_of_every_file(pkpass: bytes) -> None:
    files = unpack(pkpass)
    manifest = json.loads(files["manifest.json"])
    assert set(manifest) == set(files) - {"manifest.json", "signature"}
    for name, digest in manifest.items():
        assert digest == hashlib.sha1(files[name]).hexdigest()  # noqa: S324
        assert digest == digest.lower()
    for required in (
        "icon.png",
        "icon@2x.png",
        "icon@3x.png",
        "logo.png",
        "strip@3x.png",
        "en.lproj/pass.strings",
        "ru.lproj/pass.strings",
    ):
        assert required in files


def test_entries_are_stored_uncompressed(pkpass: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}


def openssl_verify(
    files: dict[str, bytes], chain_dir: Path, folder: Path
) -> subprocess.CompletedProcess[str]:
    """The real openssl checks the detached signature over the exact manifest bytes."""
    (folder / "manifest.json").write_bytes(files["manifest.json"])
    (folder / "signature").write_bytes(files["signature"])
    return subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "signature",
            "-content",
            "manifest.json",
            "-CAfile",
            str(chain_dir / "root.pem"),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )


def test_signature_verifies_with_openssl_and_embeds_the_wwdr(
    pkpass: bytes, dev_chain: DevChain, chain_dir: Path, tmp_path: Path
) -> None:
    files = unpack(pkpass)
    verified = openssl_verify(files, chain_dir, tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert "Verification successful" in verified.stderr
    assert dev_chain.wwdr.public_bytes(Encoding.DER) in files["signature"]
    printed = subprocess.run(
        ["openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", "signature"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "signingTime" in printed and "sha256" in printed


def test_a_tampered_manifest_fails_verification(
    pkpass: bytes, chain_dir: Path, tmp_path: Path
) -> None:
    files = unpack(pkpass)
    files["manifest.json"] = files["manifest.json"].replace(b"a", b"b", 1)
    assert openssl_verify(files, chain_dir, tmp_path).returncode != 0


def test_pass_json_has_todays_keys(pkpass: bytes) -> None:
    document = pass_json(unpack(pkpass))
    assert document["formatVersion"] == 1
    assert (document["passTypeIdentifier"], document["teamIdentifier"]) == (PTID, TEAM)
    assert document["webServiceURL"] == f"{PUBLIC_URL}/passkit/"
    assert len(document["authenticationToken"]) >= 16
    assert "barcode" not in document
    (barcode,) = document["barcodes"]
    assert barcode["format"] == "PKBarcodeFormatQR"
    assert barcode["messageEncoding"] == "iso-8859-1"
    assert barcode["message"].startswith(barcode["altText"] + "-")
    assert document["backgroundColor"] == "rgb(16, 32, 48)"
    assert document["foregroundColor"].startswith("rgb(")
    found = fields(document)
    assert found["points"]["changeMessage"] == "You now have %@ points"  # 0 available, 550 pending
    assert found["tier"]["changeMessage"] == "Your level is now %@"
    assert found["expiring"]["changeMessage"] == "%@"
    assert "changeMessage" not in found["member"]
    card = document["storeCard"]
    assert len(card.get("secondaryFields", [])) + len(card.get("auxiliaryFields", [])) <= 4


def _strings(files: dict[str, bytes], lproj: str) -> dict[str, str]:
    raw = files[f"{lproj}.lproj/pass.strings"]
    assert raw.startswith(b"\xff\xfe")  # UTF-16 LE with a BOM
    pairs = {}
    for line in raw[2:].decode("utf-16-le").splitlines():
        key, _, value = line.partition(" = ")
        pairs[key.strip('"')] = value.rstrip(";").strip('"')
    return pairs


def test_labels_are_localised_in_english_and_russian(pkpass: bytes) -> None:
    files = unpack(pkpass)
    assert _strings(files, "en")["label.points"] == "Points"
    assert _strings(files, "ru")["label.points"] == "Баллы"
    assert _strings(files, "zh-Hans")["label.points"] == "积分"


def test_the_serial_and_token_never_change_between_versions(
    client: FlaskClient, clock: FixedClock
) -> None:
    token = token_of(paid_order(client, clock, "A-1"))
    first = pass_json(unpack(download(client, token)))
    paid_order(client, clock, "A-2")
    second = pass_json(unpack(download(client, token)))
    assert first["serialNumber"] == second["serialNumber"]
    assert first["authenticationToken"] == second["authenticationToken"]
    assert fields(first)["pending"]["value"] != fields(second)["pending"]["value"]


def test_card_states_new_pending_refund_tier_up_expiring_in_english(
    client: FlaskClient, clock: FixedClock, database: Database
) -> None:
    token = token_of(paid_order(client, clock, "A-1", "50.00"))  # Bronze: 250 + 300 welcome
    new = fields(pass_json(unpack(download(client, token))))
    assert (new["points"]["value"], new["pending"]["value"], new["tier"]["value"]) == (
        0,
        550,
        "Bronze",
    )
    assert new["reward"]["value"] == "4 more orders to your reward"
    assert new["next_tier"]["value"] == "1 more order to Silver"
    assert new["expiring"]["value"] == "—"

    refund = {
        "id": "evt-r",
        "type": "order.refunded",
        "order": {"id": "A-1", "currency": "USD"},
        "refund": {"id": "r1", "amount": "20.00"},
    }
    post_orders(client, refund, at=int(clock.now().timestamp()))
    refunded = fields(pass_json(unpack(download(client, token))))
    assert refunded["pending"]["value"] == 550 - 100

    paid_order(client, clock, "A-2", "10.00")  # the 2nd order: Silver
    tier_up = fields(pass_json(unpack(download(client, token))))
    assert tier_up["tier"]["value"] == "Silver"
    assert tier_up["next_tier"]["value"] == "2 more orders to Gold"

    # Held 14 days, then the 30-day welcome lot expires first: warned 10 days ahead. The
    # scheduled job releases the held points (the sync issue runs it; here we run its step).
    clock.advance(timedelta(days=14 + 21))
    release_holds(database, clock.now())
    expiring = fields(pass_json(unpack(download(client, token))))
    assert expiring["expiring"]["value"] == "300 points expire on Apr 14"
    assert expiring["points"]["value"] == 450 + 70


def test_a_russian_customer_gets_russian_values(
    client: FlaskClient, clock: FixedClock, database: Database
) -> None:
    token = token_of(paid_order(client, clock, "R-1", "50.00", locale="ru", customer="c-ru"))
    clock.advance(timedelta(days=35))
    release_holds(database, clock.now())
    found = fields(pass_json(unpack(download(client, token))))
    assert found["reward"]["value"] == "Ещё 4 заказа до подарка"
    assert found["next_tier"]["value"] == "Ещё 1 заказ до уровня «Silver»"
    assert found["expiring"]["value"] == "300 баллов сгорят 14 апр."


def test_the_pass_shows_what_the_points_are_worth_in_at_most_four_front_fields(
    client: FlaskClient,
    clock: FixedClock,
    database: Database,
    make_program: MakeProgram,
    apple_table: dict[str, str],
) -> None:
    token = token_of(paid_order(client, clock, "A-1", "50.00"))
    clock.advance(timedelta(days=15))
    release_holds(database, clock.now())
    files = unpack(download(client, token))
    document = pass_json(files)
    card, found = document["storeCard"], fields(document)
    assert (found["points"]["value"], found["value"]["value"]) == (550, "$5.50")
    assert _strings(files, "en")[found["value"]["label"]] == "Worth"
    front = [f["key"] for f in card["secondaryFields"] + card["auxiliaryFields"]]
    assert front == ["pending", "reward", "value", "expiring"]  # storeCard: at most 4
    assert found["member"] in card["backFields"]  # and under the QR code (altText)
    # a programme without a point value shows none; the member number comes back to the front
    make_program(apple=apple_table, webhooks={"orders_secret": ORDERS_SECRET}, redemption=None)
    plain = pass_json(unpack(download(client, token)))["storeCard"]
    front = [f["key"] for f in plain["secondaryFields"] + plain["auxiliaryFields"]]
    assert front == ["pending", "reward", "expiring", "member"]
