"""Run every benchmark: `make bench` (or `python -m bench.run [--quick]`)."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = [["bench.ledger"]]


def main() -> None:
    quick = "--quick" in sys.argv
    for module in BENCHMARKS:
        extra = ["--entries", "200"] if quick else []
        subprocess.run([sys.executable, "-m", *module, *extra], check=True)


if __name__ == "__main__":
    main()
