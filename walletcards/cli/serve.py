"""`walletcards worker` and `walletcards serve`: the long-running processes. Both build the
outside systems' clients once (``build_clients``) and run the worker through ``run_worker``."""

from __future__ import annotations

import click

from walletcards import logs
from walletcards.cli.common import load_settings
from walletcards.db import Database


@click.command()
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--lease",
    default=60,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds a claimed card stays with this worker (its push deadline).",
)
@click.option(
    "--appliers",
    default=1,
    show_default=True,
    type=click.IntRange(0, 16),
    help="Threads applying the webhook deliveries accepted into the inbox (0: none here).",
)
def worker(batch: int, lease: int, appliers: int) -> None:
    """Apply accepted webhook deliveries, push card changes to phones and run the scheduled
    jobs, until SIGTERM/SIGINT."""
    import signal
    import threading
    from datetime import timedelta

    from walletcards.clients import build_clients
    from walletcards.startup import log_problems
    from walletcards.sync.worker import run_worker

    settings = load_settings()
    logs.configure(settings.log_level, settings.log_format)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with build_clients(settings) as clients, Database(settings.database_url) as database:
        log_problems(database, clients.clock.now())
        run_worker(
            database,
            clients,
            settings,
            stop,
            batch=batch,
            lease=timedelta(seconds=lease),
            appliers=appliers,
        )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the app (the embedded default; use gunicorn with wsgi:app in production)."""
    import threading

    from werkzeug.serving import run_simple

    from walletcards import create_app
    from walletcards.clients import build_clients
    from walletcards.sync.worker import run_worker

    local = "127.0.0.1" if host in {"", "0.0.0.0", "::"} else host  # noqa: S104
    settings = load_settings(f"http://{f'[{local}]' if ':' in local else local}:{port}")
    logs.configure(settings.log_level, settings.log_format)
    with build_clients(settings) as clients:
        app = create_app(settings, clients)
        # The embedded default: the sync worker (and its applier) run as threads of this process.
        stop = threading.Event()
        database: Database = app.extensions["walletcards.db"]
        thread = threading.Thread(
            target=run_worker,
            args=(database, clients, settings, stop),
            name="sync-worker",
            daemon=True,
        )
        thread.start()
        click.echo(f"walletcards on http://{host}:{port}/ (with an in-process sync worker)")
        try:
            run_simple(host, port, app, threaded=True, use_reloader=False)
        finally:
            stop.set()
            thread.join(10)
