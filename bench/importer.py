"""Migration import of a 100,000-row customer file, on SQLite and PostgreSQL.

Baseline in the same run: reading and validating the file alone (no database writes).

    python -m bench.importer [--rows N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.ledger import NOW, ROOT, scratch_database
from walletcards.admin import import_rows, importer
from walletcards.loyalty.config import load_program_file
from walletcards.loyalty.programs import apply_program
from walletcards.loyalty.verify import verify


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.csv"
        with path.open("w") as out:
            out.write("external_id,email,phone,name,birthday,points,note\n")
            for i in range(args.rows):
                out.write(
                    f"crm-{i},c{i}@example.com,+1555{i:07d},Customer {i},1990-01-01,"
                    f"{(i * 37) % 5000},level {(i % 3) * 5}%\n"
                )
        print(f"import benchmark: {args.rows} rows")
        print("| database | step | seconds | rows/s | vs reading the file |")
        print("|---|---|---:|---:|---:|")
        for kind in ("sqlite", "postgresql"):
            with scratch_database(kind, args.postgres) as db:
                with db.transaction() as session:
                    program, _ = apply_program(
                        session, load_program_file(ROOT / "examples/demo.toml"), NOW
                    )
                t0 = time.perf_counter()
                # ids from our own signed-orders source (no shop to name)
                chosen = import_rows.options(program, "orders", None, None, None)
                plan = import_rows.read(path, program, chosen)
                read_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                with db.transaction() as session:
                    importer.skip_imported(session, program, plan)
                    written = importer.apply(session, program, plan, NOW)
                total = time.perf_counter() - t0 + read_s
                assert written == args.rows, (written, plan.rejected[:3])
                with db.transaction() as session:
                    assert verify(session) == []
                rate = args.rows / read_s
                print(f"| {kind} | read + validate | {read_s:.1f} | {rate:,.0f} | 1.00 |")
                print(
                    f"| {kind} | whole import | {total:.1f} | {args.rows / total:,.0f} | "
                    f"{read_s / total:.2f} |"
                )


if __name__ == "__main__":
    main()
