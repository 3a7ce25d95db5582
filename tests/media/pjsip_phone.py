"""An agent's softphone on the PJSIP stack (pjsua2), run by the tests as a process of its own (PJSIP
keeps global state). It registers, prints `registered <code> <expires>` and, with --unregister, then
unregisters and prints `unregistered <code>`. Its SIP log (level 5: every message) goes to --log.

    python tests/media/pjsip_phone.py --server 127.0.0.1:5060 --transport udp --user U --password P --log F
"""

from __future__ import annotations

import argparse
import sys
import time

import pjsua2 as pj

TRANSPORTS = {"udp": pj.PJSIP_TRANSPORT_UDP, "tcp": pj.PJSIP_TRANSPORT_TCP}


class Phone(pj.Account):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.outcome: tuple[int, int] | None = None

    def onRegState(self, prm: pj.OnRegStateParam) -> None:  # pjsua2 names its callbacks
        if prm.code >= 200:
            self.outcome = (prm.code, prm.expiration)


def wait(endpoint: pj.Endpoint, phone: Phone, seconds: float = 15.0) -> tuple[int, int]:
    deadline = time.monotonic() + seconds
    while phone.outcome is None and time.monotonic() < deadline:
        endpoint.libHandleEvents(20)
    return phone.outcome or (0, 0)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--transport", choices=sorted(TRANSPORTS), default="udp")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--domain", default="acd.demo")
    parser.add_argument("--unregister", action="store_true")
    parser.add_argument("--log", required=True, help="where PJSIP writes its log, every message included")
    args = parser.parse_args()

    endpoint = pj.Endpoint()
    endpoint.libCreate()
    config = pj.EpConfig()
    config.uaConfig.threadCnt = 0
    config.uaConfig.mainThreadOnly = True
    config.logConfig.level = 5
    config.logConfig.consoleLevel = 0  # the log goes to its file; stdout says only the outcome
    config.logConfig.filename = args.log
    endpoint.libInit(config)
    endpoint.transportCreate(TRANSPORTS[args.transport], pj.TransportConfig())
    endpoint.libStart()
    endpoint.audDevManager().setNullDev()  # no sound card here: the registration needs none

    account = pj.AccountConfig()
    account.idUri = f"sip:{args.user}@{args.domain}"
    account.regConfig.registrarUri = f"sip:{args.server};transport={args.transport}"
    account.regConfig.timeoutSec = 300
    account.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", args.user, 0, args.password))
    phone = Phone()
    phone.create(account)
    code, expires = wait(endpoint, phone)
    print(f"registered {code} {expires}", flush=True)
    if args.unregister and code == 200:
        phone.outcome = None
        phone.setRegistration(False)
        print(f"unregistered {wait(endpoint, phone)[0]}", flush=True)
    phone.shutdown()
    endpoint.libDestroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
