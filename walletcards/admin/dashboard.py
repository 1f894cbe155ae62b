"""/admin/: the owner's dashboard (managers and admins; the till's login and session cookie),
with a date range and CSV exports of every table on it."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, redirect, render_template, request
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.orm import Session

from walletcards import web
from walletcards.admin.charts import bar_chart, line_chart, sparkline
from walletcards.admin.dashboard_segments import (
    MEMBER_COLUMNS,
    SEGMENT_CODE,
    campaign_rows,
    member_rows,
    rfm_grid,
    segment_sizes,
)
from walletcards.admin.inputs import check_request
from walletcards.admin.metrics import Dashboard, Point, TierCount, TopCustomer, dashboard
from walletcards.admin.period import PeriodError, parse_period
from walletcards.admin.referral_figures import referral_figures
from walletcards.errors import ApiError
from walletcards.loyalty import segments
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_rules
from walletcards.money import from_minor
from walletcards.page_texts import staff_texts
from walletcards.readiness import certificate_check
from walletcards.staff import sessions as staff_session
from walletcards.staff import signin as staff_signin

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.context_processor(staff_signin.sign_in_context)  # the shared sign-in form's programmes


@bp.before_request
def _check_input() -> None:
    """Hostile input is refused before any view runs; the sign-in form answers it with its own
    400 page (cashier/signin.py), as the till's does."""
    if request.endpoint != "admin.login":
        check_request()


TABLES: dict[str, type] = {"series": Point, "tiers": TierCount, "top_customers": TopCustomer}


def _page(template_status: int = 200, **values: Any) -> Response:
    values = {"d": None, "pct": percent, **staff_texts(values.get("program")), **values}
    html = render_template("admin.html", csrf=staff_session.csrf_token(), **values)
    return Response(
        html, status=template_status, mimetype="text/html", headers={"Cache-Control": "no-store"}
    )


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f} %"


def money_text(minor: int, currency: str) -> str:
    """Minor units in the programme's currency, its own decimals: 123456 USD -> "1,234.56 USD",
    1234 JPY -> "1,234 JPY", 1234 KWD -> "1.234 KWD"."""
    return f"{from_minor(minor, currency):,} {currency}"


def _numbers(session: Session, program: Program, now: datetime) -> Dashboard:
    period = parse_period(
        request.args.get("from"), request.args.get("to"), program_rules(program).timezone, now
    )
    return dashboard(session, program, period, now)


@bp.get("/")
def page() -> Response:
    """Sign-in form, 403 for cashiers, or the dashboard: one transaction for all of its
    numbers."""
    now = web.clock().now()
    with web.database().transaction() as session:
        signed_in = staff_session.signed_in(session, now)
        if signed_in is not None:
            staff, program = signed_in
            if not staff.is_manager:
                return _page(403, staff=staff, program=program, forbidden=True)
            try:
                numbers = _numbers(session, program, now)
                panels = _panels(session, program, numbers, now)
            except PeriodError as exc:
                # the form keeps what was typed (the browser drops what is not a date) and
                # the quick ranges, next to the error
                return _page(
                    400,
                    staff=staff,
                    program=program,
                    bad_range=str(exc),
                    typed={key: request.args.get(key, "")[:10] for key in ("from", "to")},
                    presets=_presets(program, now),
                )
    if signed_in is None:
        # After the transaction: the sign-in form reads the programme list in one of its own,
        # which on SQLite (BEGIN IMMEDIATE) would wait for this one to end.
        return _page(
            slug=staff_signin.echoed_slug(request.args.get("program")),
            error=request.args.get("error"),
        )
    series = numbers.series
    labels = [p.label for p in series]
    return _page(
        staff=staff,
        program=program,
        d=numbers,
        certificate=certificate_check(program, now),  # the banner when it needs attention
        presets=_presets(program, now),
        money=lambda minor: money_text(minor, program.currency),
        members_chart=line_chart("Members", labels, [("Members", [p.members for p in series])]),
        points_chart=line_chart(
            "Points issued and spent",
            labels,
            [("Issued", [p.issued for p in series]), ("Spent", [p.spent for p in series])],
        ),
        orders_chart=line_chart(
            "Members' orders",
            labels,
            [
                ("Orders", [p.orders for p in series]),
                ("Repeat orders", [p.repeat_orders for p in series]),
            ],
        ),
        tiers_chart=bar_chart("Members per tier", [(t.name, t.members) for t in numbers.tiers]),
        spark=sparkline,
        **panels,
    )


def _panels(
    session: Session, program: Program, numbers: Dashboard, now: datetime
) -> dict[str, Any]:
    """The segments and campaigns panels (admin/dashboard_segments.py), names in the page's
    language."""
    lang = staff_texts(program)["lang"]
    first, last = numbers.period.first, numbers.period.last
    return {
        "rfm": rfm_grid(session, program),
        "sizes": segment_sizes(session, program, first, last, lang),
        "campaigns": campaign_rows(session, program, now, lang),
        "referrals": referral_figures(session, program, numbers.period),
    }


