"""Run every benchmark: `make bench` (or `python -m bench.run [--quick]`)."""

from __future__ import annotations

import subprocess
import sys

# (module, arguments for the quick pass CI runs to keep the harness working)
BENCHMARKS = [
    ("bench.ledger", ["--entries", "200"]),
    ("bench.webhooks", ["--quick"]),
    ("bench.apply", ["--quick"]),
    ("bench.flash_sale", ["--quick"]),
    ("bench.pkpass", ["--passes", "100", "--stock-passes", "10"]),
    ("bench.push", ["--devices", "500", "--commits", "20"]),
    ("bench.importer", ["--rows", "2000"]),
    ("bench.dashboard", ["--cards", "20000"]),
    ("bench.redemptions", ["--reservations", "50"]),
    ("bench.segments", ["--cards", "20000"]),
    ("bench.broadcast", ["--cards", "2000", "--push", "200", "--passes", "100"]),
]


def main() -> None:
    quick = "--quick" in sys.argv
    for module, quick_args in BENCHMARKS:
        subprocess.run([sys.executable, "-m", module, *(quick_args if quick else [])], check=True)


if __name__ == "__main__":
    main()
