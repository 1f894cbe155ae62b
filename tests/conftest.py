"""The one fixture set: the test kit's plugins (tests/kit/) for every area, the database the
suite runs on in the report header, and which tests each database pass runs."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url

URL_VARIABLE = "WALLETCARDS_TEST_DATABASE_URL"  # (tests/kit/database.py reads it too)

# the kit's modules, imported as plugins so that pytest rewrites their asserts
pytest_plugins = [
    "tests.kit.clone",
    "tests.kit.database",
    "tests.kit.programs",
    "tests.kit.webhooks",
    "tests.kit.inbox",
    "tests.kit.web",
    "tests.kit.apple",
    "tests.kit.apns",
    "tests.kit.staff",
]


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get(URL_VARIABLE)
    shown = make_url(url).render_as_string(hide_password=True) if url else "SQLite (temporary file)"
    return f"walletcards test database: {shown}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Concurrency tests need PostgreSQL: on the SQLite run they are deselected (they run, and
    count, in the PostgreSQL run of `make test`), never skipped-and-counted."""
    url = os.environ.get(URL_VARIABLE, "")
    if url.startswith("postgresql"):
        # database-independent tests ran in the SQLite pass already
        once = [item for item in items if item.get_closest_marker("once") is not None]
        if once:
            config.hook.pytest_deselected(items=once)
            items[:] = [item for item in items if item.get_closest_marker("once") is None]
        return
    keep = [item for item in items if item.get_closest_marker("postgres") is None]
    dropped = [item for item in items if item.get_closest_marker("postgres") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
