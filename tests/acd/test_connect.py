"""Store URLs: what a node accepts, and what it refuses before it starts."""

from __future__ import annotations

import pytest

from acd.redisstore.connect import SentinelURL, check_store_url, parse_sentinel_url


@pytest.mark.parametrize(
    ("url", "parsed"),
    [
        ("redis+sentinel://s1:26379/acd", SentinelURL((("s1", 26379),), "acd", 0, None, None)),
        (
            "redis+sentinel://u:secret@10.0.0.1:26380,10.0.0.2,[::1]:26381/acd-prod/3",
            SentinelURL((("10.0.0.1", 26380), ("10.0.0.2", 26379), ("::1", 26381)), "acd-prod", 3, "u", "secret"),
        ),
        ("redis+sentinel://:secret@s1/acd", SentinelURL((("s1", 26379),), "acd", 0, None, "secret")),
    ],
)
def test_a_sentinel_url_names_the_sentinels_the_service_and_the_database(url: str, parsed: SentinelURL) -> None:
    assert parse_sentinel_url(url) == parsed
    assert check_store_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "rediss://r.example:6380/1",
        "unix:///run/redis.sock",
        "redis://u:p@[::1]:6379/2",
        "redis://r.example",
        "redis://:secret@r.example/0?socket_timeout=1",
    ],
)
def test_plain_redis_urls_are_taken_as_they_are(url: str) -> None:
    assert check_store_url(url) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("memcached://m:11211", "is not a redis://, rediss://, unix:// or redis+sentinel:// URL"),
        ("localhost:6379", "is not a redis://, rediss://, unix:// or redis+sentinel:// URL"),
        ("redis+sentinel://s1:26379", "names no service"),
        ("redis+sentinel://s1:26379/", "names no service"),
        (
            "redis+sentinel://s1:0/acd",
            "a Sentinel's address: 's1:0' is not host:port: the port must be from 1 to 65535",
        ),
        (
            "redis+sentinel://s1:99999/acd",
            "a Sentinel's address: 's1:99999' is not host:port: the port must be from 1 to 65535",
        ),
        (
            "redis+sentinel://s1:26379,/acd",
            "a Sentinel's address: '' is not host:port: '' is not a host name or address",
        ),
        ("redis+sentinel://s1:26379/acd/zero", "the database 'zero' is not a number"),
        ("redis://[::1/0", "the server's address: '[::1' is not host:port: the '[' of an IPv6 address is not closed"),
        ("redis://r1:99999/0", "the server's address: 'r1:99999' is not host:port: the port must be from 1 to 65535"),
        ("rediss://::1:6379/0", "the server's address: '::1:6379' is not host:port: write an IPv6 address in brackets"),
        ("redis://r1:6379/zero", "the database 'zero' is not a number"),
    ],
)
def test_a_url_a_node_cannot_use_is_refused_with_the_reason(url: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_store_url(url)
    assert message in str(caught.value)
