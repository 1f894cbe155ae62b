"""Reconciliation: orders the shop holds but whose webhook never arrived (Shopify deletes
subscriptions that keep failing; WooCommerce never retries), read back through the shop's
admin API and applied through the same intake, with the same business-key dedupe.

Per programme and platform with a shop admin (``[shopify]`` / ``[woocommerce]``), at most
every :data:`EVERY`: every page of orders updated since the watermark (less :data:`OVERLAP`,
for the shop's search index lag; the first run looks back :data:`FIRST_LOOKBACK`) is read
*outside* any transaction; then each order becomes the deliveries its webhooks would have
been (Shopify: orders/paid, each refunds/create, or orders/cancelled; WooCommerce:
order.updated), each applied in its own transaction by ``intake.receive``. One that changes
something stays in the inbox as ``reconciled``; one the webhooks already brought (a
duplicate) or that earns nothing (ignored) is rolled back and leaves no row. Only when every
page was read and applied does the watermark move to the latest update time seen, so a shop
outage leaves it where it was and the next run reads the same orders again (harmlessly).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from walletcards.clock import as_utc
from walletcards.db import Database
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_config, webhook_shop
from walletcards.orders import intake
from walletcards.orders.events import Delivery, PayloadError, UnknownShop, Verified
from walletcards.orders.models import InboxDelivery, ShopWatermark
from walletcards.orders.sources import SOURCES, parse_delivery
from walletcards.shops.admin import OrderPayload, ShopAdmin, ShopError

if TYPE_CHECKING:
    from walletcards.clients import ShopAdmins

log = logging.getLogger(__name__)
EVERY = timedelta(minutes=15)
OVERLAP = timedelta(minutes=10)
FIRST_LOOKBACK = timedelta(days=1)
MAX_PAGES = 1000  # a cursor that never ends is the shop's bug: stop, keep the watermark
SHOPIFY_PAID = ("paid", "partially_paid", "partially_refunded", "refunded")


class _NothingNew(Exception):
    """Rolls back the inbox row of a delivery that changed nothing."""


@dataclass(frozen=True)
class Replayed:
    """One delivery the shop's webhooks would have made: its topic, id and body."""

    topic: str
    delivery_id: str
    body: OrderPayload


def updated_at(platform: str, order: OrderPayload) -> datetime | None:
    """When the shop last changed ``order`` (Shopify ``updated_at``; WooCommerce's GMT
    ``date_modified_gmt``, written without an offset)."""
    value = order.get("updated_at" if platform == "shopify" else "date_modified_gmt")
    if not isinstance(value, str) or not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def deliveries(platform: str, order: OrderPayload) -> list[Replayed]:
    """The deliveries an order read back stands for. A Shopify order paid and since refunded
    is applied as paid (its lines are the paid ones) and then refund by refund."""
    order_id = str(order.get("id"))
    version = order.get("updated_at" if platform == "shopify" else "date_modified_gmt")
    if platform == "woocommerce":
        return [Replayed("order.updated", f"reconcile:{order_id}:{version}", order)]
    if order.get("cancelled_at"):
        return [Replayed("orders/cancelled", f"reconcile:{order_id}:cancelled", order)]
    if order.get("financial_status") not in SHOPIFY_PAID:
        return []
    found = [
        Replayed("orders/paid", f"reconcile:{order_id}:paid", {**order, "financial_status": "paid"})
    ]
    for refund in order.get("refunds") or []:
        found.append(Replayed("refunds/create", f"reconcile:refund:{refund.get('id')}", refund))
    return found


def read_since(admin: ShopAdmin, since: datetime) -> list[OrderPayload]:
    """Every order updated after ``since``, all pages (no transaction open: network I/O)."""
    orders: list[OrderPayload] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = admin.orders_updated_since(since, cursor)
        orders.extend(page.orders)
        cursor = page.cursor
        if cursor is None:
            return orders
    raise ShopError(f"more than {MAX_PAGES} pages of orders: the watermark stays")


