"""What the card says, as gettext messages: English is written here, the other languages live in
``walletcards/translations`` (docs/translations.md). Counts take the language's CLDR plural
form ("1 балл", "2 балла", "5 баллов", "21 балл"); numbers, money and dates its CLDR format."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.numbers import format_percent

from walletcards.i18n import LANGUAGES, choose, language

# The field labels' keys: what pass.strings maps, what Google headers and the card page show.
LABEL_KEYS = (
    "label.points",
    "label.pending",
    "label.tier",
    "label.member",
    "label.reward",
    "label.expiring",
    "label.next_tier",
    "label.card_page",
    "label.value",
    "label.codes",
    "label.campaigns",
    "label.referral",
    "label.how_to_earn",
    "label.terms",
    "label.contact",
    "label.website",
)
NONE = "—"  # an empty value, the same in every language


def labels(lang: str) -> dict[str, str]:
    t = language(lang)
    return {
        "label.points": t.gettext("Points"),
        "label.pending": t.gettext("Pending"),
        "label.tier": t.gettext("Level"),
        "label.member": t.gettext("Member no."),
        "label.reward": t.gettext("Next reward"),
        "label.expiring": t.gettext("Expiring"),
        "label.next_tier": t.gettext("Next level"),
        "label.card_page": t.gettext("Your card online"),
        # what the balance is worth in money ([redemption] point_value)
        "label.value": t.gettext("Worth"),
        # the open online-redemption codes (the pass's back, the Google object)
        "label.codes": t.gettext("Discount codes"),
        # the running campaigns ("Double points until Mar 8")
        "label.campaigns": t.gettext("Offers"),
        # the member's referral link, /r/<code> (docs/referrals.md)
        "label.referral": t.gettext("Invite a friend"),
        # the owner's latest message to the card (walletcards/messages/) and its link
        "label.message": t.gettext("News"),
        "label.message_link": t.gettext("More"),
        # the programme's own texts ([card] in the programme file: config_card.py)
        "label.how_to_earn": t.gettext("How to earn points"),
        "label.terms": t.gettext("Terms"),
        "label.contact": t.gettext("Contact"),
        "label.website": t.gettext("Website"),
    }


def language_of(wanted: str | None, offered: tuple[str, ...], default: str) -> str:
    return choose(wanted, offered or LANGUAGES, default)


def points(lang: str, n: int) -> str:
    """A balance: "1 point", "21 балл", "5积分"."""
    return language(lang).ngettext("%(num)s point", "%(num)s points", n)


def money(lang: str, amount: Decimal, currency: str) -> str:
    return language(lang).money(amount, currency)


def open_code(lang: str, code: str, amount: str, until: date) -> str:
    """An open redemption code on the card: "DEMO-7KQ2M9XH4T: $5.00 until Apr 14"."""
    t = language(lang)
    return t.gettext(
        "%(code)s: %(amount)s until %(day)s", code=code, amount=amount, day=t.day(until)
    )


def tier_discount(lang: str, percent: Decimal) -> str:
    """A tier's price discount, "10% off": the percentage in the language's CLDR format
    ("10 %" in Russian, with NBSP), its decimals kept ("7.5%")."""
    t = language(lang)
    number = format_percent(percent / 100, locale=t.locale, decimal_quantization=False)
    # the card's tier and its discount side by side ("Gold · 10% off")
    return t.gettext("%(percent)s off", percent=number)


def tier_with_discount(tier: str, discount: str) -> str:
    return f"{tier} · {discount}"


def points_worth(lang: str, n: int, amount: str) -> str:
    """What a balance of ``n`` points is worth: "650 points = $6.50" (``amount`` already
    formatted as money in ``lang``, see ``money``)."""
    return language(lang).ngettext(
        "%(num)s point = %(amount)s", "%(num)s points = %(amount)s", n, amount=amount
    )


def day(lang: str, value: date) -> str:
    return language(lang).day(value)


def keep_tier_orders(lang: str, n: int, by: date, tier: str) -> str:
    """What keeps a re-qualifying tier: ``n`` more purchases before ``by``."""
    t = language(lang)
    return t.ngettext(
        "Buy %(num)s more time by %(date)s to keep %(tier)s",
        "Buy %(num)s more times by %(date)s to keep %(tier)s",
        n,
        date=t.day(by),
        tier=tier,
    )


def keep_tier_spend(lang: str, amount: str, by: date, tier: str) -> str:
    """What keeps a windowed spend tier: ``amount`` (formatted money) more before ``by``."""
    t = language(lang)
    return t.gettext(
        "Spend %(amount)s more by %(date)s to keep %(tier)s",
        amount=amount,
        date=t.day(by),
        tier=tier,
    )


def orders_to_reward(lang: str, n: int) -> str:
    return language(lang).ngettext(
        "%(num)s more order to your reward", "%(num)s more orders to your reward", n
    )


def orders_to_tier(lang: str, n: int, tier: str) -> str:
    return language(lang).ngettext(
        "%(num)s more order to %(tier)s", "%(num)s more orders to %(tier)s", n, tier=tier
    )


def spend_to_tier(lang: str, amount: str, tier: str) -> str:
    """``amount`` already formatted as money in ``lang`` (see ``money``)."""
    return language(lang).gettext("%(amount)s more to %(tier)s", amount=amount, tier=tier)


def expiring(lang: str, n: int, on: date) -> str:
    t = language(lang)
    return t.ngettext(
        "%(num)s point expires on %(date)s",
        "%(num)s points expire on %(date)s",
        n,
        date=t.day(on),
    )


def change_points(lang: str, n: int) -> str:
    """The lock-screen notice of a new balance ``n``; Wallet puts the value at ``%@``. Written
    per pass, so the plural form fits ``n`` (a strings file cannot choose one)."""
    return language(lang).ngettext(
        "You now have %(value)s point", "You now have %(value)s points", n, value="%@"
    )


def change_tier(lang: str) -> str:
    return language(lang).gettext("Your level is now %(value)s", value="%@")


def pass_description(lang: str, program: str) -> str:
    """pass.json ``description`` (what VoiceOver reads and Wallet lists)."""
    return language(lang).gettext("%(program)s loyalty card", program=program)


def logo_description(lang: str, program: str) -> str:
    return language(lang).gettext("%(program)s logo", program=program)


def pending_from(lang: str, n: int, on: date, *, all_pending: bool) -> str:
    """When held points become spendable: "482 points available from Dec 15" when nothing is
    spendable yet, else "+120 pending from Dec 15" (``on``: the earliest hold's end)."""
    t = language(lang)
    if all_pending:
        return t.ngettext(
            "%(num)s point available from %(date)s",
            "%(num)s points available from %(date)s",
            n,
            date=t.day(on),
        )
    return t.ngettext(
        "+%(num)s point pending from %(date)s",
        "+%(num)s points pending from %(date)s",
        n,
        date=t.day(on),
    )
