"""One log format for every entry point: text or JSON lines, level and format from settings."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest

from walletcards import logs
from walletcards.settings import ConfigError, Settings

pytestmark = pytest.mark.once  # no database involved
BASE = {"WALLETCARDS_PUBLIC_URL": "https://cards.example.com", "WALLETCARDS_SECRET_KEY": "k" * 20}


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    """The root logger, put back as it was (pytest's own capture handlers included)."""
    logger = logging.getLogger()
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_json_lines_carry_level_logger_message_extra_fields_and_the_traceback(
    root: logging.Logger,
) -> None:
    out = io.StringIO()
    logs.configure("INFO", "json", stream=out)
    log = logging.getLogger("walletcards.test")
    log.info("pushed %d cards", 3, extra={"summary": {"cards": 3}})
    log.debug("not at INFO")
    try:
        raise ValueError("bad certificate")
    except ValueError:
        log.exception("push failed")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 2
    assert lines[0]["level"] == "INFO" and lines[0]["logger"] == "walletcards.test"
    assert lines[0]["message"] == "pushed 3 cards" and lines[0]["summary"] == {"cards": 3}
    assert lines[0]["time"].endswith("+00:00")
    assert lines[1]["level"] == "ERROR" and "ValueError: bad certificate" in lines[1]["exception"]


def test_text_format_is_one_line_with_level_and_logger(root: logging.Logger) -> None:
    out = io.StringIO()
    logs.configure("WARNING", "text", stream=out)
    logging.getLogger("walletcards.test").info("hidden")
    logging.getLogger("walletcards.test").warning("certificate expires soon")
    (line,) = out.getvalue().splitlines()
    assert line.endswith(" WARNING walletcards.test: certificate expires soon")


def test_configuring_twice_keeps_one_handler_and_takes_the_new_format(
    root: logging.Logger,
) -> None:
    logs.configure("INFO", "text")
    logs.configure("DEBUG", "json")
    ours = [h for h in root.handlers if isinstance(h.formatter, logs.TextFormatter)]
    ours += [h for h in root.handlers if isinstance(h.formatter, logs.JsonFormatter)]
    assert len(ours) == 1 and isinstance(ours[0].formatter, logs.JsonFormatter)
    assert root.level == logging.DEBUG


def test_gunicorn_logs_go_through_the_same_formatter(root: logging.Logger) -> None:
    config = logs.gunicorn_config("INFO", "json")
    logging.config.dictConfig(config)
    assert isinstance(root.handlers[-1].formatter, logs.JsonFormatter)
    error = logging.getLogger("gunicorn.error")
    assert error.handlers == [] and error.propagate


def test_settings_read_the_level_and_format_and_refuse_unknown_ones() -> None:
    settings = Settings.from_env(
        {**BASE, "WALLETCARDS_LOG_LEVEL": "debug", "WALLETCARDS_LOG_FORMAT": "JSON"}
    )
    assert (settings.log_level, settings.log_format) == ("DEBUG", "json")
    assert (Settings.from_env(BASE).log_level, Settings.from_env(BASE).log_format) == (
        "INFO",
        "text",
    )
    with pytest.raises(ConfigError, match="WALLETCARDS_LOG_LEVEL"):
        Settings.from_env({**BASE, "WALLETCARDS_LOG_LEVEL": "loud"})
    with pytest.raises(ConfigError, match="WALLETCARDS_LOG_FORMAT"):
        Settings.from_env({**BASE, "WALLETCARDS_LOG_FORMAT": "xml"})


def test_the_metrics_token_is_a_hidden_secret_of_at_least_16_characters() -> None:
    settings = Settings.from_env({**BASE, "WALLETCARDS_METRICS_TOKEN": "t" * 32})
    assert settings.metrics_token is not None and settings.metrics_token.reveal() == "t" * 32
    assert "t" * 32 not in repr(settings)
    assert Settings.from_env(BASE).metrics_token is None
    with pytest.raises(ConfigError, match="WALLETCARDS_METRICS_TOKEN"):
        Settings.from_env({**BASE, "WALLETCARDS_METRICS_TOKEN": "short"})


def test_database_urls_are_logged_without_their_password() -> None:
    shown = logs.safe_url("postgresql+psycopg://app:s3cret-pw@db.internal:5432/walletcards")
    assert shown == "postgresql+psycopg://app:***@db.internal:5432/walletcards"
