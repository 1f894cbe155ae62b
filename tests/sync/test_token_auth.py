"""APNs token authentication: an ES256 JWT from a .p8 key, reused, checked by the fake, which
allows one stream per connection until a valid token arrives (as APNs does)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.fakes.apns import FakeApns
from walletcards.apple.apns import ApnsClient, Outcome, TokenAuth


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@pytest.fixture
def p8(tmp_path: Path) -> tuple[Path, ec.EllipticCurvePublicKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "AuthKey_ABC123DEFG.p8"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path, key.public_key()


@pytest.fixture
def token_apns(
    tls_files: tuple[Path, Path, Path], p8: tuple[Path, ec.EllipticCurvePublicKey]
) -> Iterator[FakeApns]:
    public = p8[1]
    seen: list[str] = []

    def verify(jwt: str) -> bool:
        try:
            header, claims, signature = jwt.split(".")
            raw = b64decode(signature)
            der = encode_dss_signature(
                int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
            )
            public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        except (ValueError, InvalidSignature):
            return False
        seen.append(jwt)
        head, body = json.loads(b64decode(header)), json.loads(b64decode(claims))
        return bool(head == {"alg": "ES256", "kid": "ABC123DEFG"} and body["iss"] == "TEAM123456")

    fake = FakeApns(str(tls_files[1]), str(tls_files[2]), verify_jwt=verify)
    fake.start()
    fake.seen_jwts = seen  # type: ignore[attr-defined]
    yield fake
    fake.stop()


def test_token_auth_pushes_with_one_reused_jwt(
    token_apns: FakeApns,
    tls_files: tuple[Path, Path, Path],
    p8: tuple[Path, ec.EllipticCurvePublicKey],
) -> None:
    import asyncio

    token_apns.delay = 0.005  # answers wait: streams pile up as far as the server allows

    async def run() -> dict[str, Outcome]:
        client = ApnsClient(
            f"https://127.0.0.1:{token_apns.port}",
            TokenAuth(str(p8[0]), "ABC123DEFG", "TEAM123456"),
            str(tls_files[0]),
        )
        try:
            return await client.push_many([f"{i:064x}" for i in range(200)], "pass.com.x")
        finally:
            await client.aclose()

    outcomes = asyncio.run(run())
    assert set(outcomes.values()) == {Outcome.DELIVERED} and len(outcomes) == 200
    assert len(set(token_apns.seen_jwts)) == 1  # type: ignore[attr-defined]
    # one stream until the token is accepted (the fake says so, as APNs does), then many
    assert token_apns.protocol_errors == 0 and token_apns.peak_streams > 1


def test_a_wrong_key_is_forbidden_not_retried(
    token_apns: FakeApns, tls_files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    import asyncio

    other = tmp_path / "other.p8"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    async def run() -> Outcome:
        client = ApnsClient(
            f"https://127.0.0.1:{token_apns.port}",
            TokenAuth(str(other), "ABC123DEFG", "TEAM123456"),
            str(tls_files[0]),
        )
        try:
            return await client.push("04" * 32, "pass.com.x")
        finally:
            await client.aclose()

    assert asyncio.run(run()) is Outcome.FORBIDDEN
