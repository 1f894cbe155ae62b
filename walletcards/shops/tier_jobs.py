"""The scheduled job that puts each customer's tier into the shop (run by ``sync/jobs.py``
``run_due`` with the clients): Shopify ``tagsAdd`` / ``tagsRemove`` of ``loyalty-tier:<code>``,
WooCommerce customer meta ``walletcards_tier`` (shops/shopify_admin.py, woocommerce_admin.py).

The pattern of the outbox loops: due rows are claimed in one short transaction
(walletcards/leases.py: SKIP LOCKED on PostgreSQL, ``next_attempt_at`` as the lease), the shop
is called outside any transaction, and the outcome is recorded in another, per row: a shop
that is down (:class:`ShopUnavailable`) retries that customer later with
:func:`~walletcards.leases.backoff` (30 s doubling, at most 6 h) for up to 3 days; a refusal
(:class:`ShopRefused`: no such customer) fails that row only. A tier that changed again while
its tag was being sent (``revision``) stays pending and is sent again.

Every send removes the tags of all the programme's other levels (and of the tier before the
change), so a missed or reordered change still leaves exactly one tier tag.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from walletcards.leases import backoff, claim
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_rules
from walletcards.shops.admin import ShopRefused, ShopUnavailable
from walletcards.shops.models import ShopTierTag
from walletcards.shops.tier_tags import shop_tags

if TYPE_CHECKING:
    from walletcards.clients import Clients
    from walletcards.db import Database

log = logging.getLogger(__name__)
BATCH = 100
LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)
GIVE_UP = timedelta(days=3)


@dataclass(frozen=True)
class _Send:
    row_id: int
    revision: int
    attempts: int
    changed_at: datetime
    program: Program
    platform: str
    customer_ref: str
    add: list[str]
    remove: list[str]


def _read(session: Session, claimed: list[Row[Any]]) -> list[_Send]:
    batch = []
    for found in claimed:
        row = session.get(ShopTierTag, found.id)
        assert row is not None
        program = session.get(Program, row.program_id)
        assert program is not None
        tiers = program_rules(program).tiers
        others = {level.code for level in tiers.levels} if tiers else set()
        if row.previous_code:
            others.add(row.previous_code)
        add, remove = shop_tags(row.platform, row.tier_code, others)
        batch.append(
            _Send(
                row.id,
                row.revision,
                row.attempts,
                row.changed_at,
                program,
                row.platform,
                row.customer_ref,
                add,
                remove,
            )
        )
    return batch


def sync_tier_tags(database: Database, clients: Clients, now: datetime, limit: int = BATCH) -> int:
    """Send the due tier tags; returns how many the shops took."""
    due = claim(
        database,
        ShopTierTag,
        [ShopTierTag.status == "pending", ShopTierTag.next_attempt_at <= now],
        {"next_attempt_at": now + LEASE, "attempts": ShopTierTag.attempts + 1},
        limit,
        _read,
    )
    done = 0
    for send in due:
        error, permanent = None, False
        try:
            admin = clients.shops.for_program(send.program, send.platform)
            if admin is None:
                raise ShopRefused(f"the programme has no [{send.platform}] table", "NOT_CONFIGURED")
            admin.tag_customer(send.customer_ref, send.add, send.remove)
        except ShopRefused as exc:
            error, permanent = str(exc), True
        except ShopUnavailable as exc:
            error = str(exc) or type(exc).__name__
        except Exception as exc:  # one customer's surprise must not stop the others
            log.exception("tier tag for customer %s", send.customer_ref)
            error = f"{type(exc).__name__}: {exc}"
        done += _record(database, send, now, error, permanent)
    return done


def _record(
    database: Database, send: _Send, now: datetime, error: str | None, permanent: bool
) -> int:
    with database.transaction() as session:
        row = session.get(ShopTierTag, send.row_id)
        assert row is not None
        if row.revision != send.revision:
            return 0  # the tier changed meanwhile: the new change is pending, due now
        if error is None:
            row.status, row.done_at, row.last_error = "done", now, None
            return 1
        row.last_error = error[:500]
        if permanent or now - send.changed_at >= GIVE_UP:
            row.status = "failed"
            log.warning("tier tag for customer %s failed: %s", send.customer_ref, error)
        else:
            row.next_attempt_at = now + backoff(send.attempts, MAX_BACKOFF)
        return 0
