"""The SIP endpoint of a running ACD: the listener, the registrar and the front door, from the deployment."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from acd.service import AcdService
from media.sip.digest import Nonces
from media.sip.frontdoor import FrontDoor
from media.sip.registrar import Account, Registrar
from media.sip.transport import listening


def sip_endpoint(service: AcdService, address: tuple[str, int]) -> Callable[[], AbstractAsyncContextManager[object]]:
    """SIP on UDP and TCP at `address`, for as long as the application runs."""

    def store_available() -> bool:
        return service.engine is None or service.engine.shared.reachable

    deployment = service.deployment
    settings = deployment.settings
    accounts = {
        phone.user: Account(phone.agent, {str(k): v for k, v in phone.ha1.items()}) for phone in deployment.phones
    }
    # Nonces signed by this process's secret: a phone that moves to another node is challenged again.
    registrar = Registrar(
        settings.sip_realm, accounts, Nonces(secrets.token_bytes(32)), time.time, settings.sip_digest_algorithms
    )
    numbers = {entry.number: entry.queue for entry in deployment.numbers}
    door = FrontDoor(registrar, numbers, store_available)
    return lambda: listening(address[0], address[1], door)
