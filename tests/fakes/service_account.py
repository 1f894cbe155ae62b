"""A throwaway Google service account (RSA key made at run time) whose token_uri is loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def make_service_account(folder: Path, token_uri: str) -> tuple[Path, dict[str, Any], bytes]:
    """(file path, info, public key PEM)."""
    key = rsa.generate_private_key(65537, 2048)
    info = {
        "type": "service_account",
        "project_id": "walletcards-tests",
        "private_key_id": "0123456789abcdef",
        "private_key": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        "client_email": "wallet@walletcards-tests.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": token_uri,
    }
    path = folder / "service-account.json"
    path.write_text(json.dumps(info))
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, info, public
