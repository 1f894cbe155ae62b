"""The owner's segments under /api/v1/programs/<slug>/segments (managers): every segment with
its size, its recorded daily sizes, and a segment's members as CSV (member number, name,
email, phone, tier, balance; erased customers are never in a segment)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, request

from walletcards import web
from walletcards.admin.dashboard import csv_text
from walletcards.admin.dashboard_segments import MEMBER_COLUMNS, SEGMENT_CODE, member_rows
from walletcards.admin.inputs import check_request
from walletcards.errors import ApiError
from walletcards.i18n import LANGUAGES
from walletcards.loyalty import segments
from walletcards.loyalty.programs import program_config, program_rules

bp = Blueprint("segments_api", __name__, url_prefix="/api/v1/programs/<slug>/segments")
bp.before_request(check_request)

MAX_DAYS = 366


@bp.get("")
def index(slug: str) -> tuple[Response, int]:
    """``?lang=`` names the segments in that language; ``?days=`` (1 to 366, default 30) of
    daily sizes in ``history``."""
    lang = request.args.get("lang", "")
    raw_days = request.args.get("days", "30")
    if not raw_days.isdigit() or not 1 <= int(raw_days) <= MAX_DAYS:
        raise ApiError(400, "invalid_days", f"days: a whole number from 1 to {MAX_DAYS}")
    with web.database().transaction() as session:
        staff, program = web.staff_member(session)
        web.require_own_manager(staff, program, slug)
        now = web.clock().now()
        config = program_config(program)
        found = segments.segments(
            session, program, now, lang if lang in LANGUAGES else config.locale
        )
        today = now.astimezone(ZoneInfo(program_rules(program).timezone)).date()
        history = segments.size_history(session, program, today - timedelta(days=int(raw_days)))
        return jsonify(
            {
                "segments": [
                    {
                        "code": s.code,
                        "kind": s.kind,
                        "name": s.name,
                        "size": s.size,
                        "history": [
                            {"day": day.isoformat(), "size": size}
                            for day, size in history.get(s.code, [])
                        ],
                    }
                    for s in found
                ]
            }
        ), 200


@bp.get("/<code>/members.csv")
def members_csv(slug: str, code: str) -> Response:
    if not SEGMENT_CODE.fullmatch(code):
        raise ApiError(404, "unknown_segment", "no such segment")
    database = web.database()
    with database.transaction() as session:
        staff, program = web.staff_member(session)
        web.require_own_manager(staff, program, slug)
        try:
            rows = member_rows(session, program, code, web.clock().now())
        except segments.UnknownSegment:
            raise ApiError(404, "unknown_segment", f"no segment {code!r}") from None
    columns = MEMBER_COLUMNS
    return Response(
        csv_text(columns, (dict(zip(columns, row, strict=True)) for row in rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{slug}-{code}.csv"'},
    )
