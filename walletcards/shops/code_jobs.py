"""The scheduled jobs of reservation codes (run by ``sync/jobs.py`` ``run_due``):

- :func:`expire_reservations`: a reservation whose code was not used by ``expires_at`` is
  released (cause "expired"), one short transaction each;
- :func:`sync_codes`: the shop and the reservations agree, both ways, with the calls made
  outside any transaction (:mod:`walletcards.shops.codes`): a code left "pending" by a process
  that died before the shop answered is created again (or its reservation released if the shop
  refuses), and a released reservation whose code is still live in the shop has it deleted.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select

from walletcards.loyalty import reservations
from walletcards.loyalty.models import Program
from walletcards.loyalty.redemption_models import Redemption
from walletcards.shops.codes import ShopCodeRefused, create_shop_code, delete_shop_code

if TYPE_CHECKING:
    from walletcards.clients import Clients
    from walletcards.db import Database

BATCH = 100
ACTOR = "jobs"
# a request creating its code is given this long before the job creates it instead
PENDING_GRACE = timedelta(minutes=5)


def expire_reservations(database: Database, now: datetime, limit: int = BATCH) -> int:
    """Release the reservations whose code expired by ``now`` (cause "expired"); their codes
    are deleted from the shop by :func:`sync_codes`. Returns how many were released."""
    with database.transaction() as session:
        due = [found.id for found in reservations.due_to_expire(session, now, limit)]
    released = 0
    for redemption_id in due:
        with database.transaction() as session:
            found = session.get(Redemption, redemption_id)
            if found is not None and found.status == "reserved" and found.expires_at <= now:
                reservations.release(session, found, cause="expired", actor=ACTOR, now=now)
                released += 1
    return released


def sync_codes(database: Database, clients: Clients, now: datetime, limit: int = BATCH) -> int:
    """Create the codes left pending, delete the codes of released reservations still live in
    the shop; returns how many shop calls succeeded (a shop still unavailable: next run)."""
    with database.transaction() as session:
        rows = session.execute(
            select(Redemption.id, Redemption.status, Program)
            .join(Program, Program.id == Redemption.program_id)
            .where(
                or_(
                    and_(
                        Redemption.status == "reserved",
                        Redemption.shop_state == "pending",
                        Redemption.created_at <= now - PENDING_GRACE,
                    ),
                    and_(Redemption.status == "released", Redemption.shop_state == "live"),
                )
            )
            .order_by(Redemption.id)
            .limit(limit)
        ).all()
    done = 0
    for redemption_id, status, program in rows:
        if status == "released":
            done += delete_shop_code(clients, program, redemption_id, database=database)
            continue
        with suppress(ShopCodeRefused):  # refused: released by it, nothing more to do
            done += create_shop_code(clients, program, redemption_id, database=database) is not None
    return done
