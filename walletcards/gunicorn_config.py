"""gunicorn settings: ``gunicorn -c python:walletcards.gunicorn_config wsgi:app`` (add
``--workers``, ``--bind`` as usual; the command line wins).

- Logging: gunicorn's own error and access lines in walletcards' one format and level
  (``WALLETCARDS_LOG_LEVEL``, ``WALLETCARDS_LOG_FORMAT``); wsgi.py then leaves it as is.
- Prometheus multiprocess mode, when ``PROMETHEUS_MULTIPROC_DIR`` is set: the directory is
  made at start and the files of processes that no longer run are removed (their counts
  restart, as after any restart); a worker that exits is marked dead (``mark_process_dead``).
  Files of live processes stay, so a `walletcards worker` on the same host may share the
  directory and its push counters appear in the web processes' /metrics.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from walletcards import logs

logconfig_dict = logs.gunicorn_config(
    os.environ.get("WALLETCARDS_LOG_LEVEL", "INFO").upper(),
    os.environ.get("WALLETCARDS_LOG_FORMAT", "text").lower(),
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_stale(directory: Path) -> list[Path]:
    """Delete the metric files (``<kind>_<pid>.db``) of processes that are gone."""
    removed = []
    for path in directory.glob("*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        remove_stale(Path(directory))


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
