"""walletcards: loyalty cards in Apple Wallet and Google Wallet, fed by shop webhooks."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from walletcards.clients import Clients
from walletcards.db import Database
from walletcards.settings import Settings

MAX_BODY_BYTES = 1024 * 1024
STATIC = Path(__file__).resolve().parent / "static"  # inside the package: wheels carry it


def create_app(settings: Settings | None = None, clients: Clients | None = None) -> Flask:
    """The WSGI app. Settings come from the environment unless given (tests pass their own)."""
    from walletcards.admin.api import bp as admin_api_bp
    from walletcards.admin.dashboard import bp as admin_bp
    from walletcards.apple.webservice import bp as passkit_bp
    from walletcards.cashier.api import bp as cashier_api_bp
    from walletcards.cashier.views import bp as cashier_bp
    from walletcards.customer.views import bp as customer_bp
    from walletcards.errors import register_error_handlers
    from walletcards.health import bp as health_bp
    from walletcards.openapi import bp as openapi_bp
    from walletcards.orders.views import bp as webhooks_bp

    settings = settings or Settings.from_env()
    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.config.update(
        SECRET_KEY=settings.secret_key.reveal(),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        SESSION_COOKIE_NAME="walletcards_till",
    )
    app.extensions["walletcards.settings"] = settings
    clients = clients or Clients()
    if clients.google is None:
        from walletcards.google.sync import GoogleClients

        clients.google = GoogleClients(settings)
    app.extensions["walletcards.clients"] = clients
    app.extensions["walletcards.db"] = Database(settings.database_url)
    register_error_handlers(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(customer_bp)
    app.register_blueprint(passkit_bp)
    app.register_blueprint(cashier_api_bp)
    app.register_blueprint(cashier_bp)
    app.register_blueprint(admin_api_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(openapi_bp)
    _limit_logins(app)
    _check_start_up(app)
    return app


def _limit_logins(app: Flask) -> None:
    """At most 5 login attempts per minute and 30 per hour per client address (Flask-Limiter;
    memory storage, or WALLETCARDS_RATELIMIT_STORAGE_URL, e.g. redis://, across processes)."""
    import os

    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    limiter = Limiter(
        get_remote_address,
        app=app,
        default_limits=[],
        storage_uri=os.environ.get("WALLETCARDS_RATELIMIT_STORAGE_URL", "memory://"),
    )
    for name in ("cashier.login", "admin.login"):
        limited = limiter.limit("5/minute;30/hour")(app.view_functions[name])
        app.view_functions[name] = limited  # type: ignore[assignment]


def _check_start_up(app: Flask) -> None:
    """Log every programme's misconfiguration (unset ``env:`` variables, certificates, keys,
    service accounts) once, now: walletcards/startup.py."""
    from walletcards.startup import log_problems

    clients: Clients = app.extensions["walletcards.clients"]
    log_problems(app.extensions["walletcards.db"], clients.clock.now())
