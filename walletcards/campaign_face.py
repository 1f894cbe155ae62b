"""The card's campaign lines: what the running campaigns give this card, one line each, in the
card's language ("Black Friday: Double points until Nov 30", "Spring: 1 more purchase by
Mar 12"). Gifts have no line (their points are on the card already); a campaign for a
segment shows only to the segment's cards (loyalty/campaigns.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from walletcards.i18n import language
from walletcards.loyalty import campaigns
from walletcards.loyalty.config_campaigns import Campaign
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import program_rules


def campaign_lines(
    session: Session, program: Program, card: Card, lang: str, now: datetime
) -> tuple[str, ...]:
    rules = program_rules(program)
    zone = ZoneInfo(rules.timezone)
    t = language(lang)
    lines = []
    streaks = {p.campaign.code: p for p in campaigns.streak_progress(session, program, card, now)}
    member = campaigns.member_of(session, program, card.id, now)
    for campaign, window in campaigns.running(program, now, card.tier_code, member):
        until = t.day(window.last_day(rules.timezone))
        if campaign.kind == "multiplier" and campaign.multiplier is not None:
            text = (
                t.gettext("Double points until %(day)s", day=until)
                if campaign.multiplier == 2
                else t.gettext(
                    "%(times)s× points until %(day)s",  # noqa: RUF001  (the sign is meant)
                    times=t.number(campaign.multiplier.normalize()),
                    day=until,
                )
            )
        elif campaign.kind == "bonus" and campaign.points is not None:
            text = t.ngettext(
                "+%(num)s point per purchase until %(day)s",
                "+%(num)s points per purchase until %(day)s",
                campaign.points,
                day=until,
            )
        elif campaign.kind == "streak" and campaign.code in streaks:
            progress = streaks[campaign.code]
            text = t.ngettext(
                "%(num)s more purchase by %(day)s",
                "%(num)s more purchases by %(day)s",
                progress.missing,
                day=t.day((progress.by - _TICK).astimezone(zone).date()),
            )
        else:
            continue
        lines.append(_named(campaign, lang, text))
    return tuple(lines)


def _named(campaign: Campaign, lang: str, text: str) -> str:
    return f"{campaign.name_in(lang)}: {text}"


_TICK = datetime.resolution  # a deadline at 00:00 is the day before's last moment
