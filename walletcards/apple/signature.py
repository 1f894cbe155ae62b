"""The pass's ``signature``: a detached CMS SignedData in DER over the exact manifest bytes.

SHA-256, with signingTime (cryptography adds it with the other authenticated attributes),
embedding the WWDR intermediate. Two traps in cryptography's builder (FACTS: Apple Wallet):
without ``Binary`` a manifest is signed in text mode (CRLF-canonicalised) and fails to
verify; and ``set_data``/``add_signer`` return new builders that drop certificates added
before them, so ``add_certificate`` must come last or the WWDR is silently missing.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from walletcards.apple.certificates import PassSigner

OPTIONS = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]


def sign_manifest(manifest: bytes, signer: PassSigner) -> bytes:
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(manifest)
        .add_signer(signer.certificate, signer.private_key, hashes.SHA256())
        .add_certificate(signer.wwdr)
    )
    return builder.sign(serialization.Encoding.DER, OPTIONS)
