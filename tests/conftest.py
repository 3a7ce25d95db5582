"""Fixtures shared by every test package: real servers on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import RedisServer, redis_server


@pytest.fixture
def redis_db(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server of this test's own."""
    with redis_server(tmp_path) as server:
        yield server


@pytest.fixture(scope="session")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the tests that each use their own deployment name in it."""
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server
