"""The dashboard's referral counts over its date range (``[referral]``, docs/referrals.md):
referrals made (friends recorded against a member's code), and of those settled in the range
how many were paid, and how many refused — a self-referral (the same card, email, phone or
shop customer), over the referrer's ``max_per_month``, or the friend's first order refunded or
cancelled inside the hold. Still pending: made in the range and not settled yet."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from walletcards.admin.period import Period
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_config
from walletcards.loyalty.referral_models import Referral

SELF = "self-referral%"  # referrals.py's reasons for a refused self-referral


@dataclass(frozen=True)
class ReferralFigures:
    made: int  # recorded in the range
    pending: int  # of those, not settled yet
    paid: int  # settled in the range: the referrer was credited
    self_referral: int  # refused in the range: the referrer's own card, email, phone, customer
    capped: int  # refused in the range: over max_per_month
    voided: int  # cancelled in the range: the friend's first order refunded or cancelled


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def referral_figures(session: Session, program: Program, period: Period) -> ReferralFigures | None:
    """The range's counts, in one query over the programme's referrals; None when the
    programme has no ``[referral]`` table."""
    if program_config(program).referral is None:
        return None
    start, end = period.start, period.end
    made = and_(Referral.created_at >= start, Referral.created_at < end)
    settled = and_(Referral.settled_at >= start, Referral.settled_at < end)
    cancelled = Referral.status == "cancelled"
    row = session.execute(
        select(
            _count(made),
            _count(and_(made, Referral.status == "pending")),
            _count(and_(settled, Referral.status == "paid")),
            _count(and_(settled, cancelled, Referral.reason.like(SELF))),
            _count(and_(settled, Referral.status == "capped")),
            _count(and_(settled, cancelled, ~Referral.reason.like(SELF))),
        ).where(Referral.program_id == program.id)
    ).one()
    return ReferralFigures(*(int(value) for value in row))
