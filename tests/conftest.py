"""Fixtures shared by every test package: real servers on free ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser import chromium
from tests.servers import AcdServer, RedisServer, acd_serve, redis_server


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's) for one test. Not shared by the session: Playwright's sync API keeps an
    event loop running in the thread while it is open, where the next tests run asyncio.run()."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., AcdServer]]:
    """Starts `acd serve` processes on free ports (`serve(*options)`); every one is killed afterwards."""
    with acd_serve(tmp_path) as start:
        yield start


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
