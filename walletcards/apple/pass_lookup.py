"""The PassKit web service's hot path: which card a request names, in one query, and how many
passes a process builds at once.

- :func:`card_by_serial`: the card, its programme and its customer in one ``SELECT`` (serials
  are unique), the pass type checked against the programme's, cached per programme version
  (``config_hash``): no query loads every programme to match a pass type.
- :func:`programs_for`: the programmes issuing a pass type (the serials list), reading only
  ids and versions unless a programme's version is new to this process.
- :class:`BuildLimit`: at most ``limit`` passes built (face read, signed) at once per
  process; a request over the limit waits up to ``wait`` seconds, then gets 503 with
  Retry-After (Wallet retries later), so a storm of GETs after a broadcast makes answers
  slower, not errors, and never queues more work than the database pool can serve.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from threading import BoundedSemaphore, Lock

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, load_only

from walletcards.apple.passes import pass_type_identifier
from walletcards.loyalty.models import Card, Customer, Program

_types: dict[tuple[int, str], str | None] = {}  # (programme id, config hash) -> pass type
_types_lock = Lock()
MAX_CACHED_TYPES = 10_000
# built once: its cache key too (building a statement per GET was a fifth of its CPU). Of the
# customer only what the card face shows (cardface.py: language, name, erased); another
# attribute read later costs a query of its own (tests count the GET's queries)
_BY_SERIAL = (
    select(Card, Program, Customer)
    .join(Program, Program.id == Card.program_id)
    .outerjoin(Customer, Customer.id == Card.customer_id)
    .where(Card.serial == bindparam("serial"))
    .options(load_only(Customer.locale, Customer.name, Customer.erased_at))
)


def pass_type_of(program: Program) -> str | None:
    """The programme's pass type identifier, parsed once per programme version."""
    key = (program.id, program.config_hash)
    found = _types.get(key, "")
    if found != "":
        return found
    ptid = pass_type_identifier(program)
    with _types_lock:
        if len(_types) >= MAX_CACHED_TYPES:
            _types.clear()
        _types[key] = ptid
    return ptid


def card_by_serial(
    session: Session, ptid: str, serial: str
) -> tuple[Card, Program, Customer | None] | None:
    """The card with this serial if its programme issues ``ptid``, with its programme and
    customer from the same query: while the caller holds them (the session's identity map
    keeps only weak references), ``session.get`` finds them without a round trip."""
    row = session.execute(_BY_SERIAL, {"serial": serial}).first()
    if row is None or pass_type_of(row[1]) != ptid:
        return None
    return row[0], row[1], row[2]


def programs_for(session: Session, ptid: str) -> list[int]:
    """Ids of the programmes issuing ``ptid``: ids and versions read, a programme's document
    only when its version is not cached yet."""
    found = []
    for program_id, config_hash in session.execute(select(Program.id, Program.config_hash)):
        key = (program_id, config_hash)
        if key not in _types:
            program = session.get(Program, program_id)
            assert program is not None
            pass_type_of(program)
        if _types.get(key) == ptid:
            found.append(program_id)
    return found


class BuildLimit:
    """A per-process limit on passes built at once (see the module's docstring)."""

    def __init__(self, limit: int, wait: float, retry_after: int) -> None:
        self.limit = limit
        self.wait = wait
        self.retry_after = retry_after  # seconds, for the 503's Retry-After
        self._slots = BoundedSemaphore(limit)

    @contextmanager
    def slot(self) -> Iterator[bool]:
        """Yields True holding a slot, or False when none freed up within ``wait`` seconds
        (the caller answers 503)."""
        if not self._slots.acquire(timeout=self.wait):
            yield False
            return
        try:
            yield True
        finally:
            self._slots.release()
