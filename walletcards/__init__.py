"""walletcards: loyalty cards in Apple Wallet and Google Wallet, fed by shop webhooks."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from walletcards.clients import Clients, build_clients
from walletcards.db import Database
from walletcards.settings import Settings

MAX_BODY_BYTES = 1024 * 1024
STATIC = Path(__file__).resolve().parent / "static"  # inside the package: wheels carry it


def create_app(settings: Settings | None = None, clients: Clients | None = None) -> Flask:
    """The WSGI app. Settings come from the environment and the outside systems' clients from
    the settings (walletcards/clients.py) unless given (tests and `serve` pass their own)."""
    from walletcards import metrics_http
    from walletcards.admin.api import bp as admin_api_bp
    from walletcards.admin.campaigns import bp as admin_campaigns_bp
    from walletcards.admin.customers_api import bp as admin_customers_bp
    from walletcards.admin.dashboard import bp as admin_bp
    from walletcards.admin.messages_page import bp as admin_messages_bp
    from walletcards.admin.redemptions import bp as redemptions_bp
    from walletcards.admin.segments_api import bp as segments_bp
    from walletcards.apple.webservice import bp as passkit_bp
    from walletcards.cashier.api import bp as cashier_api_bp
    from walletcards.cashier.views import bp as cashier_bp
    from walletcards.customer.consent import bp as card_consent_bp
    from walletcards.customer.consent import limit_consent_posts
    from walletcards.customer.redeem import bp as card_redeem_bp
    from walletcards.customer.redeem import limit_card_posts
    from walletcards.customer.views import bp as customer_bp
    from walletcards.errors import register_error_handlers
    from walletcards.health import bp as health_bp
    from walletcards.join.poster import bp as join_poster_bp
    from walletcards.join.referral_link import bp as referral_link_bp
    from walletcards.join.views import bp as join_bp
    from walletcards.join.views import limit_join
    from walletcards.messages.api import bp as messages_bp
    from walletcards.openapi import bp as openapi_bp
    from walletcards.orders.deliveries import bp as deliveries_bp
    from walletcards.orders.views import bp as webhooks_bp
    from walletcards.page_texts import staff_texts
    from walletcards.rights.views import bp as unsubscribe_bp
    from walletcards.staff.sessions import IDLE

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
        PERMANENT_SESSION_LIFETIME=IDLE,  # a signed-in cookie; refreshed on every answer
    )
    app.extensions["walletcards.settings"] = settings
    app.extensions["walletcards.clients"] = clients or build_clients(settings)
    app.extensions["walletcards.db"] = Database(settings.database_url)
    register_error_handlers(app)
    # every page gets _/ngettext/lang; a view that knows its programme passes its own
    app.context_processor(lambda: staff_texts(None))
    metrics_http.init_app(app)  # times every request; GET /metrics
    app.register_blueprint(health_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(deliveries_bp)
    app.register_blueprint(customer_bp)
    app.register_blueprint(card_redeem_bp)
    app.register_blueprint(passkit_bp)
    app.register_blueprint(cashier_api_bp)
    app.register_blueprint(cashier_bp)
    app.register_blueprint(admin_api_bp)
    app.register_blueprint(admin_campaigns_bp)
    app.register_blueprint(admin_customers_bp)
    app.register_blueprint(card_consent_bp)
    app.register_blueprint(unsubscribe_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(admin_messages_bp)
    app.register_blueprint(redemptions_bp)
    app.register_blueprint(segments_bp)
    app.register_blueprint(messages_bp)
    app.register_blueprint(openapi_bp)
    app.register_blueprint(join_bp)
    app.register_blueprint(join_poster_bp)
    app.register_blueprint(referral_link_bp)
    _limit_logins(app, settings)
    limit_card_posts(app)  # the card page's posts: per card token and per client address
    limit_consent_posts(app)
    limit_join(app)  # sign-ups and confirmation links: per client address
    _check_start_up(app)
    return app


def _limit_logins(app: Flask, settings: Settings) -> None:
    """Sign-in limits per client address and per account (walletcards.staff.signin). Behind
    WALLETCARDS_TRUSTED_PROXIES proxies the client address is the one they forward: ProxyFix
    takes the Nth X-Forwarded-For entry from the right; with 0 the header is ignored."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from walletcards.staff.signin import limit_logins

    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]
    limit_logins(app, settings)


def _check_start_up(app: Flask) -> None:
    """Log every programme's misconfiguration (unset ``env:`` variables, certificates, keys,
    service accounts) once, now: walletcards/startup.py."""
    from walletcards.startup import log_problems

    clients: Clients = app.extensions["walletcards.clients"]
    log_problems(app.extensions["walletcards.db"], clients.clock.now())
