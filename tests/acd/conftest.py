"""The queue core's tests run on both stores: in memory, and shared through a real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from acd.deployment.models import Deployment
from tests.acd import builders
from tests.acd.stores import RouterFactory, SharedRouter, state
from tests.servers import RedisServer


@pytest.fixture(params=["memory", "redis"])
def make_router(request: pytest.FixtureRequest) -> Iterator[RouterFactory]:
    if request.param == "memory":
        yield builders.router
        return
    redis: RedisServer = request.getfixturevalue("shared_redis")
    made: list[SharedRouter] = []

    def make(config: Deployment | None = None) -> SharedRouter:
        router = SharedRouter(config or builders.deployment(), redis.url)
        made.append(router)
        return router

    yield make
    try:
        for router in made:
            assert state(router.reloaded()) == state(router.store), "Redis does not hold what the replica holds"
            assert state(router.replayed()) == state(router.store), "the change stream does not replay to it"
    finally:
        for router in made:
            router.close()
