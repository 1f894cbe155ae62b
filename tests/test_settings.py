from __future__ import annotations

from pathlib import Path

import pytest

from walletcards.settings import ConfigError, Secret, Settings


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="WALLETCARDS_SECRET_KEY"):
        Settings.from_env({"WALLETCARDS_PUBLIC_URL": "https://cards.example.com"})


def test_production_needs_a_public_url() -> None:
    with pytest.raises(ConfigError, match="WALLETCARDS_PUBLIC_URL"):
        Settings.from_env({"WALLETCARDS_SECRET_KEY": "x" * 32})


def test_short_secret_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 16"):
        Settings.from_env(
            {"WALLETCARDS_SECRET_KEY": "short", "WALLETCARDS_PUBLIC_URL": "https://x"}
        )


def test_dev_mode_generates_and_keeps_a_random_secret(tmp_path: Path) -> None:
    env = {"WALLETCARDS_DEV": "1", "WALLETCARDS_INSTANCE_PATH": str(tmp_path)}
    first, second = Settings.from_env(env), Settings.from_env(env)
    assert len(first.secret_key.reveal()) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "dev-secret-key").stat().st_mode & 0o077 == 0
    assert first.database_url == f"sqlite:///{tmp_path / 'walletcards.db'}"


def test_secrets_never_show_in_repr() -> None:
    settings = Settings.from_env(
        {
            "WALLETCARDS_SECRET_KEY": "s3cr3t-value-of-32-characters!!",
            "WALLETCARDS_PUBLIC_URL": "https://cards.example.com/",
        }
    )
    assert "s3cr3t" not in repr(settings) and "s3cr3t" not in str(settings.secret_key)
    assert settings.public_url == "https://cards.example.com"
    assert repr(Secret("abc")) == "Secret('**********')"


def test_postgres_urls_use_psycopg3_and_pinned_defaults() -> None:
    settings = Settings.from_env(
        {
            "WALLETCARDS_SECRET_KEY": "k" * 20,
            "WALLETCARDS_PUBLIC_URL": "https://x",
            "WALLETCARDS_DATABASE_URL": "postgresql://u@h/db",
        }
    )
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.apns_url == "https://api.push.apple.com"
    assert settings.google_api_url == "https://walletobjects.googleapis.com"


def test_toml_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    path = tmp_path / "walletcards.toml"
    path.write_text('public_url = "https://from-file"\nsecret_key = "from-file-secret-key"\n')
    settings = Settings.from_env(
        {"WALLETCARDS_CONFIG": str(path), "WALLETCARDS_PUBLIC_URL": "https://from-env"}
    )
    assert settings.public_url == "https://from-env"
    assert settings.secret_key.reveal() == "from-file-secret-key"


def test_sign_in_limits_storage_and_trusted_proxies_come_from_the_file_or_environment(
    tmp_path: Path,
) -> None:
    base = {"WALLETCARDS_PUBLIC_URL": "https://x", "WALLETCARDS_SECRET_KEY": "k" * 16}
    path = tmp_path / "walletcards.toml"
    path.write_text('ratelimit_storage_url = "redis://:pw@127.0.0.1:6379"\ntrusted_proxies = 2\n')
    from_file = Settings.from_env({**base, "WALLETCARDS_CONFIG": str(path)})
    assert from_file.ratelimit_storage_url == Secret("redis://:pw@127.0.0.1:6379")
    assert from_file.trusted_proxies == 2 and "pw" not in repr(from_file)
    from_env = Settings.from_env({**base, "WALLETCARDS_TRUSTED_PROXIES": "1"})
    assert from_env.trusted_proxies == 1 and from_env.ratelimit_storage_url is None
    assert Settings.from_env(base).trusted_proxies == 0
    for bad in ("-1", "yes", "1.5", "99"):
        with pytest.raises(ConfigError, match="WALLETCARDS_TRUSTED_PROXIES"):
            Settings.from_env({**base, "WALLETCARDS_TRUSTED_PROXIES": bad})


def test_dev_public_url_follows_where_the_server_listens_unless_one_is_set(
    tmp_path: Path,
) -> None:
    env = {"WALLETCARDS_DEV": "1", "WALLETCARDS_INSTANCE_PATH": str(tmp_path)}
    assert Settings.from_env(env).public_url == "http://127.0.0.1:8000"
    here = "http://127.0.0.1:8123/"
    assert Settings.from_env(env, dev_public_url=here).public_url == "http://127.0.0.1:8123"
    chosen = {**env, "WALLETCARDS_PUBLIC_URL": "https://cards.example.com"}
    assert Settings.from_env(chosen, dev_public_url=here).public_url == "https://cards.example.com"
    with pytest.raises(ConfigError, match="WALLETCARDS_PUBLIC_URL"):  # production: never guessed
        Settings.from_env({"WALLETCARDS_SECRET_KEY": "x" * 32}, dev_public_url=here)
