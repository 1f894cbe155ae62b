"""The dashboard warns the owner 30 days before the programme's Pass Type ID certificate
expires (the first cause of passes that stop updating)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.admin.test_metrics import login
from tests.kit.database import T0
from tests.kit.programs import MakeProgram
from tests.kit.staff import make_staff
from tests.test_health import apple_table_until
from walletcards.db import Database


@pytest.mark.parametrize(("days", "banner"), [(12, True), (90, False)])
def test_the_dashboard_shows_a_banner_when_the_certificate_expires_within_30_days(
    client: FlaskClient,
    database: Database,
    make_program: MakeProgram,
    tmp_path: Path,
    days: int,
    banner: bool,
) -> None:
    make_program(apple=apple_table_until(tmp_path, T0 + timedelta(days=days)))
    make_staff(database, "boss@example.com", "manager")
    assert login(client, "boss@example.com").headers["Location"] == "/admin/"
    html = client.get("/admin/").get_data(as_text=True)
    expiry = (T0 + timedelta(days=days)).date().isoformat()
    shown = f'id="certificate-notice">Apple Wallet: the pass certificate expires on {expiry}'
    assert (shown in html) is banner
    assert 'id="kpi-members"' in html  # the dashboard itself is still there
