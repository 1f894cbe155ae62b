"""What the card says, in English, Russian and Chinese (plural rules included)."""

from __future__ import annotations

from datetime import date

LOCALES = ("en", "ru", "zh")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "label.points": "Points",
        "label.pending": "Pending",
        "label.tier": "Level",
        "label.member": "Member no.",
        "label.reward": "Next reward",
        "label.expiring": "Expiring",
        "label.next_tier": "Next level",
        "label.card_page": "Your card online",
        "label.value": "Worth",
        "change.points": "You now have %@ points",
        "change.tier": "Your level is now %@",
        "change.expiring": "%@",
        "none": "—",
        "top_tier": "Top level reached",
    },
    "ru": {
        "label.points": "Баллы",
        "label.pending": "Ожидают",
        "label.tier": "Уровень",
        "label.member": "Номер карты",
        "label.reward": "Подарок",
        "label.expiring": "Сгорают",
        "label.next_tier": "Следующий уровень",
        "label.card_page": "Карта онлайн",
        "label.value": "На сумму",
        "change.points": "Теперь у вас %@ баллов",
        "change.tier": "Ваш уровень: %@",
        "change.expiring": "%@",
        "none": "—",
        "top_tier": "Высший уровень",
    },
    "zh": {
        "label.points": "积分",
        "label.pending": "待生效",
        "label.tier": "等级",
        "label.member": "会员号",
        "label.reward": "下一份奖励",
        "label.expiring": "即将过期",
        "label.next_tier": "下一等级",
        "label.card_page": "在线会员卡",
        "label.value": "价值",
        "change.points": "您现在有%@积分",
        "change.tier": "您的等级已变为%@",
        "change.expiring": "%@",
        "none": "—",
        "top_tier": "已达最高等级",
    },
}

_RU_MONTHS = "янв фев мар апр мая июн июл авг сен окт ноя дек".split()  # noqa: SIM905
_EN_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()  # noqa: SIM905


def locale_of(value: str | None, default: str) -> str:
    code = (value or "")[:2].lower()
    return code if code in LOCALES else default


def plural(locale: str, n: int, forms: tuple[str, str, str]) -> str:
    """(one, few, many): Russian needs three forms, English two (few = many)."""
    if locale != "ru":
        return forms[0] if n == 1 else forms[2]
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def day(locale: str, value: date) -> str:
    if locale == "ru":
        return f"{value.day} {_RU_MONTHS[value.month - 1]}"
    if locale == "zh":
        return f"{value.month}月{value.day}日"
    return f"{value.day} {_EN_MONTHS[value.month - 1]}"


def orders_word(locale: str, n: int) -> str:
    return {
        "en": plural("en", n, ("order", "orders", "orders")),
        "ru": plural("ru", n, ("заказ", "заказа", "заказов")),
        "zh": "单",
    }[locale]


def points_word(locale: str, n: int) -> str:
    return {
        "en": plural("en", n, ("point", "points", "points")),
        "ru": plural("ru", n, ("балл", "балла", "баллов")),
        "zh": "积分",
    }[locale]


def orders_to_reward(locale: str, n: int) -> str:
    if locale == "ru":
        return f"Ещё {n} {orders_word(locale, n)} до подарка"
    if locale == "zh":
        return f"再购买{n}单获得奖励"
    return f"{n} more {orders_word(locale, n)} to your reward"


def to_next_tier(locale: str, missing: str, tier: str) -> str:
    if locale == "ru":
        return f"Ещё {missing} до уровня «{tier}»"
    if locale == "zh":
        return f"再{missing}升级至{tier}"
    return f"{missing} more to {tier}"


def orders_count(locale: str, n: int) -> str:
    return f"{n}{orders_word(locale, n)}" if locale == "zh" else f"{n} {orders_word(locale, n)}"


def expiring(locale: str, points: int, on: date) -> str:
    if locale == "ru":
        return f"{points} {points_word(locale, points)} сгорят {day(locale, on)}"
    if locale == "zh":
        return f"{points}积分将于{day(locale, on)}过期"
    return f"{points} {points_word(locale, points)} expire on {day(locale, on)}"


def points_worth(locale: str, points: int, money: str) -> str:
    """ "650 points = $6.50": what a balance is worth (``money`` already formatted)."""
    if locale == "zh":
        return f"{points}积分 = {money}"
    return f"{points} {points_word(locale, points)} = {money}"
