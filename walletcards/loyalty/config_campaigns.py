"""The programme file's ``[[campaigns]]``: time-limited offers, typed once with the file.

Each campaign has a ``code``, a ``name`` (a string or a table by language), a ``kind`` and a
window: ``starts`` and ``ends`` are local dates or date-times in the programme's time zone
("2025-03-08", "2025-11-28T18:00"); a date alone starts at 00:00 and ends after 23:59:59 of
that day. ``every_year = true`` repeats the window yearly and then takes month and day only
("12-31" to "01-02" wraps the new year; "03-08" for one day). What the campaign pays:

- ``multiplier``: ``multiplier = "2"`` — an order paid in the window earns that many times its
  base points (the extra is posted as the campaign's own entry);
- ``bonus``: ``points`` per qualifying order paid in the window;
- ``gift``: ``points`` once to every card of the audience that exists when the window starts
  (a scheduled job, once per card and window);
- ``streak``: ``points`` when ``orders`` counting orders fall within ``within_days`` in the
  window; each order serves one streak.

Optional for every kind: ``tiers`` (codes of the levels it applies to), ``min_order_amount``
(eligible amount an order needs), ``expires_days`` (how long its points stay spendable,
default: ``[expiry]``), ``segment`` (an RFM group, a ``[[segments]]`` code or ``all``;
checked in config.py once the segments are read).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from walletcards.loyalty.config_reader import TableReader
from walletcards.loyalty.config_rules import CODE_RE, ProgramRules
from walletcards.loyalty.names import Names, default_name, name_in, read_names
from walletcards.loyalty.periods import Span
from walletcards.money import MoneyError, to_minor

KINDS = ("multiplier", "bonus", "gift", "streak")
MAX_CAMPAIGNS = 100
MAX_MULTIPLIER = Decimal(100)
YEARS = (2000, 2200)  # far from datetime's ends in every time zone
_ONCE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?$")
_YEARLY = re.compile(r"^(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$")
Kind = Literal["multiplier", "bonus", "gift", "streak"]


@dataclass(frozen=True)
class Window:
    """One occurrence of a campaign: [start, end) in UTC; ``key`` names it (its local start
    date), so what is paid once per occurrence is keyed by it."""

    start: datetime
    end: datetime
    key: str

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def last_day(self, timezone: str) -> date:
        """The last local day of the window (an end at 00:00 belongs to the day before)."""
        return (self.end - timedelta(microseconds=1)).astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class Campaign:
    code: str
    name: str  # in the programme's default language
    kind: Kind
    starts: datetime  # local, naive; the year is ignored when every_year
    ends: datetime  # local, naive: exclusive, or the last day when ``whole_day``
    every_year: bool = False
    whole_day: bool = False  # ``ends`` was a date alone: the window runs through that day
    multiplier: Decimal | None = None
    points: int | None = None
    orders: int | None = None  # streak
    within_days: int | None = None  # streak
    segment: str | None = None
    tiers: frozenset[str] = frozenset()
    min_order_minor: int = 0
    expires: Span | None = None
    names: Names = ()

    def name_in(self, lang: str) -> str:
        return name_in(self.name, self.names, lang)

    def _window(self, year: int, zone: ZoneInfo) -> Window | None:
        extra = timedelta(days=int(self.whole_day))
        if not self.every_year:
            start, end = self.starts, self.ends + extra
        else:
            start = self.starts.replace(year=year)
            end = self.ends.replace(year=year) + extra
            if end <= start:  # 31 Dec - 2 Jan: ends the next year
                end = self.ends.replace(year=year + 1) + extra
        return Window(
            start.replace(tzinfo=zone).astimezone(UTC),
            end.replace(tzinfo=zone).astimezone(UTC),
            start.date().isoformat(),
        )

    def windows_near(self, moment: datetime, timezone: str) -> list[Window]:
        """The occurrences that may hold or precede ``moment`` (one-off: the only one), oldest
        first."""
        zone = ZoneInfo(timezone)
        if not self.every_year:
            found = self._window(0, zone)
            return [found] if found else []
        year = moment.astimezone(zone).year
        found_all = (self._window(y, zone) for y in (year - 1, year, year + 1))
        return [w for w in found_all if w is not None]

    def window_at(self, moment: datetime, timezone: str) -> Window | None:
        """The occurrence running at ``moment``, or None."""
        return next((w for w in self.windows_near(moment, timezone) if w.holds(moment)), None)

    def latest(self, moment: datetime, timezone: str) -> Window | None:
        """The running occurrence, else the last one that started before ``moment``, else the
        next one (a campaign not started yet)."""
        windows = self.windows_near(moment, timezone)
        started = [w for w in windows if w.start <= moment]
        return started[-1] if started else (windows[0] if windows else None)


def plain_dates(value: Any) -> Any:
    """A TOML document with its dates and times as ISO strings (the stored document is JSON):
    ``starts = 2025-03-08`` reads as ``"2025-03-08"``."""
    if isinstance(value, dict):
        return {key: plain_dates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_dates(item) for item in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def read_campaigns(
    data: Any,
    rules: ProgramRules,
    languages: tuple[str, ...],
    locale: str,
    problems: list[tuple[str, str]],
) -> tuple[Campaign, ...]:
    if data is None:
        return ()
    if not isinstance(data, list) or len(data) > MAX_CAMPAIGNS:
        problems.append(("campaigns", f"a list of at most {MAX_CAMPAIGNS} [[campaigns]]"))
        return ()
    found: list[Campaign] = []
    for index, raw in enumerate(data):
        campaign = _campaign(TableReader(raw, f"campaigns[{index}]", problems), rules)
        if campaign is None:
            continue
        where = f"campaigns[{index}]"
        if any(c.code == campaign.code for c in found):
            problems.append((f"{where}.code", f"duplicate campaign code {campaign.code!r}"))
        plain = None if campaign.names else campaign.name
        name = default_name(f"{where}.name", plain, campaign.names, languages, locale, problems)
        found.append(replace(campaign, name=name or campaign.code))
    return tuple(found)


def _campaign(reader: TableReader, rules: ProgramRules) -> Campaign | None:
    problems_before = len(reader.problems)
    code = reader.string("code", required=True, max_length=63) or ""
    if code and not CODE_RE.match(code):
        reader.fail("code", "use lower-case letters, digits and '-' (at most 63)")
    name, names = read_names(reader, "name")
    kind = reader.string("kind", required=True) or ""
    if kind and kind not in KINDS:
        reader.fail("kind", f"must be one of {', '.join(KINDS)}")
    every_year = reader.boolean("every_year", False)
    starts, _ = _moment(reader, "starts", every_year)
    ends, whole_day = _moment(reader, "ends", every_year)
    if starts and ends and not whole_day and ends == starts:
        reader.fail("ends", "must differ from starts")
    elif starts and ends and not every_year and ends + timedelta(days=whole_day) <= starts:
        reader.fail("ends", "must be after starts")
    cap = rules.max_points_per_entry
    multiplier = points = orders = within = None
    if kind == "multiplier":
        multiplier = reader.decimal("multiplier", None, required=True)
        if multiplier is not None and not 1 < multiplier <= MAX_MULTIPLIER:
            reader.fail("multiplier", f'above 1 and at most {MAX_MULTIPLIER}, e.g. "2"')
    elif kind in KINDS:
        points = reader.integer("points", None, low=1, high=cap, required=True)
    if kind == "streak":
        orders = reader.integer("orders", None, low=2, high=100, required=True)
        within = reader.integer("within_days", None, low=1, high=366, required=True)
    segment = reader.string("segment", None, max_length=63)
    if segment and not CODE_RE.match(segment):
        reader.fail("segment", "a segment code: lower-case letters, digits and '-'")
    tiers = reader.strings("tiers")
    known = {level.code for level in rules.tiers.levels} if rules.tiers else set()
    for tier in sorted(tiers - known):
        reader.fail("tiers", f"no tier level {tier!r} in [tiers]")
    minimum = _min_order(reader, rules.currency)
    expires_days = reader.integer("expires_days", None, low=1, high=3650)
    reader.finish()
    if len(reader.problems) > problems_before or not (starts and ends and kind in KINDS):
        return None
    return Campaign(
        code=code,
        name=name or code,
        kind=kind,  # type: ignore[arg-type]
        starts=starts,
        ends=ends,
        every_year=every_year,
        whole_day=whole_day,
        multiplier=multiplier,
        points=points,
        orders=orders,
        within_days=within,
        segment=segment,
        tiers=tiers,
        min_order_minor=minimum,
        expires=None if expires_days is None else Span(days=expires_days),
        names=names,
    )


def _moment(reader: TableReader, key: str, every_year: bool) -> tuple[datetime | None, bool]:
    """A local date-time, and whether it was a date alone (00:00 of that day)."""
    value = reader.string(key, required=True, max_length=40)
    if value is None:
        return None, False
    pattern = _YEARLY if every_year else _ONCE
    hint = '"12-31" or "12-31T18:00"' if every_year else '"2025-03-08" or "2025-03-08T18:00"'
    if not pattern.match(value):
        reader.fail(key, f"a local {'month-day' if every_year else 'date'} such as {hint}")
        return None, False
    text = f"2000-{value}" if every_year else value  # 2000: a leap year, only for checking
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        reader.fail(key, f"{value!r} is not a date")
        return None, False
    if not every_year and not YEARS[0] <= moment.year <= YEARS[1]:
        reader.fail(key, f"a year from {YEARS[0]} to {YEARS[1]}")
        return None, False
    if every_year and (moment.month, moment.day) == (2, 29):
        reader.fail(key, "29 February does not come every year")
        return None, False
    return moment, len(value) in (5, 10)


def _min_order(reader: TableReader, currency: str) -> int:
    amount = reader.decimal("min_order_amount", None)
    if amount is None:
        return 0
    try:
        return to_minor(amount, currency)
    except MoneyError as exc:
        reader.fail("min_order_amount", str(exc))
        return 0
