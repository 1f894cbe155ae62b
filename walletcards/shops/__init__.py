"""The shops' own admin APIs (Shopify Admin GraphQL, WooCommerce REST v3): one ShopAdmin
protocol (admin.py), a real client per platform and an in-memory shop (memory.py)."""
