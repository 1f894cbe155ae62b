"""A loopback WooCommerce REST API v3 (a Flask app on 127.0.0.1, over TLS or plain http).

It checks Basic authentication with the consumer key and secret, and the bodies of coupons,
webhooks and customer updates against the documented fields and types (WordPress validates
a REST argument's declared type: ``amount`` is a *string*, ``usage_limit`` an integer), and it
answers WooCommerce's error shape ``{"code", "message", "data": {"status"}}``. Unknown fields
(which WordPress would silently ignore) are recorded in ``problems``: tests expect none.
Collections page with ``per_page`` (at most 100) and ``page`` and say ``X-WP-Total`` and
``X-WP-TotalPages``. ``statuses`` scripts HTTP failures for the coming calls.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from tests.fakes.loopback import LoopbackFake

COUPON_TYPES: dict[str, type] = {
    "code": str,
    "discount_type": str,
    "amount": str,
    "individual_use": bool,
    "usage_limit": int,
    "usage_limit_per_user": int,
    "email_restrictions": list,
    "date_expires_gmt": str,
    "description": str,
    "minimum_amount": str,
}
WEBHOOK_TYPES: dict[str, type] = {
    "name": str,
    "topic": str,
    "delivery_url": str,
    "secret": str,
    "status": str,
}
META_TYPES: dict[str, type] = {"meta_data": list}
TOPICS = ("order.created", "order.updated", "order.deleted", "coupon.created", "customer.updated")


def fail(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify({"code": code, "message": message, "data": {"status": status}}), status


def gmt(value: str) -> datetime:
    return datetime.fromisoformat(value)


@dataclass
class FakeWooCommerce(LoopbackFake):
    key: str
    secret: str
    server_cert: str | None = None
    server_key: str | None = None
    coupons: dict[int, dict[str, Any]] = field(default_factory=dict)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)  # REST order bodies
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    calls: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(700))

    def start(self) -> str:
        app = Flask("fake-woocommerce")
        app.before_request(self._gate)
        base = "/wp-json/wc/v3"
        app.add_url_rule(f"{base}/coupons", "coupon_create", self._coupon_create, methods=["POST"])
        app.add_url_rule(
            f"{base}/coupons/<int:id>", "coupon_delete", self._coupon_delete, methods=["DELETE"]
        )
        app.add_url_rule(f"{base}/webhooks", "webhooks", self._webhooks, methods=["GET", "POST"])
        app.add_url_rule(f"{base}/orders", "orders", self._orders, methods=["GET"])
        app.add_url_rule(
            f"{base}/customers/<int:id>", "customer", self._customer, methods=["GET", "PUT"]
        )
        return self.serve(app, self.server_cert, self.server_key)

    def _gate(self) -> tuple[Response, int] | None:
        self.calls.append((request.method, request.path, dict(request.args)))
        expected = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return fail(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if "consumer_secret" in request.args:
            self.problems.append("the consumer secret was sent in the query string")
        if self.statuses:
            status = self.statuses.pop(0)
            return fail(status, "internal_server_error", "There has been a critical error.")
        return None

    def _body(self, types: dict[str, type], required: tuple[str, ...]) -> dict[str, Any] | str:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return "the body is not a JSON object"
        missing = [name for name in required if name not in body]
        if missing:
            return f"Missing parameter(s): {', '.join(missing)}"
        for name, value in body.items():
            if name not in types:
                self.problems.append(f"unknown field {name!r}")
            elif not isinstance(value, types[name]) or (
                types[name] is int and isinstance(value, bool)
            ):
                return f"{name} is not of type {types[name].__name__}."
        return body

    def _coupon_create(self) -> tuple[Response, int]:
        body = self._body(COUPON_TYPES, ("code",))
        if isinstance(body, str):
            return fail(400, "rest_invalid_param", body)
        if body.get("discount_type", "fixed_cart") not in (
            "percent",
            "fixed_cart",
            "fixed_product",
        ):
            return fail(400, "rest_invalid_param", "discount_type is not one of percent, ...")
        if not all(isinstance(e, str) and "@" in e for e in body.get("email_restrictions", [])):
            return fail(400, "rest_invalid_param", "email_restrictions[0] is not an e-mail.")
        if "date_expires_gmt" in body:
            gmt(body["date_expires_gmt"])  # a date-time, no offset
            if body["date_expires_gmt"].endswith("Z") or "+" in body["date_expires_gmt"]:
                self.problems.append("date_expires_gmt carries an offset")
        code = body["code"].lower()  # WooCommerce keeps coupon codes lower-case
        if any(c["code"] == code for c in self.coupons.values()):
            return fail(
                400, "woocommerce_rest_coupon_code_already_exists", "The coupon code already exists"
            )
        coupon = {**body, "id": next(self.ids), "code": code, "usage_count": 0, "used_by": []}
        self.coupons[coupon["id"]] = coupon
        return jsonify(coupon), 201

    def _coupon_delete(self, id: int) -> tuple[Response, int]:
        if request.args.get("force") != "true":
            self.problems.append("a coupon deleted without force=true goes to the trash")
        coupon = self.coupons.pop(id, None)
        if coupon is None:
            return fail(404, "woocommerce_rest_shop_coupon_invalid_id", "Invalid ID.")
        return jsonify(coupon), 200

    def _page(self, items: list[dict[str, Any]]) -> tuple[Response, int]:
        per_page, page = int(request.args.get("per_page", 10)), int(request.args.get("page", 1))
        if not 1 <= per_page <= 100 or page < 1:
            return fail(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        chunk = items[(page - 1) * per_page : page * per_page]
        response = jsonify(chunk)
        response.headers["X-WP-Total"] = str(len(items))
        response.headers["X-WP-TotalPages"] = str(max(1, -(-len(items) // per_page)))
        return response, 200

    def _webhooks(self) -> tuple[Response, int]:
        if request.method == "GET":
            return self._page(self.webhooks)
        body = self._body(WEBHOOK_TYPES, ("topic", "delivery_url"))
        if isinstance(body, str):
            return fail(400, "rest_missing_callback_param", body)
        if body["topic"] not in TOPICS:
            return fail(400, "woocommerce_rest_webhook_invalid_topic", "Webhook topic is invalid.")
        hook = {"id": next(self.ids), "status": "active", **body}
        self.webhooks.append({k: v for k, v in hook.items() if k != "secret"})  # write-only
        self.webhooks[-1]["has_secret"] = "secret" in body
        return jsonify(self.webhooks[-1]), 201

    def _orders(self) -> tuple[Response, int]:
        args = request.args
        if args.get("dates_are_gmt") != "true" or "modified_after" not in args:
            self.problems.append(f"orders listed without GMT modified_after: {dict(args)}")
        if args.get("orderby", "date") not in (
            "date",
            "id",
            "include",
            "title",
            "slug",
            "modified",
        ):
            return fail(400, "rest_invalid_param", "Invalid parameter(s): orderby")
        since = gmt(args["modified_after"])
        found = [o for o in self.orders if gmt(o["date_modified_gmt"]) > since]
        found.sort(key=lambda o: int(o["id"]), reverse=args.get("order") != "asc")
        return self._page(found)

    def _customer(self, id: int) -> tuple[Response, int]:
        customer = self.customers.get(id)
        if customer is None:
            return fail(404, "woocommerce_rest_invalid_id", "Invalid resource ID.")
        if request.method == "PUT":
            body = self._body(META_TYPES, ("meta_data",))
            if isinstance(body, str):
                return fail(400, "rest_invalid_param", body)
            for meta in body["meta_data"]:
                if not isinstance(meta, dict) or not isinstance(meta.get("key"), str):
                    return fail(400, "rest_invalid_param", "meta_data[0][key] is required.")
                kept = [m for m in customer["meta_data"] if m["key"] != meta["key"]]
                customer["meta_data"] = [*kept, {"id": next(self.ids), **meta}]
        return jsonify(customer), 200

    def tier(self, id: int) -> str | None:
        meta = self.customers[id]["meta_data"]
        return next((m["value"] for m in meta if m["key"] == "walletcards_tier"), None)
