"""The one resolver of transfer targets (acd/routing/topology.py), and the plain data the router reads."""

from __future__ import annotations

import subprocess
import sys

import pytest

from acd.errors import NoRoute
from acd.routing.topology import ToOutside, Topology, ToQueue
from tests.acd import builders


def topology(trunk: bool) -> Topology:
    settings = {"sip_trunk": "127.0.0.1:5070"} if trunk else {}
    return Topology.compile(builders.deployment(numbers={"0559000000": "pau-tva"}, **settings))


def test_a_queue_id_and_a_number_leading_to_a_queue_resolve_to_the_queue() -> None:
    resolve = topology(trunk=False).resolve
    assert resolve("lons-tva") == ToQueue("lons-tva")
    assert resolve("0559000000") == ToQueue("pau-tva")


def test_an_outside_number_resolves_only_with_a_trunk() -> None:
    assert topology(trunk=True).resolve("+33612345678") == ToOutside("+33612345678")
    assert topology(trunk=True).resolve("0612345678") == ToOutside("0612345678")
    assert topology(trunk=True).resolve("0559000000") == ToQueue("pau-tva")  # the deployment's own number first
    with pytest.raises(NoRoute, match="^no trunk to call the outside number '0612345678'$") as caught:
        topology(trunk=False).resolve("0612345678")
    assert (caught.value.status_code, caught.value.error_id) == (404, "unknown-target")


@pytest.mark.parametrize(
    "garbage", ["nowhere", "06 12 34 56 78", "++33612", "1", "sip:sie@example.org", "3361234567890123456789"]
)
def test_anything_else_is_no_route(garbage: str) -> None:
    with pytest.raises(NoRoute, match="is neither a queue, a queue's number nor an outside number"):
        topology(trunk=True).resolve(garbage)


def test_the_compiled_topology_keeps_queue_numbers_and_the_trunk_but_not_flows() -> None:
    compiled = topology(trunk=True)
    assert (dict(compiled.numbers), compiled.trunk, compiled.outside_ring_timeout) == (
        {"0559000000": "pau-tva"},
        True,
        120.0,
    )


def test_the_router_imports_no_configuration_model_nor_ivr() -> None:
    code = (
        "import sys, acd.router; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'ivr', 'media', 'asyncio', 'redis')"
        " or m.startswith(('acd.deployment', 'acd.topology'))))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert found.strip() == "[]"
