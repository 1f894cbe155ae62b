"""A reservation's code in the programme's shop: created after the reservation commits, deleted
once it is released. Both run OUTSIDE any transaction: the redemption is read in one short
transaction, the shop's admin API (:class:`~walletcards.shops.admin.ShopAdmin`) is called, and
the outcome is recorded in another (``shop_code_id``, ``shop_state`` pending -> live ->
deleted, or failed).

A call the shop cannot take now (:class:`ShopUnavailable`) is retried a few times with
:func:`walletcards.leases.backoff`; a code the shop refuses for good (:class:`ShopRefused`, or
still unavailable after the retries) is never live, so its reservation is released (cause
"shop_refused") and the caller gets :class:`ShopCodeRefused` (a 502 naming the shop's error).
The scheduled jobs (:mod:`walletcards.shops.code_jobs`) retry what a crash left pending and
delete the codes of released reservations.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from walletcards.errors import ApiError
from walletcards.leases import backoff
from walletcards.loyalty import reservations
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.loyalty.programs import program_config, program_rules
from walletcards.loyalty.redemption_models import Redemption
from walletcards.money import from_minor
from walletcards.orders.identity import customer_external_id, order_source
from walletcards.orders.woocommerce import site_url
from walletcards.shops.admin import ShopAdmin, ShopCode, ShopError, ShopRefused, ShopUnavailable

if TYPE_CHECKING:
    from walletcards.clients import Clients
    from walletcards.db import Database

T = TypeVar("T")
PLATFORMS = ("shopify", "woocommerce")
ATTEMPTS = 3  # calls of one operation before the shop counts as refusing
FIRST_WAIT = timedelta(seconds=0.25)
MAX_WAIT = timedelta(seconds=2)
ACTOR = "shop"
# the shops' codes for "no such code": deleting it again counts as done
GONE = ("NOT_FOUND", "HTTP_404", "WOOCOMMERCE_REST_SHOP_COUPON_INVALID_ID")
Sleep = Callable[[float], None]
wait: Sleep = time.sleep  # between attempts (tests replace it)


class ShopCodeRefused(ApiError):
    """The shop refused the code (or stayed unavailable): the reservation was released."""

    def __init__(self, message: str) -> None:
        super().__init__(502, "shop_refused", message)


@dataclass(frozen=True)
class WantedCode:
    """What the shop is asked to create, read in a first short transaction (a reservation's
    code here, a referred friend's in shops/friend_codes.py)."""

    platform: str
    code: str
    value_minor: int
    customer_ref: str | None
    email: str | None
    expires_at: datetime
    minimum_minor: int | None = None  # the order subtotal the code needs ([redemption] max_share)

    def create(self, admin: ShopAdmin, currency: str) -> ShopCode:
        """Ask the shop for the code (no retry here: callers wrap it in :func:`retrying`)."""
        return admin.create_code(
            self.code,
            from_minor(self.value_minor, currency),
            currency,
            self.customer_ref,
            self.email,
            self.expires_at,
            minimum=None
            if self.minimum_minor is None
            else from_minor(self.minimum_minor, currency),
        )


def platform_for(program: Program, channel: str) -> str | None:
    """The shop platform a code of ``channel`` lives in: the channel's own for "shopify" and
    "woocommerce"; for "card", the programme's configured shop (Shopify first), if any."""
    if channel in PLATFORMS:
        return channel
    if channel == "card":
        config = program_config(program)
        if config.shopify is not None:
            return "shopify"
        if config.woocommerce is not None:
            return "woocommerce"
    return None


def customer_ref(program: Program, platform: str, external_id: str | None) -> str | None:
    """The customer's own id in the platform's shop, when walletcards knows the customer by it
    (``<platform>:<shop>:customer:<id>``, orders/identity.py); None otherwise."""
    if not external_id:
        return None
    config = program_config(program)
    shop = config.webhooks.source(platform).shop
    if shop is None and platform == "woocommerce" and config.woocommerce is not None:
        shop = site_url(config.woocommerce.site_url)
    prefix = customer_external_id(order_source(platform, shop or ""), "")
    found = external_id.removeprefix(prefix)
    return found if found != external_id and found else None


def _admin(clients: Clients, program: Program, platform: str) -> ShopAdmin:
    admin = clients.shops.for_program(program, platform)
    if admin is None:
        raise ShopRefused(f"the programme has no [{platform}] table", "NOT_CONFIGURED")
    return admin


def retrying(call: Callable[[], T], sleep: Sleep | None = None) -> T:
    """``call()``, again after a backoff while the shop is unavailable, ATTEMPTS times at most."""
    for attempt in range(ATTEMPTS - 1):
        try:
            return call()
        except ShopUnavailable:
            (sleep or wait)(backoff(attempt, MAX_WAIT, FIRST_WAIT).total_seconds())
    return call()


def create_shop_code(
    clients: Clients,
    program: Program,
    redemption_id: int,
    *,
    database: Database,
    sleep: Sleep | None = None,
) -> str | None:
    """Create the reservation's code in the programme's shop, once; the shop's id of the code,
    or None when no shop is involved (channel "api", a "card" without a shop) or the
    reservation is no longer open. Raises :class:`ShopCodeRefused` after releasing it when the
    shop refuses."""
    db = database
    with db.transaction() as session:
        found = session.get(Redemption, redemption_id)
        if found is None or found.status != "reserved" or found.shop_state in ("live", "deleted"):
            return found.shop_code_id if found is not None else None
        platform = platform_for(program, found.channel)
        if platform is None or found.code is None:
            return None
        card = session.get(Card, found.card_id)
        customer = session.get(Customer, card.customer_id) if card is not None else None
        wanted = WantedCode(
            platform,
            found.code,
            found.value_minor,
            customer_ref(program, platform, customer.external_id if customer else None),
            customer.email if customer else None,
            found.expires_at,
            program_rules(program).redemption.minimum_order_minor(found.value_minor),
        )
        found.shop_state = "pending"
    try:
        made = retrying(lambda: _create(clients, program, wanted), sleep)
    except ShopError as exc:
        _refused(db, clients, redemption_id)
        if isinstance(exc, ShopRefused):
            raise ShopCodeRefused(f"the shop refused the code: {exc.message}") from exc
        raise ShopCodeRefused(f"the shop stayed unavailable: {exc}") from exc
    with db.transaction() as session:
        found = session.get(Redemption, redemption_id)
        assert found is not None
        found.shop_code_id, found.shop_state = made.id, "live"
        still_open = found.status == "reserved"
    if not still_open:  # released while the shop was creating it: never live without one
        delete_shop_code(clients, program, redemption_id, database=db, sleep=sleep)
    return made.id


def _create(clients: Clients, program: Program, wanted: WantedCode) -> ShopCode:
    return wanted.create(_admin(clients, program, wanted.platform), program.currency)


def _refused(db: Database, clients: Clients, redemption_id: int) -> None:
    """The shop will not hold the code: release the reservation and mark the code failed."""
    with db.transaction() as session:
        found = session.get(Redemption, redemption_id)
        assert found is not None
        if found.status == "reserved":
            reservations.release(
                session, found, cause="shop_refused", actor=ACTOR, now=clients.clock.now()
            )
        found.shop_state = "failed"


def delete_shop_code(
    clients: Clients,
    program: Program,
    redemption_id: int,
    *,
    database: Database,
    sleep: Sleep | None = None,
) -> bool:
    """Delete the code of a released reservation from the shop, once; True when it was deleted
    now. Still unavailable after the retries: the code stays "live" (the scheduled job tries
    again); refused: "failed" (an unknown code counts as deleted)."""
    db = database
    with db.transaction() as session:
        found = session.get(Redemption, redemption_id)
        if found is None or found.status != "released" or found.shop_state != "live":
            return False
        platform = platform_for(program, found.channel)
        shop_code_id = found.shop_code_id
    if platform is None or shop_code_id is None:
        return False
    state = "deleted"
    try:
        retrying(lambda: _admin(clients, program, platform).delete_code(shop_code_id), sleep)
    except ShopUnavailable:
        return False
    except ShopRefused as exc:
        state = "deleted" if exc.code.upper() in GONE else "failed"
    with db.transaction() as session:
        found = session.get(Redemption, redemption_id)
        assert found is not None
        found.shop_state = state
    return state == "deleted"


def after_reserve(
    clients: Clients, program: Program, redemption_id: int, channel: str, database: Database
) -> None:
    """What follows a committed reservation, outside any transaction: its code is created in the
    shop for channels "shopify" and "woocommerce", and for "card" when the programme has a
    shop; channel "api" needs nothing. Raises ``ShopCodeRefused`` (a 502) after releasing the
    reservation when the shop refuses the code."""
    if platform_for(program, channel) is not None:
        create_shop_code(clients, program, redemption_id, database=database)
