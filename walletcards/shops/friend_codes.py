"""The referred friend's discount code (``[referral] friend_reward = { discount = ... }``,
docs/referrals.md), made in the programme's shop by the scheduled jobs.

The code itself is fixed when the friend's reward is granted (loyalty/referrals.py, in the
sign-up's or order's transaction: one per friend, the referral row being unique per friend);
:func:`make_friend_codes` then reads each pending one in a short transaction, asks the shop's
admin API for a single-use code worth the amount (Shopify ``discountCodeBasicCreate``, a
WooCommerce coupon: the same clients as spending points online, shops/codes.py) OUTSIDE any
transaction, and records the outcome in another: ``live`` with the shop's id, ``failed`` when
the shop refuses for good, still ``pending`` (with the shop's answer) when it is unavailable,
to be tried again on the next run. A code the shop already holds (a run interrupted after the
shop made it) counts as made.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from walletcards.loyalty.models import Card, Customer, Program
from walletcards.loyalty.referral_models import Referral
from walletcards.shops.admin import ShopRefused, ShopUnavailable
from walletcards.shops.codes import Sleep, WantedCode, customer_ref, platform_for, retrying

if TYPE_CHECKING:
    from walletcards.clients import Clients
    from walletcards.db import Database

BATCH = 100
# the shops' answers for a code they hold already: made by an earlier, interrupted run
TAKEN = ("TAKEN", "WOOCOMMERCE_REST_COUPON_CODE_ALREADY_EXISTS")


def make_friend_codes(
    database: Database, clients: Clients, now: datetime, limit: int = BATCH
) -> int:
    """Make the pending friends' codes in their programmes' shops; returns how many were made.
    Up to ``limit`` per programme, oldest first; a programme whose shop is unavailable is left
    for the next run after its first such code, so one shop's outage holds up neither the
    other programmes' codes nor the scheduled jobs that run after this one."""
    with database.transaction() as session:
        programs = list(
            session.execute(
                select(Program).where(
                    Program.id.in_(
                        select(Referral.program_id).where(Referral.friend_code_state == "pending")
                    )
                )
            ).scalars()
        )
    made = 0
    for program in programs:
        with database.transaction() as session:
            pending = session.execute(
                select(Referral.id)
                .where(Referral.program_id == program.id, Referral.friend_code_state == "pending")
                .order_by(Referral.id)
                .limit(limit)
            ).scalars()
            referral_ids = list(pending)
        for referral_id in referral_ids:
            state = make_friend_code(clients, program, referral_id, database=database)
            made += state == "live"
            if state == "pending":  # the shop is unavailable: this programme's next run
                break
    return made


def _wanted(database: Database, program: Program, referral_id: int) -> WantedCode | None:
    with database.transaction() as session:
        row = session.get(Referral, referral_id)
        if row is None or row.friend_code_state != "pending" or row.friend_code is None:
            return None
        platform = platform_for(program, "card")  # the programme's shop, Shopify first
        if platform is None or row.friend_code_minor is None or row.friend_code_expires_at is None:
            row.friend_code_state, row.friend_code_error = "failed", "the programme has no shop"
            return None
        card = session.get(Card, row.friend_card_id)
        customer = session.get(Customer, card.customer_id) if card is not None else None
        external = customer.external_id if customer is not None else None
        return WantedCode(
            platform,
            row.friend_code,
            row.friend_code_minor,
            customer_ref(program, platform, external),
            customer.email if customer is not None else None,
            row.friend_code_expires_at,
        )


def make_friend_code(
    clients: Clients,
    program: Program,
    referral_id: int,
    *,
    database: Database,
    sleep: Sleep | None = None,
) -> str | None:
    """Make one friend's code in the shop, once: its state after this attempt ("live",
    "pending" while the shop is unavailable, "failed"; None: nothing to do here)."""
    wanted = _wanted(database, program, referral_id)
    if wanted is None:
        return None
    admin = clients.shops.for_program(program, wanted.platform)
    state, shop_id, error = "live", None, None
    try:
        if admin is None:
            raise ShopRefused(f"the programme has no [{wanted.platform}] table", "NOT_CONFIGURED")
        made = retrying(lambda: wanted.create(admin, program.currency), sleep)
        shop_id = made.id
    except ShopUnavailable as exc:
        state, error = "pending", f"the shop is unavailable: {exc}"
    except ShopRefused as exc:
        if exc.code.upper() not in TAKEN:
            state, error = "failed", f"the shop refused the code: {exc}"
    with database.transaction() as session:
        row = session.get(Referral, referral_id)
        if row is None or row.friend_code_state != "pending":
            return None
        row.friend_code_state, row.friend_code_error = state, error
        row.friend_shop_code_id = shop_id
    return state
