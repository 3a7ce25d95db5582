"""Where a node finds its Redis: a URL, read once at start, refused with a clear message if malformed.

    redis://[user:password@]host:port/db      one Redis (rediss:// with TLS)
    unix:///path/to/redis.sock[?db=N]         one Redis on this machine
    redis+sentinel://[user:password@]host:port[,host:port...]/service[/db]
                                              the master of `service` as the Sentinels name it

With Sentinel the node asks the Sentinels for the current master at each new connection; after a
failover, its connections to the old master fail (503, as any outage), and the next ones go to the
new master. The user and password are the master's; the Sentinels themselves are reached without.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel

from acd.hostport import AddressError, parse_host_port

SENTINEL_SCHEME = "redis+sentinel"
SCHEMES = ("redis", "rediss", "unix", SENTINEL_SCHEME)
SENTINEL_PORT = 26379
REDIS_PORT = 6379


@dataclass(frozen=True, slots=True)
class SentinelURL:
    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int
    username: str | None
    password: str | None


def check_store_url(url: str) -> str:
    """`url` if a node can use it; otherwise ValueError saying what is wrong."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in SCHEMES:
        raise ValueError(f"{url!r} is not a redis://, rediss://, unix:// or {SENTINEL_SCHEME}:// URL")
    if scheme == SENTINEL_SCHEME:
        parse_sentinel_url(url)
    elif scheme != "unix":
        _check_redis_url(url)
    return url


def _check_redis_url(url: str) -> None:
    """A redis:// or rediss:// URL's address and database, read as a node will use them (redis-py's own reading
    fails late, at the first connection or with a bare traceback)."""
    where, _, path = url.split("://", 1)[1].partition("/")
    path = path.partition("?")[0]
    where = where.partition("?")[0].rpartition("@")[2]
    if where:  # none: redis-py's default, localhost
        try:
            parse_host_port(where, default_port=REDIS_PORT)
        except AddressError as error:
            raise ValueError(f"{url!r}: the server's address: {error}") from None
    if path and not path.isdigit():
        raise ValueError(f"{url!r}: the database {path!r} is not a number")


def parse_sentinel_url(url: str) -> SentinelURL:
    rest = url.split("://", 1)[1]
    where, _, path = rest.partition("/")
    credentials, _, hosts = where.rpartition("@")
    username, _, password = credentials.partition(":") if credentials else ("", "", "")
    sentinels = tuple(_host_port(url, item) for item in hosts.split(","))
    service, _, db = path.partition("/")
    if not service:
        raise ValueError(f"{url!r} names no service: redis+sentinel://host:port[,host:port...]/service[/db]")
    if db and not db.isdigit():
        raise ValueError(f"{url!r}: the database {db!r} is not a number")
    return SentinelURL(sentinels, service, int(db or 0), username or None, password or None)


def _host_port(url: str, item: str) -> tuple[str, int]:
    try:
        return parse_host_port(item, default_port=SENTINEL_PORT)
    except AddressError as error:
        raise ValueError(f"{url!r}: a Sentinel's address: {error}") from None


def connect(url: str, **options: Any) -> aioredis.Redis:
    """A client of the Redis `url` names (for Sentinel: of its current master), with redis-py `options`."""
    if not url.startswith(SENTINEL_SCHEME + "://"):
        return aioredis.Redis.from_url(url, **options)
    where = parse_sentinel_url(url)
    timeouts = {name: value for name, value in options.items() if name.startswith("socket_")}
    manager = Sentinel(list(where.sentinels), sentinel_kwargs=timeouts)
    client: aioredis.Redis = manager.master_for(
        where.service, db=where.db, username=where.username, password=where.password, **options
    )
    return client
