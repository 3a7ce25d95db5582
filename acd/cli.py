"""The `acd` command: `serve` starts the centre, `check-config` validates a configuration, `softphone` is
the agent's phone."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from pathlib import Path

from acd.deployment import ConfigError, load_deployment
from acd.hostport import AddressError, parse_host_port
from acd.mqtt import broker_option
from acd.serve import DEMO_PASSWORDS, CannotListen, ServeOptions, load_configuration, serve
from headsets.softphone.cli import add_parser as add_softphone
from ivr.synthesis import SpeechError

__all__ = ["DEMO_CONFIG", "DEMO_PASSWORDS", "main", "parser"]

#: The demonstration deployment shipped beside the package (config/ at the top of the project).
DEMO_CONFIG = Path(__file__).resolve().parent.parent / "config"
log = logging.getLogger("acd")


def _serve(args: argparse.Namespace) -> int:
    options = ServeOptions(
        config=Path(args.config),
        host=args.host,
        port=args.port,
        store=args.store,
        sip=args.sip,
        mqtt=args.mqtt,
        node_id=args.node_id,
        log_level=args.log_level,
    )
    return serve(options)


def _sip_address(text: str) -> tuple[str, int] | None:
    if text == "off":
        return None
    try:
        return parse_host_port(text, free=True)
    except AddressError as error:
        raise argparse.ArgumentTypeError(f"{error} (nor 'off')") from None


def _check_config(args: argparse.Namespace) -> int:
    deployment = load_configuration(Path(args.directory)).deployment
    print(
        f"{args.directory}: valid: {len(deployment.sites)} sites, {len(deployment.teams)} teams, "
        f"{len(deployment.agents)} agents, {len(deployment.queues)} queues, {len(deployment.users)} users"
    )
    return 0


def _read_password() -> str | None:
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    else:
        # Bytes, not the locale's text: under a strict UTF-8 locale a non-UTF-8 byte would raise; as a lone
        # surrogate it hashes as acd.auth hashes it everywhere.
        password = sys.stdin.buffer.readline().decode("utf-8", "surrogateescape").rstrip("\r\n")
    if not password:
        print("acd: empty password", file=sys.stderr)
        return None
    return password


def _hash_password(args: argparse.Namespace) -> int:
    from acd.auth import hash_password

    password = _read_password()
    if password is None:
        return 2
    print(hash_password(password))
    return 0


def _sip_ha1(args: argparse.Namespace) -> int:
    from media.sip.digest import ALGORITHMS, ha1

    realm = load_deployment(Path(args.config)).settings.sip_realm
    password = _read_password()
    if password is None:
        return 2
    digests = ", ".join(f"{algorithm}: {ha1(algorithm, args.user, realm, password)}" for algorithm in ALGORITHMS)
    print(f"ha1: {{{digests}}}")
    return 0


def _store_url(text: str) -> str:
    from acd.redisstore.connect import check_store_url

    if text == "memory":
        return text
    try:
        return check_store_url(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{error} (nor 'memory')") from None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="acd", description="Contact-centre automatic call distributor")
    commands = top.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the ACD (HTTP API and queue core)")
    serve.add_argument("--config", default=str(DEMO_CONFIG), help="configuration directory (default: the demo)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--store",
        default="memory",
        type=_store_url,
        help="where the state lives: memory (this process only, the default) or redis://host:port/db, "
        "rediss://…, unix:///path/redis.sock or redis+sentinel://host:port[,host:port…]/service[/db], "
        "shared by every node of the deployment",
    )
    serve.add_argument(
        "--sip",
        default="127.0.0.1:5060",
        type=_sip_address,
        help="where SIP listens, on UDP and TCP: host:port (default 127.0.0.1:5060; port 0: a free one), or off",
    )
    serve.add_argument(
        "--mqtt",
        type=broker_option,
        help="an MQTT broker (mqtt://[user:password@]host[:port] or mqtts://…) where the agents' softphones publish "
        "their headsets' state: an unplugged headset makes its agent not ready (default: none)",
    )
    serve.add_argument("--node-id", help="this node's name among the deployment's nodes (default: host-port)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(run=_serve)
    check = commands.add_parser("check-config", help="validate a configuration directory")
    check.add_argument("directory")
    check.set_defaults(run=_check_config)
    hashing = commands.add_parser("hash-password", help="print the password_hash of a password read on stdin")
    hashing.set_defaults(run=_hash_password)
    digest = commands.add_parser("sip-ha1", help="print the HA1s of a phone's password read on stdin (phones.yaml)")
    digest.add_argument("user", help="the user the phone registers as")
    digest.add_argument("--config", default=str(DEMO_CONFIG), help="configuration whose sip_realm to use")
    digest.set_defaults(run=_sip_ha1)
    add_softphone(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ConfigError as error:
        print(f"acd: configuration refused:\n{error}", file=sys.stderr)
        return 1
    except SpeechError as error:  # the IVR's prompts cannot be spoken: no caller should meet silence
        print(f"acd: the IVR's prompts cannot be made: {error}", file=sys.stderr)
        return 1
    except CannotListen as error:
        print(f"acd: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