def _presets(program: Program, now: datetime) -> list[tuple[str, str]]:
    """Quick ranges next to the date picker: (label, query string), ending today (local)."""
    today = now.astimezone(ZoneInfo(program_rules(program).timezone)).date()
    spans = (("7 days", 7), ("30 days", 30), ("90 days", 90), ("12 months", 365))
    return [(label, f"from={today - timedelta(days=days - 1)}&to={today}") for label, days in spans]


@bp.post("/login")
def login() -> Response:
    return staff_signin.sign_in("admin", _page)


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(_exc: RateLimitExceeded) -> Response:
    return staff_signin.too_many(_page)


@bp.post("/logout")
def logout() -> Response:
    if staff_session.csrf_ok(request.form.get("csrf_token")):
        staff_signin.sign_out()
    return redirect("/admin/", code=303)  # type: ignore[return-value]


@bp.get("/export.csv")
def export() -> Response:
    """One table of the dashboard as CSV, for the same range (``table``: series, tiers or
    top_customers)."""
    table = request.args.get("table", "series")
    now = web.clock().now()
    with web.database().transaction() as session:
        program = _manager(session, now)
        if table not in TABLES:
            raise ApiError(422, "invalid_table", f"table: one of {', '.join(TABLES)}")
        try:
            numbers = _numbers(session, program, now)
        except PeriodError as exc:
            raise ApiError(422, "invalid_range", str(exc)) from exc
    columns, rows = _table(numbers, table, program.currency)
    name = f"{program.slug}-{table}-{numbers.period.first}-{numbers.period.last}.csv"
    return _csv(name, columns, rows)


@bp.get("/segments/<code>/members.csv")
def segment_export(code: str) -> Response:
    """A segment's members, the owner's API's CSV (segments_api.py) with the page's session:
    a link on the page cannot send the API's bearer token or X-CSRF-Token header."""
    now = web.clock().now()
    with web.database().transaction() as session:
        program = _manager(session, now)
        if not SEGMENT_CODE.fullmatch(code):
            raise ApiError(404, "unknown_segment", "no such segment")
        try:
            rows = member_rows(session, program, code, now)
        except segments.UnknownSegment:
            raise ApiError(404, "unknown_segment", f"no segment {code!r}") from None
    found = (dict(zip(MEMBER_COLUMNS, row, strict=True)) for row in rows)
    return _csv(f"{program.slug}-{code}.csv", MEMBER_COLUMNS, found)


def _manager(session: Session, now: datetime) -> Program:
    """The programme of the signed-in manager (401 signed out, 403 a cashier)."""
    signed_in = staff_session.signed_in(session, now)
    if signed_in is None:
        raise ApiError(401, "unauthorized", "sign in at /admin/ first")
    staff, program = signed_in
    web.require_manager(staff)
    return program


def _csv(name: str, columns: list[str], rows: Iterable[dict[str, Any]]) -> Response:
    return Response(
        csv_text(columns, rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _table(numbers: Dashboard, table: str, currency: str) -> tuple[list[str], list[dict[str, Any]]]:
    """A table's columns and rows as the page shows them: tiers by name (the programme's
    spelling, not the code), money as a decimal amount beside its minor units."""
    columns = [f.name for f in dataclasses.fields(TABLES[table])]
    rows = [dataclasses.asdict(item) for item in getattr(numbers, table)]
    if table == "top_customers":
        columns.insert(columns.index("spend_minor") + 1, "spend")
        columns.insert(columns.index("spend") + 1, "currency")
        for row in rows:
            row["spend"] = from_minor(row["spend_minor"], currency)
            row["currency"] = currency
            row["tier"] = numbers.tier_name(row["tier"])
        rows = [{key: row[key] for key in columns} for row in rows]
    return columns, rows


def csv_text(columns: list[str], rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: defused(value) for key, value in row.items()})
    return out.getvalue()


# A formula trigger at the start of a cell or of a part after a separator, past any blanks:
# spreadsheets run such cells (OWASP "CSV injection"), some trim blanks first, and one opened
# with another separator (Excel in a ";" locale) splits our quoted "a;=cmd" into two cells.
FORMULA = re.compile(r"(^|[;,])(\s*[=+\-@\t\r])")


def defused(value: Any) -> Any:
    """Text (customer names are shop input) gets an apostrophe before each formula start,
    which makes the spreadsheet show it as text. Numbers stay numbers, negative ones too:
    a cell the csv module writes from an int is only digits and a sign, never a formula."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    return FORMULA.sub(lambda m: f"{m.group(1)}'{m.group(2)}", str(value))
