"""The SIP endpoint of a running ACD: the listener, the registrar, the front door and the switchboard."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from acd.clock import SYSTEM_CLOCK, Clock
from acd.hostport import parse_host_port
from acd.service import AcdService
from ivr.flow import Flow
from media.calls import Destination, FlowEntry
from media.rtp.music import Music
from media.sip.checks import Request, Response
from media.sip.digest import Nonces
from media.sip.frontdoor import FrontDoor
from media.sip.registrar import Account, Registrar
from media.sip.transport import Source, StreamLimits, listening
from media.switchboard import MediaSettings, Switchboard


def sip_endpoint(
    service: AcdService,
    address: tuple[str, int],
    config: Path,
    flows: Mapping[str, Flow],
    clock: Clock = SYSTEM_CLOCK,
) -> tuple[Callable[[], AbstractAsyncContextManager[Switchboard]], Switchboard]:
    """SIP on UDP and TCP at `address` with calls' media on the same host, for as long as the application
    runs (the first of the pair), and the switchboard the calls' API acts on. `flows`: the IVR flows of
    `config`/ivr/, by name, as the composition root read them."""
    deployment = service.deployment
    settings = deployment.settings
    registrar = _registrar(service, clock)
    switchboard = Switchboard(service, registrar, _media_settings(service, address, config, flows), clock)
    switchboard.attendant.prepare()  # every prompt spoken now: raises SpeechError rather than meet a caller
    numbers: dict[str, Destination] = {
        entry.number: FlowEntry(entry.flow or "", entry.attributes)
        for entry in deployment.numbers
        if entry.queue is None
    }
    numbers.update(service.topology.numbers)  # a number that leads to a queue: the core's one map of them

    def store_available() -> bool:
        return service.engine is None or service.engine.shared.reachable

    door = FrontDoor(registrar, numbers, store_available, switchboard.arrive, switchboard.watch.phones_changed)

    def handle(message: Request | Response, source: Source) -> None:
        if not switchboard.handle(message, source) and isinstance(message, Request):
            door(message, source)

    @contextlib.asynccontextmanager
    async def running() -> AsyncIterator[Switchboard]:
        limits = StreamLimits(settings.sip_tcp_message_timeout, settings.sip_tcp_connections_per_address)
        async with listening(address[0], address[1], handle, limits) as transports:
            agents = sorted({phone.agent for phone in deployment.phones})
            stored = [(agent, service.store.agent(agent)) for agent in agents]
            await switchboard.watch.mark_phones_unregistered(
                [(agent, known.phone) for agent, known in stored if known is not None]
            )
            async with switchboard.running(transports):
                yield switchboard

    return running, switchboard


def _registrar(service: AcdService, clock: Clock) -> Registrar:
    """The accounts of phones.yaml, each challenged with its own digest algorithms."""
    deployment = service.deployment
    settings = deployment.settings
    accounts = {
        phone.user: Account(
            phone.agent, {str(k): v for k, v in phone.ha1.items()}, tuple(deployment.digest_algorithms(phone))
        )
        for phone in deployment.phones
    }
    # Nonces signed by this process's secret: a phone that moves to another node is challenged again.
    return Registrar(
        settings.sip_realm, accounts, Nonces(secrets.token_bytes(32)), clock, settings.sip_digest_algorithms
    )


def _media_settings(
    service: AcdService, address: tuple[str, int], config: Path, flows: Mapping[str, Flow]
) -> MediaSettings:
    deployment = service.deployment
    settings = deployment.settings
    music = Music.load(config / settings.music_on_hold) if settings.music_on_hold else Music.chime()
    return MediaSettings(
        host=address[0],
        ports=settings.rtp_ports,
        music=music,
        max_calls=settings.max_calls,
        media_timeout=settings.media_timeout,
        recordings=Path(settings.recordings),
        recorded_queues=frozenset(queue.id for queue in deployment.queues if queue.record),
        trunk=parse_host_port(settings.sip_trunk) if settings.sip_trunk else None,
        flows=flows,
        flow_folder=config / "ivr",
        prompt_cache=Path(settings.prompt_cache),
    )
