"""Token buckets: refill with time, and never remember more than ``max_keys`` clients."""

from __future__ import annotations

from walletcards.apple.throttle import TokenBuckets, client_key


def test_a_bucket_allows_its_burst_then_refills_with_time() -> None:
    buckets = TokenBuckets(capacity=3, per_second=0.5)
    assert [buckets.take("a", 100.0) for _ in range(4)] == [True, True, True, False]
    assert buckets.take("a", 101.0) is False  # half a token
    assert buckets.take("a", 102.0) is True
    assert [buckets.take("a", 1000.0) for _ in range(4)] == [True, True, True, False]


def test_memory_stays_bounded_however_many_addresses_come() -> None:
    buckets = TokenBuckets(capacity=1, per_second=0.001, max_keys=100)
    for i in range(20_000):
        assert buckets.take(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", 0.0)
    assert len(buckets) == 100
    assert buckets.take("10.0.78.31", 0.0) is False  # among the most recent: still remembered


def test_client_keys_group_ipv6_by_64_and_survive_odd_addresses() -> None:
    assert client_key("2001:db8::1") == client_key("2001:db8::ffff:2") == "2001:db8::/64"
    assert client_key("2001:db8:0:1::1") != client_key("2001:db8::1")
    assert client_key("192.0.2.1") == "192.0.2.1"
    assert client_key(None) == "-" and client_key("") == "-"
    assert client_key("not an address" * 10) == ("not an address" * 10)[:64]
