"""`acd softphone`: its options, and the passwords asked where they are not given.

    acd softphone --server acd.example:5060 --user cmartin --headset evolve [--mqtt mqtt://broker]

The agent's API password is read from ACD_PASSWORD, its phone's SIP password from ACD_SIP_PASSWORD;
either is asked on the terminal when not set (never on the command line, where `ps` shows it).
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import getpass
import logging
import os
import signal

from acd.hostport import AddressError, join_host_port, parse_host_port
from acd.mqtt import broker_option

SIP_PORT = 5060


def _server(text: str) -> str:
    try:
        return join_host_port(*parse_host_port(text, default_port=SIP_PORT))
    except AddressError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _headset(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("the headset's name part is empty: it would match every device")
    return text.strip()


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    phone = commands.add_parser("softphone", help="the agent's softphone, with its headset's buttons")
    phone.add_argument("--server", required=True, type=_server, help="the ACD's SIP address, host[:port] (5060)")
    phone.add_argument("--user", required=True, help="the agent's user (for the API and, by default, for SIP)")
    phone.add_argument("--api", help="the ACD's HTTP address (default: http://<server's host>:8080)")
    phone.add_argument("--sip-user", help="the user the phone registers as (default: --user)")
    phone.add_argument("--domain", default="acd.demo", help="the SIP domain of the phone's address (acd.demo)")
    phone.add_argument("--transport", choices=["udp", "tcp"], default="udp")
    phone.add_argument("--headset", type=_headset, help="a part of the headset's name, e.g. evolve (default: none)")
    phone.add_argument("--mqtt", type=broker_option, help="where to publish the headset's state: mqtt://host[:port]")
    phone.add_argument("--ready", action="store_true", help="take calls at once (default: log in not ready)")
    phone.add_argument("--noise-suppression", action="store_true", help="clean the microphone (webrtc-noise-gain)")
    phone.add_argument("--pulse-server", help="the sound server (default: the session's own)")
    phone.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from headsets.softphone.app import Options  # PJSIP and the sound libraries: only for the softphone
    from headsets.softphone.app import run as run_softphone
    from headsets.softphone.sip import SipAccount

    if args.noise_suppression:
        try:
            import webrtc_noise_gain  # noqa: F401
        except ImportError:
            print(
                "acd softphone: --noise-suppression needs the webrtc-noise-gain package (bash install.sh installs it)"
            )
            return 1
    faulthandler.register(signal.SIGUSR1)  # kill -USR1: every thread's stack, for a softphone that seems stuck
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would bury the agent's screen
    password = os.environ.get("ACD_PASSWORD") or getpass.getpass(f"{args.user}'s password: ")
    sip_user = args.sip_user or args.user
    sip_password = os.environ.get("ACD_SIP_PASSWORD") or getpass.getpass(f"{sip_user}'s phone password: ")
    host, _ = parse_host_port(args.server)
    options = Options(
        api=args.api or f"http://{join_host_port(host, 8080)}",
        user=args.user,
        password=password,
        sip=SipAccount(args.server, sip_user, sip_password, args.domain, args.transport),
        headset=args.headset,
        mqtt=args.mqtt,
        ready=args.ready,
        clean=args.noise_suppression,
        pulse_server=args.pulse_server,
    )
    return asyncio.run(run_softphone(options))
