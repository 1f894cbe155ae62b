"""Service settings, parsed once from WALLETCARDS_* environment variables (+ an optional TOML file).

Secrets are wrapped in :class:`Secret` so that a repr, a log line or an error never shows them.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

MAX_PROXIES = 5


class ConfigError(ValueError):
    """The service cannot start with this configuration; the message names the setting."""


class Secret:
    """A string that hides itself from repr/str; read it with :meth:`reveal`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(Secret)


DEV_PUBLIC_URL = "http://127.0.0.1:8000"


def _default_instance() -> Path:
    return Path.cwd() / "instance"


@dataclass(frozen=True)
class Settings:
    database_url: str
    public_url: str
    secret_key: Secret
    apns_url: str = "https://api.push.apple.com"
    apns_ca_file: str | None = None
    google_api_url: str = "https://walletobjects.googleapis.com"
    # the shops' admin APIs: None, each programme's own shop (https://<shop domain>, the
    # [woocommerce] site_url); set, every programme's calls go there (loopback tests)
    shopify_api_url: str | None = None
    woocommerce_api_url: str | None = None
    smtp_url: Secret | None = None  # smtp://user:pass@host:587 (STARTTLS) or smtps://
    # where sign-in attempts are counted (redis://host:6379 shares them across processes);
    # None: memory://, each process on its own. A Secret: the URL may carry a password.
    ratelimit_storage_url: Secret | None = None
    trusted_proxies: int = 0  # proxies in front whose X-Forwarded-For is believed (ProxyFix)
    dev: bool = False
    instance_path: Path = field(default_factory=_default_instance)
    log_level: str = "INFO"  # WALLETCARDS_LOG_LEVEL
    log_format: str = "text"  # WALLETCARDS_LOG_FORMAT: text, or json (one object a line)
    metrics_token: Secret | None = None  # bearer token of GET /metrics; unset: 404
    # our signed-JSON webhook is applied in its request (answering the card) while fewer than
    # this many deliveries wait for the appliers; else 202 and a URL to poll (0: always 202)
    inline_apply_below: int = 100

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, dev_public_url: str = DEV_PUBLIC_URL
    ) -> Settings:
        """Read WALLETCARDS_* (and WALLETCARDS_CONFIG, a TOML file whose keys are the same names
        in lower case without the prefix; the environment wins). ``dev_public_url``: where this
        process will be reached, the public URL in development when none is set (`serve
        --port 8123` links to :8123)."""
        env = dict(os.environ if environ is None else environ)
        values: dict[str, str] = {}
        config_file = env.get("WALLETCARDS_CONFIG")
        if config_file:
            try:
                with open(config_file, "rb") as fh:
                    data = tomllib.load(fh)
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"WALLETCARDS_CONFIG: cannot read {config_file}: {exc}") from exc
            values.update({str(k).lower(): str(v) for k, v in data.items()})
        prefix = "WALLETCARDS_"
        values.update({k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)})

        dev = values.get("dev", "").lower() in {"1", "true", "yes"}
        instance = Path(values.get("instance_path") or _default_instance())
        database_url = values.get("database_url") or f"sqlite:///{instance / 'walletcards.db'}"
        public_url = (values.get("public_url") or "").rstrip("/")
        if not public_url:
            if not dev:
                raise ConfigError("WALLETCARDS_PUBLIC_URL is required (the base of every link)")
            public_url = dev_public_url.rstrip("/")
        secret = values.get("secret_key") or ""
        if not secret:
            if not dev:
                raise ConfigError(
                    "WALLETCARDS_SECRET_KEY is required; set WALLETCARDS_DEV=1 only for development"
                )
            secret = _dev_secret(instance)
        if len(secret) < 16:
            raise ConfigError("WALLETCARDS_SECRET_KEY must be at least 16 characters")
        log_level, log_format = _logging(values)
        metrics_token = values.get("metrics_token") or ""
        if metrics_token and len(metrics_token) < 16:
            raise ConfigError("WALLETCARDS_METRICS_TOKEN must be at least 16 characters")
        return cls(
            database_url=normalise_database_url(database_url),
            public_url=public_url,
            secret_key=Secret(secret),
            apns_url=(values.get("apns_url") or cls.apns_url).rstrip("/"),
            apns_ca_file=values.get("apns_ca_file") or None,
            google_api_url=(values.get("google_api_url") or cls.google_api_url).rstrip("/"),
            shopify_api_url=(values.get("shopify_api_url") or "").rstrip("/") or None,
            woocommerce_api_url=(values.get("woocommerce_api_url") or "").rstrip("/") or None,
            smtp_url=Secret(values["smtp_url"]) if values.get("smtp_url") else None,
            ratelimit_storage_url=(
                Secret(values["ratelimit_storage_url"])
                if values.get("ratelimit_storage_url")
                else None
            ),
            trusted_proxies=_proxy_count(values.get("trusted_proxies") or "0"),
            dev=dev,
            instance_path=instance,
            log_level=log_level,
            log_format=log_format,
            metrics_token=Secret(metrics_token) if metrics_token else None,
            inline_apply_below=_whole(values, "inline_apply_below", cls.inline_apply_below),
        )


def _logging(values: Mapping[str, str]) -> tuple[str, str]:
    from walletcards.logs import FORMATS, LEVELS

    level = (values.get("log_level") or "INFO").upper()
    if level not in LEVELS:
        raise ConfigError(f"WALLETCARDS_LOG_LEVEL must be one of {', '.join(LEVELS)}")
    fmt = (values.get("log_format") or "text").lower()
    if fmt not in FORMATS:
        raise ConfigError(f"WALLETCARDS_LOG_FORMAT must be one of {', '.join(FORMATS)}")
    return level, fmt


def _proxy_count(value: str) -> int:
    """How many reverse proxies stand in front (each appends to X-Forwarded-For); 0 = none,
    the peer address is the client's."""
    try:
        count = int(value)
    except ValueError:
        count = -1
    if not 0 <= count <= MAX_PROXIES:
        raise ConfigError(f"WALLETCARDS_TRUSTED_PROXIES: a whole number from 0 to {MAX_PROXIES}")
    return count


def _whole(values: Mapping[str, str], key: str, default: int) -> int:
    """A whole number from 0 to 1,000,000 (default when unset)."""
    raw = values.get(key) or str(default)
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 7 and int(raw) <= 1_000_000):
        raise ConfigError(f"WALLETCARDS_{key.upper()}: a whole number from 0 to 1000000")
    return int(raw)


def normalise_database_url(url: str) -> str:
    """postgres:// and postgresql:// mean psycopg 3 here (SQLAlchemy would pick psycopg2)."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def _dev_secret(instance: Path) -> str:
    """Development only: a random key kept in instance/ so sessions survive restarts."""
    path = instance / "dev-secret-key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.touch(mode=0o600)
    path.write_text(value)
    return value
