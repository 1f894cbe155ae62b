"""Public URLs of a card, all under WALLETCARDS_PUBLIC_URL (pinned in docs/architecture.md)."""

from __future__ import annotations


def card_links(public_url: str, public_token: str, google: bool) -> dict[str, str | None]:
    page = f"{public_url}/c/{public_token}"
    return {
        "url": page,
        "apple": f"{page}/card.pkpass",
        "google": f"{page}/google" if google else None,
    }


def referral_url(card_url: str, code: str) -> str:
    """A card's referral link, ``<PUBLIC_URL>/r/<code>``, next to its page ``…/c/<token>``."""
    return f"{card_url.rsplit('/c/', 1)[0]}/r/{code}"
