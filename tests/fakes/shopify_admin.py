"""A loopback Shopify Admin GraphQL API (a Flask app on 127.0.0.1 over TLS).

Every request is checked the way Shopify would and more strictly: the access token, the API
version in the path, a named operation, the document validated against Shopify's published
schema for that version (tests/fakes/shopify_schema.py) with no deprecated field, and the
variables coerced against the declared input types. Invalid requests answer Shopify's way
(HTTP 200 with ``errors``) and are recorded in ``problems``, which tests expect empty.

Valid operations execute with graphql-core against the schema, over state kept here (codes,
webhooks, orders, customer tags): the answer has exactly the selected fields. The fake checks
the discount input as Shopify's userErrors do (blank fields, a taken code, an end before the
start) and can be scripted to throttle (HTTP 200, ``THROTTLED``), to answer an HTTP status, or
to return userErrors to the next calls of a root field.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request
from graphql import (
    GraphQLError,
    OperationDefinitionNode,
    execute_sync,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoDeprecatedCustomRule

from tests.fakes import shopify_resolvers as resolvers
from tests.fakes.loopback import LoopbackFake
from tests.fakes.shopify_schema import is_new, schema_for

VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")
BUCKET = {"maximumAvailable": 2000.0, "restoreRate": 100.0}


@dataclass
class Received:
    version: str
    operation: str | None
    variables: dict[str, Any]


@dataclass
class FakeShopify(LoopbackFake):
    token: str
    server_cert: str | None = None
    server_key: str | None = None
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)  # gid -> the input received
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)  # GraphQL Order objects
    tags: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    requests: list[Received] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    throttle: int = 0  # throttle this many coming calls
    available: float = 2.0  # currentlyAvailable reported when throttling
    statuses: list[int] = field(default_factory=list)  # HTTP statuses for the coming calls
    refusals: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    def refuse_next(self, root_field: str, message: str, code: str | None = "INVALID") -> None:
        """The next call of ``root_field`` answers this userError."""
        self.refusals[root_field].append({"field": None, "message": message, "code": code})

    def start(self) -> str:
        app = Flask("fake-shopify-admin")
        app.add_url_rule(
            "/admin/api/<version>/graphql.json", "graphql", self._graphql, methods=["POST"]
        )
        return self.serve(app, self.server_cert, self.server_key)

    def _refuse(self, message: str, code: str) -> tuple[Response, int]:
        self.problems.append(message)
        return jsonify({"errors": [{"message": message, "extensions": {"code": code}}]}), 200

    def _graphql(self, version: str) -> tuple[Response, int]:
        if request.headers.get("X-Shopify-Access-Token") != self.token:
            body = {"errors": "[API] Invalid API key or access token (unrecognized login)"}
            return jsonify(body), 401
        if not VERSION.match(version):
            return jsonify({"errors": "Not Found"}), 404
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return self._refuse("a JSON body with a query is required", "BAD_REQUEST")
        variables = payload.get("variables") or {}
        try:
            document = parse(payload["query"])
        except GraphQLError as exc:
            return self._refuse(exc.message, "PARSE_ERROR")
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        name = operations[0].name.value if len(operations) == 1 and operations[0].name else None
        self.requests.append(Received(version, name, variables))
        if name is None:
            return self._refuse("one named operation per request", "BAD_REQUEST")
        schema = schema_for(version)
        errors = validate(schema, document, [*specified_rules, NoDeprecatedCustomRule])
        if errors:
            return self._refuse("; ".join(e.message for e in errors), "GRAPHQL_VALIDATION_FAILED")
        if self.statuses:
            status = self.statuses.pop(0)
            return jsonify({"errors": "Internal Server Error"}), status
        if self.throttle > 0:
            self.throttle -= 1
            cost = {
                "requestedQueryCost": 12,
                "actualQueryCost": None,
                "throttleStatus": {**BUCKET, "currentlyAvailable": self.available},
            }
            throttled = {"message": "Throttled", "extensions": {"code": "THROTTLED"}}
            return jsonify({"errors": [throttled], "extensions": {"cost": cost}}), 200
        root = resolvers.root(self, is_new(version))
        result = execute_sync(schema, document, root_value=root, variable_values=variables)
        if result.errors:
            message = "; ".join(e.message for e in result.errors)
            return self._refuse(message, "GRAPHQL_EXECUTION_FAILED")
        cost = {
            "requestedQueryCost": 12,
            "actualQueryCost": 5,
            "throttleStatus": {**BUCKET, "currentlyAvailable": 1995.0},
        }
        return jsonify({"data": result.data, "extensions": {"cost": cost}}), 200
