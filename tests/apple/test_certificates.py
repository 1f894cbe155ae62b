from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7

from tests.kit.apple import KEY_PASSWORD, PTID, TEAM
from tests.kit.clone import ROOT
from tests.kit.programs import MakeProgram, demo_file
from walletcards import create_app
from walletcards.apple.certificates import (
    CertificateError,
    DevChain,
    PassSigner,
    check_signer,
    load_signer,
    make_dev_chain,
)
from walletcards.apple.signature import sign_manifest
from walletcards.cli import main
from walletcards.db import Database
from walletcards.settings import Secret, Settings

NOW = datetime.now(UTC)


def signer_of(chain: DevChain, wwdr: x509.Certificate | None = None) -> PassSigner:
    return PassSigner(chain.certificate, chain.private_key, wwdr or chain.wwdr)


def test_the_shipped_wwdr_is_apples_g4(tmp_path: Path) -> None:
    shipped = x509.load_pem_x509_certificate((ROOT / "certs/AppleWWDRCAG4.pem").read_bytes())
    assert format(shipped.serial_number, "X").startswith("13DC7795")
    assert format(shipped.serial_number, "X").endswith("CED2")
    assert shipped.not_valid_after_utc.date().isoformat() == "2030-12-10"
    assert "G4" in shipped.subject.rfc4514_string()


def test_a_matching_chain_passes_the_checks(dev_chain: DevChain) -> None:
    assert check_signer(signer_of(dev_chain), PTID, TEAM, NOW) == ()


def test_pass_type_id_or_team_mismatch_is_refused(dev_chain: DevChain) -> None:
    with pytest.raises(CertificateError, match="pass type"):
        check_signer(signer_of(dev_chain), "pass.com.other", TEAM, NOW)
    with pytest.raises(CertificateError, match="team"):
        check_signer(signer_of(dev_chain), PTID, "OTHER12345", NOW)


def test_a_certificate_from_another_intermediate_is_refused(dev_chain: DevChain) -> None:
    other = make_dev_chain(PTID, TEAM, NOW)
    with pytest.raises(CertificateError, match="WWDR"):
        check_signer(signer_of(dev_chain, other.wwdr), PTID, TEAM, NOW)


def test_expiry_within_30_days_warns_and_after_expiry_refuses(dev_chain: DevChain) -> None:
    short = make_dev_chain(PTID, TEAM, NOW, days=20)
    (warning,) = check_signer(signer_of(short), PTID, TEAM, NOW)
    assert "expires on" in warning
    with pytest.raises(CertificateError, match="expired"):
        check_signer(signer_of(short), PTID, TEAM, NOW + timedelta(days=21))


def test_a_key_that_is_not_the_certificates_is_refused(dev_chain: DevChain) -> None:
    other = make_dev_chain(PTID, TEAM, NOW)
    with pytest.raises(CertificateError, match="private key"):
        check_signer(
            PassSigner(dev_chain.certificate, other.private_key, dev_chain.wwdr), PTID, TEAM, NOW
        )


def test_wrong_password_is_a_clear_error_without_the_password(
    chain_dir: Path, dev_chain: DevChain
) -> None:
    with pytest.raises(CertificateError) as raised:
        load_signer(
            str(chain_dir / "pass.pem"),
            str(chain_dir / "pass.key"),
            str(chain_dir / "wwdr.pem"),
            "not-the-password",
        )
    assert "not-the-password" not in str(raised.value)
    assert (
        load_signer(
            str(chain_dir / "pass.pem"),
            str(chain_dir / "pass.key"),
            str(chain_dir / "wwdr.pem"),
            KEY_PASSWORD,
        ).certificate
        == dev_chain.certificate
    )


def test_signature_carries_the_wwdr_certificate(dev_chain: DevChain) -> None:
    signature = sign_manifest(b'{"pass.json":"0"}\n', signer_of(dev_chain))
    embedded = pkcs7.load_der_pkcs7_certificates(signature)
    assert dev_chain.wwdr in embedded and dev_chain.certificate in embedded


def test_program_apply_refuses_a_mismatched_certificate(database: Database, tmp_path: Path) -> None:
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    wrong = tmp_path / "demo.toml"
    wrong.write_text(demo_file().read_text().replace("ABCDE12345", "ZZZZZ99999"))
    result = CliRunner().invoke(main, ["program", "apply", str(wrong)], env=env)
    assert result.exit_code == 1
    assert "team" in result.output and "nothing changed" in result.output


def test_certs_dev_writes_a_chain_that_checks_out(tmp_path: Path) -> None:
    target = tmp_path / "dev"
    result = CliRunner().invoke(
        main, ["certs", "dev", "--dir", str(target)], env={"WALLETCARDS_DEV": "1"}
    )
    assert result.exit_code == 0, result.output
    assert (target / "pass.key").stat().st_mode & 0o077 == 0
    signer = load_signer(
        str(target / "pass.pem"), str(target / "pass.key"), str(target / "wwdr.pem"), None
    )
    assert check_signer(signer, "pass.com.example.demo", "ABCDE12345", NOW) == ()
    again = CliRunner().invoke(main, ["certs", "dev", "--dir", str(target)])
    assert "already holds" in again.output


def test_start_up_logs_a_programme_whose_certificate_cannot_sign(
    database: Database,
    make_program: MakeProgram,
    apple_table: dict[str, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_program(apple={**apple_table, "team_identifier": "WRONG12345"})
    settings = Settings(
        database_url=database.url,
        public_url="https://x",
        secret_key=Secret("k" * 20),
        instance_path=tmp_path,
    )
    with caplog.at_level("ERROR"):
        app = create_app(settings)
    app.extensions["walletcards.db"].dispose()
    assert "Apple passes cannot be signed" in caplog.text and "team" in caplog.text
