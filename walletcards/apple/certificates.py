"""Pass Type ID certificates: load, check against the programme, and make a dev chain.

Apple rejects a pass whose certificate's UID is not the pass's ``passTypeIdentifier``, whose OU
is not its ``teamIdentifier``, or whose signature does not carry the WWDR intermediate that
issued the certificate (G4 since 2022; FACTS: Apple Wallet). We check all of it at start-up and
in `walletcards program apply`, not on a customer's phone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

EXPIRY_WARNING = dt.timedelta(days=30)


class CertificateError(ValueError):
    """The programme's Apple certificate setup cannot sign passes; the message says why."""


@dataclass(frozen=True)
class PassSigner:
    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey
    wwdr: x509.Certificate
    warnings: tuple[str, ...] = ()


def _attribute(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> str | None:
    values = certificate.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def check_signer(
    signer: PassSigner, pass_type_identifier: str, team_identifier: str, now: dt.datetime
) -> tuple[str, ...]:
    """Raise CertificateError when the certificate cannot sign this programme's passes;
    return warnings (expiry within 30 days)."""
    cert = signer.certificate
    uid = _attribute(cert, NameOID.USER_ID)
    team = _attribute(cert, NameOID.ORGANIZATIONAL_UNIT_NAME)
    if uid != pass_type_identifier:
        raise CertificateError(
            f"the certificate is for pass type {uid!r}, the programme says {pass_type_identifier!r}"
        )
    if team != team_identifier:
        raise CertificateError(
            f"the certificate belongs to team {team!r}, the programme says {team_identifier!r}"
        )
    try:
        cert.verify_directly_issued_by(signer.wwdr)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise CertificateError(
            "the certificate was not issued by the configured WWDR intermediate "
            f"({signer.wwdr.subject.rfc4514_string()}); certificates issued since 2022 need G4"
        ) from exc
    for name, c in (("pass certificate", cert), ("WWDR certificate", signer.wwdr)):
        if c.not_valid_after_utc <= now:
            raise CertificateError(f"the {name} expired on {c.not_valid_after_utc:%Y-%m-%d}")
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey) or public.public_numbers() != (
        signer.private_key.public_key().public_numbers()
    ):
        raise CertificateError("the private key does not belong to the certificate")
    warnings = []
    if cert.not_valid_after_utc - now < EXPIRY_WARNING:
        warnings.append(
            f"the pass certificate expires on {cert.not_valid_after_utc:%Y-%m-%d}: renew it in "
            "the Apple Developer account before passes stop updating"
        )
    return tuple(warnings)


def load_signer(certificate: str, private_key: str, wwdr: str, password: str | None) -> PassSigner:
    """Read the PEM files named in the programme's ``[apple]`` table."""
    try:
        cert = x509.load_pem_x509_certificate(Path(certificate).read_bytes())
        intermediate = x509.load_pem_x509_certificate(Path(wwdr).read_bytes())
        key = serialization.load_pem_private_key(
            Path(private_key).read_bytes(), password.encode() if password else None
        )
    except OSError as exc:
        raise CertificateError(f"cannot read {exc.filename}: {exc.strerror}") from exc
    except (ValueError, TypeError) as exc:
        # wrong password, or not PEM; never include the password in the message
        raise CertificateError(f"cannot load the certificate or key: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError("the Pass Type ID key must be an RSA key")
    return PassSigner(cert, key, intermediate)


def _name(common: str, **extra: str) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common)]
    if "uid" in extra:
        attributes.append(x509.NameAttribute(NameOID.USER_ID, extra["uid"]))
    if "ou" in extra:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, extra["ou"]))
    attributes.append(
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, extra.get("o", "walletcards dev"))
    )
    attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, "US"))
    return x509.Name(attributes)


def _issue(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    ca: bool,
    now: dt.datetime,
    days: int,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class DevChain:
    root: x509.Certificate
    wwdr: x509.Certificate
    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey


def make_dev_chain(
    pass_type_identifier: str, team_identifier: str, now: dt.datetime, days: int = 365
) -> DevChain:
    """A throwaway root -> WWDR-like intermediate -> Pass Type ID leaf, all RSA-2048."""
    root_key = rsa.generate_private_key(65537, 2048)
    wwdr_key = rsa.generate_private_key(65537, 2048)
    leaf_key = rsa.generate_private_key(65537, 2048)
    root_name = _name("walletcards dev root")
    wwdr_name = _name("walletcards dev WWDR", ou="G4")
    root = _issue(root_name, root_key, root_name, root_key, True, now, days)
    wwdr = _issue(wwdr_name, wwdr_key, root_name, root_key, True, now, days)
    leaf_name = _name(
        f"Pass Type ID: {pass_type_identifier}",
        uid=pass_type_identifier,
        ou=team_identifier,
        o="walletcards dev shop",
    )
    leaf = _issue(leaf_name, leaf_key, wwdr_name, wwdr_key, False, now, days)
    return DevChain(root, wwdr, leaf, leaf_key)


def write_dev_chain(chain: DevChain, directory: Path, password: str | None) -> list[Path]:
    """root.pem, wwdr.pem, pass.pem and pass.key (0600; encrypted when a password is given)."""
    directory.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    files = {
        "root.pem": chain.root.public_bytes(pem),
        "wwdr.pem": chain.wwdr.public_bytes(pem),
        "pass.pem": chain.certificate.public_bytes(pem),
        "pass.key": chain.private_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, encryption
        ),
    }
    written = []
    for name, data in files.items():
        path = directory / name
        path.touch(mode=0o600 if name.endswith(".key") else 0o644)
        path.write_bytes(data)
        written.append(path)
    return written
