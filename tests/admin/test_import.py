from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from walletcards.cli import main
from walletcards.db import Database
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Program
from walletcards.loyalty.verify import verify

HEADER = "external_id,email,phone,name,birthday,points,note\n"


def run(database: Database, *args: str) -> tuple[int, str]:
    """`walletcards import customers ARGS --program demo` (ids from our own signed orders unless
    the call names another --source)."""
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    source = [] if "--source" in args else ["--source", "orders"]
    command = ["import", "customers", *args, *source, "--program", "demo"]
    result = CliRunner().invoke(main, command, env=env)
    return result.exit_code, result.output


def counts(database: Database) -> tuple[int, int, int, int]:
    with database.transaction() as session:

        def n(model: object) -> int:
            return session.execute(select(func.count()).select_from(model)).scalar_one()  # type: ignore[arg-type]

        points = session.execute(select(func.coalesce(func.sum(Card.available), 0))).scalar_one()
        return n(Customer), n(Card), n(LedgerEntry), points


def csv_file(tmp_path: Path, body: str, header: str = HEADER) -> str:
    path = tmp_path / "customers.csv"
    path.write_text(header + body)
    return str(path)


GOOD = (
    "crm-1,ann@example.com,+100,Ann,1990-03-05,1200,old discount 10%\n"
    "crm-2,bob@example.com,,Bob,,300,\n"
    ",carl@example.com,,Carl,,0,no points yet\n"
)


def test_dry_run_reports_and_writes_nothing(
    database: Database, program: Program, tmp_path: Path
) -> None:
    code, output = run(database, csv_file(tmp_path, GOOD), "--dry-run")
    assert code == 0, output
    assert "3 to import (1500 points)" in output and "largest: row 2: 1200 points" in output
    assert "dry run: nothing written" in output
    assert counts(database) == (0, 0, 0, 0)


def test_import_then_rerun_is_a_no_op(database: Database, program: Program, tmp_path: Path) -> None:
    path = csv_file(tmp_path, GOOD)
    code, output = run(database, path)
    assert code == 0, output and "imported 3 customers (1500 points)" in output
    assert counts(database) == (3, 3, 3, 1500)
    code, output = run(database, path)
    assert code == 0 and "imported 0 customers" in output and "3 already imported" in output
    assert counts(database) == (3, 3, 3, 1500)
    with database.transaction() as session:
        assert verify(session) == []
        entry = session.execute(select(LedgerEntry).where(LedgerEntry.points == 1200)).scalar_one()
        assert entry.cause == "import:old discount 10%" and entry.actor == "import"


def test_rows_over_the_cap_and_malformed_rows_are_rejected_good_rows_imported(
    database: Database, program: Program, tmp_path: Path
) -> None:
    body = (
        "crm-1,ann@example.com,,Ann,,1000000,migration bug\n"  # over max_points_per_entry
        "crm-2,not-an-email,,Bob,,10,\n"
        "crm-3,c@example.com,,Carl,31-12-1990,10,\n"
        "crm-4,d@example.com,,Dee,,ten,\n"
        ",,,Nobody,,10,\n"
        "crm-6,f@example.com,,Fay,,250,\n"
        "crm-6,f@example.com,,Fay again,,250,\n"
        "crm-7,g@example.com,,Gus,,5,extra,field\n"
    )
    code, output = run(database, csv_file(tmp_path, body))
    assert code == 0, output
    for row, text in (
        (2, "above the programme's limit of 20000"),
        (3, "not an address"),
        (4, "not YYYY-MM-DD"),
        (5, "not a whole number"),
        (6, "neither external_id, email nor phone"),
        (8, "appears earlier"),
        (9, "more fields than the header"),
    ):
        assert f"rejected: row {row}: " in output and text in output, (row, output)
    assert counts(database) == (1, 1, 1, 250)


def test_discount_levels_map_to_points(
    database: Database, program: Program, tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        "crm-1,a@example.com,5\ncrm-2,b@example.com,10\ncrm-3,c@example.com,7\n",
        header="external_id,email,discount_level\n",
    )
    code, output = run(database, path, "--map", "5=500,10=1000")
    assert code == 0, output
    assert "rejected: row 4: discount_level '7' has no mapping" in output
    assert counts(database)[3] == 1500
