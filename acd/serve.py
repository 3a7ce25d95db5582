"""The composition root of `acd serve`: the one place where the parts of a running centre are built and wired.

It reads the configuration (the deployment, then the IVR flows checked against it), and builds the clock, the
shared store, the queue core's service, the SIP endpoint with its calls' routes, the MQTT feed of the
agents' headsets, and the HTTP application around them. The other parts of acd/ import nothing of media/,
ivr/ or headsets/: what they need of them is given here. `acd.cli` parses the options and calls `serve`.
"""

from __future__ import annotations

import logging
import signal
import socket
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from acd.auth import verify_password
from acd.clock import SYSTEM_CLOCK, Clock
from acd.deployment import ConfigError, Deployment, Problem, read_deployment
from acd.hostport import join_host_port
from acd.mqtt import Broker
from ivr.flow import Flow
from ivr.loader import load_flows, missing_flows

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

    from acd.redisstore.client import SharedState
    from acd.service import AcdService

#: Passwords of the demonstration users, published in the README: for trying the product, never for use.
DEMO_PASSWORDS = {"agent": "agent-demo", "supervisor": "supervisor-demo", "admin": "admin-demo"}

log = logging.getLogger("acd")


@dataclass(frozen=True, slots=True)
class Configuration:
    """A configuration directory as a running centre uses it: the deployment, and its IVR flows by name."""

    deployment: Deployment
    flows: dict[str, Flow]


def load_configuration(directory: Path) -> Configuration:
    """The deployment of `directory` and its flows (ivr/*.yaml); ConfigError naming every problem's file, line
    and field. The flows name queues, calendars and numbers: they are checked once the deployment is sound."""
    read = read_deployment(directory)
    problems: list[Problem] = []
    flows = load_flows(directory, read.deployment, problems)
    written = {path.stem for path in (directory / "ivr").glob("*.yaml")}
    problems += [read.problem(loc, message) for loc, message in missing_flows(read.deployment, written)]
    if problems:
        raise ConfigError(problems)
    return Configuration(read.deployment, flows)


def demo_password_users(deployment: Deployment) -> list[str]:
    """Users still holding the published demonstration password (one check per role and the admins)."""
    found, checked_roles = [], set()
    for user in deployment.users:
        if user.role.value in checked_roles and user.role.value != "admin":
            continue
        checked_roles.add(user.role.value)
        if verify_password(DEMO_PASSWORDS[user.role.value], user.password_hash):
            found.append(user.id)
    return found


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """What `acd serve` is told (see `acd serve --help`)."""

    config: Path
    host: str = "127.0.0.1"
    port: int = 8080
    store: str = "memory"  # or a Redis URL checked by acd.redisstore.connect
    sip: tuple[str, int] | None = ("127.0.0.1", 5060)
    mqtt: Broker | None = None
    node_id: str | None = None
    log_level: str = "info"


def build_app(options: ServeOptions, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    """Everything `acd serve` runs, wired: the application whose lifespan starts the service, then the SIP
    endpoint and the headsets' feed beside it."""
    from acd.api.app import create_app
    from acd.devices import HeadsetFeed
    from acd.service import AcdService

    configuration = load_configuration(options.config)
    deployment = configuration.deployment
    weak = demo_password_users(deployment)
    if weak:
        log.warning(
            "demonstration passwords are in use (users %s and others of their roles): "
            "replace the password_hash entries in %s/users.yaml before real use",
            ", ".join(weak),
            options.config,
        )
    service = AcdService(deployment, clock=clock, shared=_shared_state(options, deployment))
    also: list[Callable[[], AbstractAsyncContextManager[object]]] = []
    routers: list[APIRouter] = []
    if options.sip is not None:
        runner, calls = _sip(service, options.sip, options.config, configuration.flows, clock)
        also.append(runner)
        routers.append(calls)
    if options.mqtt is not None:  # the agents' headsets, as their softphones publish them
        also.append(HeadsetFeed(service, options.mqtt).running)
    return create_app(service, routers=routers, also=also)


def _shared_state(options: ServeOptions, deployment: Deployment) -> SharedState | None:
    if options.store == "memory":
        return None
    from acd.redisstore.client import SharedState

    node = options.node_id or f"{socket.gethostname()}-{options.port}"
    log.info("node %s of deployment %s, state shared in %s", node, deployment.settings.name, options.store)
    return SharedState(options.store, deployment.settings.name, node)


def _sip(
    service: AcdService, address: tuple[str, int], config: Path, flows: dict[str, Flow], clock: Clock
) -> tuple[Callable[[], AbstractAsyncContextManager[object]], APIRouter]:
    """The SIP endpoint (run beside the application) and the calls' routes on its switchboard."""
    from media.api import calls_router
    from media.sip.endpoint import sip_endpoint

    runner, switchboard = sip_endpoint(service, address, config, flows, clock)
    return runner, calls_router(switchboard)


class CannotListen(Exception):
    """An address `acd serve` was given and cannot listen on (in use, or not this host's)."""


def check_sip_address(address: tuple[str, int]) -> None:
    """Refuse, in one sentence and before anything starts, a SIP address this host cannot listen on: once the
    application runs, the endpoint's failure would only show as a traceback of its startup. Port 0 (any free
    one) cannot be in use."""
    host, port = address
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for transport, kind in (("udp", socket.SOCK_DGRAM), ("tcp", socket.SOCK_STREAM)):
        with socket.socket(family, kind) as probe:
            if kind == socket.SOCK_STREAM:  # as the endpoint binds: a connection closing (TIME_WAIT) is no use
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                reason = error.strerror or str(error)
                raise CannotListen(f"SIP cannot listen on {transport} {join_host_port(host, port)}: {reason}") from None


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def serve(options: ServeOptions) -> int:
    """Build the centre and serve it until stopped (SIGINT or SIGTERM); 0 once stopped cleanly."""
    import uvicorn

    from acd.server import AnnouncingServer

    if options.sip is not None:
        check_sip_address(options.sip)
    app = build_app(options)
    # SIGTERM is how a service manager stops the ACD. uvicorn shuts down gracefully, then raises the signal again
    # with the handler it found: the default one would kill the process (status 143) after a clean stop.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    config = uvicorn.Config(app, host=options.host, port=options.port, log_level=options.log_level)
    AnnouncingServer(config).run()
    return 0
