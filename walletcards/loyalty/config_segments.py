"""``[[segments]]``: the owner's rule segments, beside the standard RFM groups.

A rule segment is every card matching all the conditions it names (none named: everyone):
``last_order_before_days`` (no paid order in that many days, or none ever), ``tiers``,
``min_spend`` (decimal, the money paid net of refunds, ever), ``birthday_month`` (1-12),
``joined_within_days``, ``marketing_consent`` (true/false). Its code must not be one of the
RFM groups' (loyalty/segments.py RFM_GROUPS); segments are the audience of campaigns and messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from walletcards.loyalty.config_reader import TableReader
from walletcards.loyalty.config_rules import CODE_RE
from walletcards.loyalty.names import Names, read_names
from walletcards.money import MoneyError, to_minor

Problems = list[tuple[str, str]]
MAX_SEGMENTS = 50
RFM_GROUPS = (
    "champions",
    "loyal",
    "potential_loyalists",
    "new",
    "promising",
    "need_attention",
    "at_risk",
    "cant_lose",
    "hibernating",
    "lost",
)


@dataclass(frozen=True)
class SegmentRule:
    code: str
    name: str  # in the programme's default language (the code when the file gives none)
    names: Names = ()
    last_order_before_days: int | None = None
    tiers: frozenset[str] = frozenset()
    min_spend_minor: int | None = None
    birthday_month: int | None = None
    joined_within_days: int | None = None
    marketing_consent: bool | None = None


def read_segments(data: Any, currency: str, problems: Problems) -> tuple[SegmentRule, ...]:
    if data is None:
        return ()
    if not isinstance(data, list) or len(data) > MAX_SEGMENTS:
        problems.append(("segments", f"a list of at most {MAX_SEGMENTS} [[segments]] tables"))
        return ()
    segments: list[SegmentRule] = []
    for index, table in enumerate(data):
        reader = TableReader(table, f"segments[{index}]", problems)
        code = reader.string("code", required=True, max_length=63) or ""
        if code and not CODE_RE.match(code):
            reader.fail("code", "use lower-case letters, digits and '-' (at most 63)")
        elif code in RFM_GROUPS:
            reader.fail("code", f"{code!r} is an RFM group's code; choose another")
        elif code in {s.code for s in segments}:
            reader.fail("code", f"{code!r} is used by another segment")
        plain, names = read_names(reader, "name") if "name" in reader.data else (code, ())
        spend = reader.string("min_spend", None, max_length=40)
        spend_minor = None
        if spend is not None:
            try:
                spend_minor = to_minor(spend, currency)
            except MoneyError:
                reader.fail("min_spend", f'a decimal amount in {currency}, e.g. "100.00"')
        consent = reader.raw("marketing_consent")
        if consent is not None and not isinstance(consent, bool):
            reader.fail("marketing_consent", "must be true or false")
            consent = None
        rule = SegmentRule(
            code=code,
            name=plain or (names[0][1] if names else code),
            names=names,
            last_order_before_days=reader.integer("last_order_before_days", None, low=1, high=3650),
            tiers=reader.strings("tiers"),
            min_spend_minor=spend_minor,
            birthday_month=reader.integer("birthday_month", None, low=1, high=12),
            joined_within_days=reader.integer("joined_within_days", None, low=1, high=3650),
            marketing_consent=consent,
        )
        reader.finish()
        segments.append(rule)
    return tuple(segments)
