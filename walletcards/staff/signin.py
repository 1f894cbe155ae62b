"""The staff sign-in forms, POST /cashier/login and /admin/login: bounded fields, limits per
client address and per account, and the answers (a redirect, or the form again with a
message and a 4xx status).

Limits (Flask-Limiter, counted in ``Settings.ratelimit_storage_url``: Redis shares them across
gunicorn workers and hosts): every attempt counts against the client address, both forms
together; failed attempts also count against the account (programme + email) from whatever
address. The account limit is higher than what one address may try, so a single attacker is
stopped before the cashier is locked out. The client address is the peer's, or, behind
``Settings.trusted_proxies`` proxies, the one they report in X-Forwarded-For (ProxyFix).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, redirect, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from walletcards import web
from walletcards.errors import ApiError
from walletcards.loyalty.programs import program_choices
from walletcards.settings import Settings
from walletcards.staff import sessions as staff_session
from walletcards.staff.accounts import MAX_EMAIL, MAX_PASSWORD, authenticate, has_control_characters

ADDRESS_LIMIT = "5/minute;30/hour"  # every attempt from one client address
ACCOUNT_LIMIT = "10/minute;100/hour"  # failed attempts on one account, from any address
ENDPOINTS = ("cashier.login", "admin.login")
# blueprints no limit applies to, whose requests skip Flask-Limiter's per-request hooks: the
# PassKit web service (the storm of pass GETs after a broadcast) and the shops' webhooks
UNLIMITED_BLUEPRINTS = frozenset({"passkit", "webhooks"})
MAX_SLUG = 63
TOO_MANY = "Too many sign-in attempts. Wait a minute, then try again."
BAD_INPUT = "The programme, email or password is too long or holds control characters."

Page = Callable[..., Response]  # renders an area's page: page(status, **template values)


class Credentials(NamedTuple):
    program: str
    email: str
    password: str


def _credentials() -> Credentials | None:
    """The form's fields, or None when one is overlong or holds control characters (CR/LF
    would split the redirect's header, NUL is refused by PostgreSQL)."""
    fields = Credentials(
        request.form.get("program", ""),
        request.form.get("email", ""),
        request.form.get("password", ""),
    )
    bounds = (MAX_SLUG, MAX_EMAIL, MAX_PASSWORD)
    if any(len(text) > bound for text, bound in zip(fields, bounds, strict=True)):
        return None
    return None if any(has_control_characters(text) for text in fields) else fields


def echoed_slug(raw: str | None) -> str:
    """The programme to show in the form again (only a plausible one)."""
    slug = raw or ""
    return "" if len(slug) > MAX_SLUG or has_control_characters(slug) else slug


def _account_key() -> str:
    """The account an attempt is for, as normalised as the sign-in normalises it."""
    program = request.form.get("program", "")[:MAX_SLUG]
    email = request.form.get("email", "")[:MAX_EMAIL].strip().lower()
    return "account-" + hashlib.sha256(f"{program}\n{email}".encode()).hexdigest()


def _failed(_response: Response) -> bool:
    return bool(g.get("sign_in_failed"))


def limit_logins(app: Flask, settings: Settings) -> None:
    """Both sign-in views get both limits. When the storage is unreachable the limits fall
    back to this process's memory (logged) rather than refusing every sign-in."""
    storage = settings.ratelimit_storage_url
    limiter = Limiter(
        get_remote_address,
        app=app,
        default_limits=[],
        storage_uri=storage.reveal() if storage else "memory://",
        in_memory_fallback_enabled=True,
        key_prefix="walletcards",
    )
    app.extensions["walletcards.limiter"] = limiter
    _skip_hooks(app, limiter, UNLIMITED_BLUEPRINTS)
    by_address = limiter.shared_limit(ADDRESS_LIMIT, scope="sign-in")
    by_account = limiter.shared_limit(
        ACCOUNT_LIMIT, scope="sign-in-account", key_func=_account_key, deduct_when=_failed
    )
    for name in ENDPOINTS:
        limited = by_account(by_address(app.view_functions[name]))
        app.view_functions[name] = limited  # type: ignore[assignment]


def _skip_hooks(app: Flask, limiter: Limiter, blueprints: frozenset[str]) -> None:
    """Flask-Limiter's before-request check, after-request deductions and teardown, which run
    on every request of the app, skipped for requests of ``blueprints`` (their views carry no
    limit: ~0.1 ms of CPU per pass GET). A limited view checks its own limits when called, so
    the views of every other blueprint keep theirs; a request that matches no route keeps the
    hooks too."""

    def ours(hook: object) -> bool:
        if isinstance(hook, partial):
            return bool(hook.args) and hook.args[0] is limiter
        return getattr(hook, "__self__", None) is limiter

    def skipping(hook: Callable[..., Any], passed: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            return passed(*args) if request.blueprint in blueprints else hook(*args)

        return run

    hooks = (
        (app.before_request_funcs, lambda: None),
        (app.after_request_funcs, lambda response: response),
        (app.teardown_request_funcs, lambda _error=None: None),
    )
    found = 0
    for registry, passed in hooks:
        funcs: list[Callable[..., Any]] = registry.setdefault(None, [])
        for i, hook in enumerate(funcs):
            if ours(hook):
                funcs[i] = skipping(hook, passed)
                found += 1
    if found != len(hooks):  # Flask-Limiter registers its hooks differently: keep them all
        raise RuntimeError(f"found {found} of Flask-Limiter's {len(hooks)} request hooks")


def sign_in(area: str, page: Page) -> Response:
    """The whole POST: a redirect to the area (signed in) or back to its form (wrong email or
    password), or the form again with 400 (bad input). CSRF failures stay a JSON 400."""
    if not staff_session.csrf_ok(request.form.get("csrf_token")):
        raise ApiError(400, "csrf", "the login form expired; reload the page")
    credentials = _credentials()
    if credentials is None:
        return page(400, slug="", message=BAD_INPUT)
    with web.database().transaction() as session:
        staff = authenticate(session, *credentials)
        if staff is not None:
            staff_session.start(session, staff, web.clock().now())
    if staff is None:
        g.sign_in_failed = True  # counts against the account (see limit_logins)
        query = urlencode({"program": credentials.program, "error": "1"})
        return redirect(f"/{area}/?{query}", code=303)  # type: ignore[return-value]
    return redirect(f"/{area}/", code=303)  # type: ignore[return-value]


def too_many(page: Page) -> Response:
    """The form again with 429 and a Retry-After header, instead of Flask-Limiter's JSON."""
    answer = page(429, slug=echoed_slug(request.form.get("program")), message=TOO_MANY)
    limit = current_app.extensions["walletcards.limiter"].current_limit
    wait = limit.reset_at - time.time() if limit is not None else 60
    answer.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return answer


def sign_in_programmes() -> list[tuple[str, str]] | None:
    """The programmes the staff sign-in form offers (``programs.program_choices``): read in a
    short transaction of its own, only when a page renders that form."""
    with web.database().transaction() as session:
        return program_choices(session)


def sign_in_context() -> dict[str, Any]:
    """For the shared sign-in form (templates/_staff_page.html), on the till's and the
    dashboard's pages whichever view renders them (a context processor of both)."""
    return {"sign_in_programmes": sign_in_programmes}


def sign_out() -> None:
    """POST /<area>/logout (the caller checked the CSRF token): ends the session server-side."""
    with web.database().transaction() as session:
        staff_session.logout(session, web.clock().now())