def apply_one(
    database: Database, program_id: int, platform: str, replayed: Replayed, ctx: intake.Context
) -> bool:
    """Apply one delivery read back; True when it changed something (kept as reconciled)."""
    source = SOURCES[platform]
    body = json.dumps(replayed.body, separators=(",", ":")).encode()
    try:
        with database.transaction() as session:
            program = session.get(Program, program_id)
            assert program is not None
            shop = webhook_shop(program, platform)
            kept = Delivery(platform, shop or "", replayed.topic, replayed.delivery_id, None, None)
            verified = Verified(source.replay_headers(kept), body)
            delivery = parse_delivery(source, verified, program.currency, shop)
            intake.receive(session, program, delivery, body, ctx)
            row = session.execute(
                select(InboxDelivery).where(
                    InboxDelivery.program_id == program_id,
                    InboxDelivery.source == platform,
                    InboxDelivery.delivery_id == kept.delivery_id[:255],
                )
            ).scalar_one()
            if row.outcome not in ("applied", "unattributed"):
                raise _NothingNew
            if row.outcome == "applied":
                row.outcome = "reconciled"
    except _NothingNew:
        return False
    except (PayloadError, UnknownShop) as exc:
        log.warning("reconcile %s order: %s (skipped)", platform, exc)
        return False
    return True


def reconcile_shop(
    database: Database, shops: ShopAdmins, program: Program, platform: str, ctx: intake.Context
) -> int:
    """One programme's shop on one platform; returns the deliveries applied."""
    with database.transaction() as session:
        mark = session.get(ShopWatermark, (program.id, platform))
        watermark = mark.updated_after if mark is not None else None
    since = watermark - OVERLAP if watermark is not None else ctx.now - FIRST_LOOKBACK
    try:
        admin = shops.for_program(program, platform)
        if admin is None:
            return 0
        orders = read_since(admin, since)
    except ShopError as exc:
        log.warning("reconcile %s %s: %s; will try again", program.slug, platform, exc)
        _record(database, program.id, platform, ctx.now, watermark, str(exc)[:500])
        return 0
    applied = 0
    latest = watermark
    for order in orders:
        for replayed in deliveries(platform, order):
            applied += apply_one(database, program.id, platform, replayed, ctx)
        moment = updated_at(platform, order)
        if moment is not None and (latest is None or moment > latest):
            latest = moment
    _record(database, program.id, platform, ctx.now, latest, None)
    return applied


def _record(
    database: Database,
    program_id: int,
    platform: str,
    now: datetime,
    watermark: datetime | None,
    error: str | None,
) -> None:
    with database.transaction() as session:
        mark = session.get(ShopWatermark, (program_id, platform))
        if mark is None:
            mark = ShopWatermark(program_id=program_id, platform=platform, checked_at=now)
            session.add(mark)
        mark.updated_after, mark.checked_at, mark.error = watermark, now, error


def reconcile_orders(database: Database, shops: ShopAdmins, public_url: str, now: datetime) -> int:
    """Every programme's shops that are due (last looked at least :data:`EVERY` ago);
    returns the deliveries applied."""
    with database.transaction() as session:
        programs = session.execute(select(Program).order_by(Program.id)).scalars().all()
        checked: dict[tuple[int, str], Any] = {
            (m.program_id, m.platform): m.checked_at
            for m in session.execute(select(ShopWatermark)).scalars()
        }
    ctx = intake.Context(public_url, now)
    applied = 0
    for program in programs:
        config = program_config(program)
        for platform, table in (("shopify", config.shopify), ("woocommerce", config.woocommerce)):
            last = checked.get((program.id, platform))
            if table is None or (last is not None and now - last < EVERY):
                continue
            applied += reconcile_shop(database, shops, program, platform, ctx)
    return applied
