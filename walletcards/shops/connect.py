"""The webhook subscriptions a programme needs in its shop, and how the shop's compare:
``walletcards shop connect`` creates what is missing, ``walletcards shop check`` reports.

Shopify: orders/paid, orders/cancelled, refunds/create to ``/webhooks/<slug>/shopify``
(Shopify signs with the app's secret: ``[webhooks] shopify_secret`` is that secret).
WooCommerce: the topics our adapter applies (order.created, order.updated) to
``/webhooks/<slug>/woocommerce``, signed with ``[webhooks] woocommerce_secret``.
Subscriptions already there are kept: connecting twice creates nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from walletcards.orders.woocommerce import TOPICS as WOOCOMMERCE_TOPICS
from walletcards.shops.admin import ShopAdmin, Subscription

TOPICS = {
    "shopify": ("orders/paid", "orders/cancelled", "refunds/create"),
    "woocommerce": WOOCOMMERCE_TOPICS,
}


def webhook_url(public_url: str, slug: str, platform: str) -> str:
    return f"{public_url.rstrip('/')}/webhooks/{slug}/{platform}"


@dataclass
class Report:
    """Per topic we need: ``ours`` (delivered to our URL), ``missing`` (not to our URL),
    ``elsewhere``: subscriptions of those topics to another URL (topic, url)."""

    url: str
    ours: list[Subscription] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    elsewhere: list[Subscription] = field(default_factory=list)


def compare(existing: list[Subscription], platform: str, url: str) -> Report:
    report = Report(url)
    for topic in TOPICS[platform]:
        same = [s for s in existing if s.topic == topic]
        mine = [s for s in same if s.url == url]
        report.ours.extend(mine)
        report.elsewhere.extend(s for s in same if s.url != url)
        if not mine:
            report.missing.append(topic)
    return report


def check(admin: ShopAdmin, platform: str, url: str) -> Report:
    return compare(admin.list_webhooks(), platform, url)


def connect(admin: ShopAdmin, platform: str, url: str, secret: str | None) -> list[Subscription]:
    """Create the subscriptions missing (network I/O: no transaction open); returns them."""
    report = check(admin, platform, url)
    return [admin.create_webhook(topic, url, secret) for topic in report.missing]
