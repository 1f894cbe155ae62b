"""Shared fixtures: one migrated database per test session (SQLite file or a fresh PostgreSQL
database), emptied after every test; a frozen clock; the demo programme."""

from __future__ import annotations

import os
import site
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from walletcards import migrate
from walletcards.apple import models as _apple_models  # noqa: F401  (tables to empty)
from walletcards.cashier import models as _cashier_models  # noqa: F401
from walletcards.clock import FixedClock
from walletcards.db import Database, Model
from walletcards.google import models as _google_models  # noqa: F401
from walletcards.loyalty import redemption_models as _redemption_models  # noqa: F401
from walletcards.loyalty.cards import create_customer, issue_card
from walletcards.loyalty.config import load_program_file, parse_program
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import apply_program
from walletcards.orders import models as _order_models  # noqa: F401
from walletcards.staff import models as _staff_models  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo.toml"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _test_url(tmp_root: Path) -> str:
    return os.environ.get("WALLETCARDS_TEST_DATABASE_URL") or f"sqlite:///{tmp_root / 'test.db'}"


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get("WALLETCARDS_TEST_DATABASE_URL")
    shown = make_url(url).render_as_string(hide_password=True) if url else "SQLite (temporary file)"
    return f"walletcards test database: {shown}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Concurrency tests need PostgreSQL: on the SQLite run they are deselected (they run, and
    count, in the PostgreSQL run of `make test`), never skipped-and-counted."""
    url = os.environ.get("WALLETCARDS_TEST_DATABASE_URL", "")
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


# Where a test run may read besides the clone: the interpreter, its packages, the system (and
# temporary files, which lie beside the clone only when it sits in the temporary folder). A
# path under the folder holding the clone but outside the clone (a sibling folder of notes or
# data) exists only on the developer's machine, never in a user's fresh clone.
_READABLE = tuple(
    os.path.join(os.path.abspath(p), "")
    for p in (
        ROOT,
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        *site.getsitepackages(),
        site.getusersitepackages(),
        *(f"/{top}" for top in ("usr", "etc", "dev", "proc", "sys", "var", "run", "lib", "opt")),
    )
)


_TEMPORARY = os.path.join(os.path.abspath(tempfile.gettempdir()), "")
_MADE_BY_TEMPFILE_OR_PYTEST = ("tmp", "pytest-of-")


def escapes_clone(path: str) -> bool:
    """True for a path beside the clone (under its parent folder, outside the clone, the
    interpreter, temporary files and the system; hidden files such as ~/.netrc are the user's)."""
    absolute = os.path.abspath(path)
    parent = os.path.join(os.path.dirname(ROOT), "")
    if not absolute.startswith(parent) or absolute.startswith(_READABLE):
        return False
    beside = absolute[len(parent) :]
    if parent == _TEMPORARY and beside.startswith(_MADE_BY_TEMPFILE_OR_PYTEST):
        return False  # the clone sits in /tmp: pytest's and tempfile's folders are its siblings
    return not any(part.startswith(".") for part in Path(beside).parts)


_outside_reads: list[str] = []


def _record_outside_reads(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        path = os.fsdecode(args[0])
        if path and escapes_clone(path):
            _outside_reads.append(path)


@pytest.fixture(scope="session", autouse=True)
def _reads_stay_inside_the_clone() -> Iterator[None]:
    """Every file the suite opens in this process is inside the clone (or the system's)."""
    sys.addaudithook(_record_outside_reads)
    yield
    assert not _outside_reads, f"the tests opened files outside the clone: {_outside_reads}"


@pytest.fixture(scope="session", autouse=True)
def _dev_certificates() -> None:
    """examples/demo.toml points at certs/dev/ (git-ignored): make the throwaway chain there
    once, as `walletcards certs dev` would, so applying the demo checks a real certificate."""
    from walletcards.apple.certificates import make_dev_chain, write_dev_chain

    target = ROOT / "certs" / "dev"
    if not (target / "pass.pem").exists():
        # valid from well before T0 (tests' frozen clock) until years after today
        start = datetime.now(UTC) - timedelta(days=400)
        chain = make_dev_chain("pass.com.example.demo", "ABCDE12345", start, days=3650)
        write_dev_chain(chain, target, None)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # A fresh database per test session, so parallel runs and old data never interfere.
    with scratch_database(_test_url(tmp_path_factory.mktemp("db")), "test") as url:
        yield url


@contextmanager
def scratch_database(url: str, label: str) -> Iterator[str]:
    """The URL of a database of its own: on PostgreSQL one created beside ``url``'s and dropped
    afterwards; a SQLite URL is a file already of its own (the caller's temporary path)."""
    if not url.startswith("postgresql"):
        yield url
        return
    name = f"walletcards_{label}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    migrate.upgrade(db)
    yield db
    db.dispose()


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "database" not in request.fixturenames:
        return
    db: Database = request.getfixturevalue("database")
    tables = [t.name for t in reversed(Model.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.is_postgres:
            # table names come from our own metadata, not from input
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


def demo_document(**overrides: Any) -> dict[str, Any]:
    """The demo programme as a dict; ``overrides`` replace whole top-level tables/keys
    (a value of None removes the key)."""
    document = dict(load_program_file(DEMO).document)
    for key, value in overrides.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    return document


MakeProgram = Callable[..., Program]


@pytest.fixture
def make_program(database: Database, clock: FixedClock) -> MakeProgram:
    def make(**overrides: Any) -> Program:
        config = parse_program(demo_document(**overrides))
        with database.transaction() as session:
            program, _ = apply_program(session, config, clock.now())
        return program

    return make


@pytest.fixture
def program(make_program: MakeProgram) -> Program:
    return make_program()


MakeCard = Callable[..., Card]


@pytest.fixture
def make_card(database: Database, clock: FixedClock) -> MakeCard:
    def make(program: Program, **customer: Any) -> Card:
        with database.transaction() as session:
            person = create_customer(session, program, clock.now(), **customer)
            return issue_card(session, program, person, clock.now())

    return make


@pytest.fixture
def card(program: Program, make_card: MakeCard) -> Card:
    return make_card(program, email="ann@example.com", name="Ann")


def reload_card(session: Session, card_id: int) -> Card:
    card = session.get(Card, card_id, populate_existing=True)
    assert card is not None
    return card
