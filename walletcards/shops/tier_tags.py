"""The tier a shop's customer carries, queued in the transaction that changes it.

``outbound/outbox.py`` ``tier_changed`` calls :func:`queue_tier_tag` for every tier change;
when the programme has a shop admin table (``[shopify]`` or ``[woocommerce]``) and walletcards
knows the customer by that shop's own id (``Customer.external_id`` =
``<platform>:<shop>:customer:<id>``, orders/identity.py), the card's one
:class:`~walletcards.shops.models.ShopTierTag` row is set to the new tier (``revision`` + 1,
pending now). The jobs send it (shops/tier_jobs.py). A customer the shop does not know (a till
customer, another shop's) gets no row. Light on imports: the outbox imports this module.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.loyalty.models import Card, Customer, Program
from walletcards.loyalty.programs import program_config
from walletcards.orders.identity import customer_external_id, order_source
from walletcards.orders.woocommerce import site_url
from walletcards.shops.models import ShopTierTag

TAG_PREFIX = "loyalty-tier:"  # Shopify: the customer's tag is "loyalty-tier:<tier code>"


def shop_customer(program: Program, external_id: str | None) -> tuple[str, str] | None:
    """(platform, the shop's customer id) when the programme has that shop's admin table and
    ``external_id`` is a customer of that very shop; None otherwise."""
    if not external_id:
        return None
    config = program_config(program)
    tables = (("shopify", config.shopify), ("woocommerce", config.woocommerce))
    for platform, table in tables:
        if table is None:
            continue
        shop = config.webhooks.source(platform).shop
        if shop is None and config.woocommerce is not None and platform == "woocommerce":
            shop = site_url(config.woocommerce.site_url)
        prefix = customer_external_id(order_source(platform, shop or ""), "")
        found = external_id.removeprefix(prefix)
        if found != external_id and found:
            return platform, found
    return None


def queue_tier_tag(
    session: Session, program: Program, card: Card, before: str | None, now: datetime
) -> ShopTierTag | None:
    """Set the card's shop tag to its tier now (``card.tier_code``); None when there is no
    shop customer to tag. Called under the card's lock, so one writer per card."""
    customer = session.get(Customer, card.customer_id)
    found = shop_customer(program, customer.external_id if customer else None)
    if found is None:
        return None
    platform, ref = found
    row = session.execute(
        select(ShopTierTag).where(ShopTierTag.card_id == card.id)
    ).scalar_one_or_none()
    if row is None:
        row = ShopTierTag(program_id=program.id, card_id=card.id, revision=0, status="new")
        session.add(row)
    # the tier the shop may still hold: while a change is unsent, the one before that change
    previous = (row.previous_code or before) if row.status == "pending" else before
    row.platform, row.customer_ref = platform, ref
    row.tier_code, row.previous_code = card.tier_code, previous
    row.revision += 1
    row.status, row.attempts, row.last_error = "pending", 0, None
    row.next_attempt_at, row.changed_at, row.done_at = now, now, None
    return row


def shop_tags(platform: str, tier: str | None, others: set[str]) -> tuple[list[str], list[str]]:
    """(add, remove) as the platform spells them: Shopify tags ``loyalty-tier:<code>``; the
    WooCommerce meta holds the bare code. ``others``: tier codes the customer must not carry."""
    prefix = TAG_PREFIX if platform == "shopify" else ""
    add = [prefix + tier] if tier else []
    remove = sorted(prefix + code for code in others - {tier} if code)
    return add, remove
