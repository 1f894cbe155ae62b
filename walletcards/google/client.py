"""The Google Wallet REST client: google-auth service-account credentials + AuthorizedSession.

Base URL from WALLETCARDS_GOOGLE_API_URL; the token request goes to the service account's
``token_uri``. AuthorizedSession refreshes and retries on 401 only (FACTS: Google Wallet), so
429 and 5xx get our own retries with backoff; 403 permissionDenied means the service account is
not a user of the issuer account and is reported as such, not retried. At most 20 requests per
second per issuer. :class:`GoogleWalletApi` is the service's ``GoogleWallet``
(walletcards/clients.py): one client (one HTTP session) per service account per process.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import google.auth.exceptions
import requests
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2 import service_account

from walletcards import metrics
from walletcards.cache import KeyedCache

log = logging.getLogger(__name__)
SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
RETRIES = 5


class GoogleWalletError(Exception):
    """Google refused a request; ``status`` and Google's ``reason`` say why."""

    def __init__(self, status: int, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.status, self.reason = status, reason


class PermissionDenied(GoogleWalletError):
    """403: the service account is not a user of the issuer account (Pay & Wallet console)."""


class RateLimiter:
    """A simple token bucket: ``rate`` requests per second, shared by the client's threads."""

    def __init__(self, rate: float, sleep: Callable[[float], None]) -> None:
        self._interval, self._sleep = 1.0 / rate, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self._interval
        if delay > 0:
            self._sleep(delay)


def load_service_account(path: str) -> dict[str, Any]:
    info: dict[str, Any] = json.loads(Path(path).read_text())
    return info


class GoogleWalletClient:
    def __init__(
        self,
        service_account_info: dict[str, Any],
        api_url: str,
        adapter: requests.adapters.BaseAdapter | None = None,
        rate: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        credentials = service_account.Credentials.from_service_account_info(
            service_account_info, scopes=[SCOPE]
        )
        self.email: str = credentials.service_account_email
        self._auth_http = auth_http = requests.Session()
        self.session = AuthorizedSession(credentials, auth_request=Request(auth_http))
        if adapter is not None:  # tests: a transport that can only reach 127.0.0.1
            for session in (auth_http, self.session):
                session.mount("http://", adapter)
                session.mount("https://", adapter)
        self._base = f"{api_url.rstrip('/')}/walletobjects/v1"
        self._limit = RateLimiter(rate, sleep)
        self._sleep = sleep

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> requests.Response:
        for attempt in range(RETRIES):
            self._limit.wait()
            try:
                response = self.session.request(
                    method, f"{self._base}/{path}", json=body, timeout=20
                )
            except google.auth.exceptions.RefreshError as exc:
                raise PermissionDenied(
                    401, f"the service account {self.email} could not get a token: {exc}"
                ) from exc
            except (requests.RequestException, google.auth.exceptions.TransportError) as exc:
                metrics.google_call("unreachable")
                if attempt == RETRIES - 1:
                    raise GoogleWalletError(0, f"Google Wallet API unreachable: {exc}") from exc
                self._sleep(min(30.0, 0.5 * 2**attempt))
                continue
            metrics.google_call(response.status_code)
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == RETRIES - 1:
                    break
                retry_after = response.headers.get("Retry-After", "")
                wait = float(retry_after) if retry_after.isdigit() else 0.5 * 2**attempt
                self._sleep(min(30.0, wait))
                continue
            return response
        raise GoogleWalletError(
            response.status_code, "Google Wallet API kept failing", _reason(response)
        )

    def _checked(self, response: requests.Response) -> dict[str, Any]:
        if response.status_code == 403:
            raise PermissionDenied(
                403,
                f"the service account {self.email} is not a user of the issuer account: add it "
                "in the Google Pay & Wallet console (Users)",
                _reason(response),
            )
        if response.status_code >= 400:
            raise GoogleWalletError(response.status_code, _message(response), _reason(response))
        data: dict[str, Any] = response.json()
        return data

    def upsert_class(self, body: dict[str, Any]) -> dict[str, Any]:
        """Insert the class; if it exists (409), patch it."""
        response = self._call("POST", "loyaltyClass", body)
        if response.status_code == 409:
            response = self._call("PATCH", f"loyaltyClass/{body['id']}", body)
        return self._checked(response)

    def upsert_object(self, body: dict[str, Any], notify: bool = False) -> dict[str, Any]:
        """Patch the object (replacing the fields we send); if it is missing (404), insert it;
        if an insert races another (409), patch again."""
        sent = {**body, "notifyPreference": "NOTIFY_ON_UPDATE"} if notify else body
        response = self._call("PATCH", f"loyaltyObject/{body['id']}", sent)
        if response.status_code == 404:
            response = self._call("POST", "loyaltyObject", body)
            if response.status_code == 409:
                response = self._call("PATCH", f"loyaltyObject/{body['id']}", sent)
        return self._checked(response)

    def add_message(self, kind: str, resource_id: str, message: dict[str, Any]) -> dict[str, Any]:
        """``kind``: loyaltyClass (every object of the class) or loyaltyObject (one card)."""
        return self._checked(
            self._call("POST", f"{kind}/{resource_id}/addMessage", {"message": message})
        )

    def close(self) -> None:
        self.session.close()
        self._auth_http.close()


class GoogleWalletApi:
    """Google Wallet for every programme: a :class:`GoogleWalletClient` per service account
    file, made on first use. ``adapter`` and ``sleep`` exist for tests (a transport that
    reaches only loopback; no waiting between retries)."""

    def __init__(
        self,
        api_url: str,
        adapter: requests.adapters.BaseAdapter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api_url, self._adapter, self._sleep = api_url, adapter, sleep
        self._clients: KeyedCache[str, GoogleWalletClient] = KeyedCache()

    def _client(self, service_account_file: str) -> GoogleWalletClient:
        return self._clients.get(
            service_account_file,
            lambda: GoogleWalletClient(
                load_service_account(service_account_file),
                self._api_url,
                self._adapter,
                sleep=self._sleep,
            ),
        )

    def upsert_class(self, service_account_file: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._client(service_account_file).upsert_class(body)

    def upsert_object(
        self, service_account_file: str, body: dict[str, Any], notify: bool = False
    ) -> dict[str, Any]:
        return self._client(service_account_file).upsert_object(body, notify)

    def add_message(
        self, service_account_file: str, kind: str, resource_id: str, message: dict[str, Any]
    ) -> dict[str, Any]:
        return self._client(service_account_file).add_message(kind, resource_id, message)

    def close(self) -> None:
        for client in self._clients.take_all():
            client.close()


def _error(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def _reason(response: requests.Response) -> str:
    errors = _error(response).get("errors") or [{}]
    return str(errors[0].get("reason", ""))


def _message(response: requests.Response) -> str:
    return str(_error(response).get("message") or f"HTTP {response.status_code}")
