"""Shopify's Admin GraphQL schema for the loopback fake: the published 2025-01 schema
(vendored: tests/data/README.md), and for API 2025-10 and later that schema with the
documented input changes laid over it.

The overlay, from Shopify's changelog:
- shopify.dev/changelog/discount-eligibility-management (2025-10): discounts name their buyers
  in ``context: DiscountContextInput`` (``all: DiscountBuyerSelection`` | ``customers`` |
  ``customerSegments``); ``customerSelection`` is deprecated.
- shopify.dev/changelog/consolidate-webhook-graphql-surfaces (2025-10): webhook subscriptions
  take ``uri: String`` and show ``uri: String!``; ``callbackUrl`` is deprecated.
The fake is stricter than Shopify: in the newer schema the deprecated ``customerSelection``
and ``callbackUrl`` inputs are removed, so a client speaking 2025-10+ must use the new names.
The spelling ``ALL`` of DiscountBuyerSelection's one value is unconfirmed (FACTS-2, section 1).
"""

from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path

from graphql import GraphQLInputObjectType, GraphQLSchema, build_client_schema, extend_schema, parse

SCHEMA_FILE = (
    Path(__file__).resolve().parent.parent / "data" / "shopify_admin_schema_2025-01.json.gz"
)
NEW_SHAPES_FROM = "2025-10"

OVERLAY_2025_10 = """
"All buyers are eligible (shopify.dev/docs/api/admin-graphql/latest/enums/DiscountBuyerSelection)."
enum DiscountBuyerSelection { ALL }

"The buyers who can use a discount (…/latest/input-objects/DiscountContextInput)."
input DiscountContextInput {
  all: DiscountBuyerSelection
  customers: DiscountCustomersInput
  customerSegments: DiscountCustomerSegmentsInput
}

extend input DiscountCodeBasicInput { context: DiscountContextInput }
extend input WebhookSubscriptionInput { uri: String }
extend type WebhookSubscription { uri: String! }
"""


@functools.cache
def schema_2025_01() -> GraphQLSchema:
    """The published schema, loaded once per test session (about a second).

    ``assume_valid``: graphql-core 3.3 checks that an implementation's field is deprecated only
    where its interface's is; Shopify's schema breaks that rule twice (Customer.
    hasTimelineComment, DiscountAutomaticBxgy.id), which does not matter for validating
    operations against it."""
    with gzip.open(SCHEMA_FILE, "rt", encoding="utf-8") as handle:
        introspection = json.load(handle)
    return build_client_schema(introspection["data"], assume_valid=True)


@functools.cache
def schema_2025_10() -> GraphQLSchema:
    extended = extend_schema(schema_2025_01(), parse(OVERLAY_2025_10), assume_valid=True)
    for name, field in (
        ("DiscountCodeBasicInput", "customerSelection"),
        ("WebhookSubscriptionInput", "callbackUrl"),
    ):
        kind = extended.get_type(name)
        assert isinstance(kind, GraphQLInputObjectType)
        kind.fields.pop(field)
    return extended


def schema_for(version: str) -> GraphQLSchema:
    return schema_2025_10() if is_new(version) else schema_2025_01()


def is_new(version: str) -> bool:
    return version == "unstable" or version >= NEW_SHAPES_FROM
