"""What the ACD answers to a request that passed the checks and belongs to no call yet.

OPTIONS says what this server does; an INVITE to a number the deployment does not serve gets 404, and
while the shared store cannot be reached a call gets 503 with Retry-After (it would be lost otherwise);
any other INVITE to a served number goes to the switchboard (`on_call`) with the queue it enters;
REGISTER goes to the registrar (digest authentication, SHA-256 or MD5); a BYE, CANCEL or other
in-dialog request for no known call gets 481; ACK gets nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from media.calls import Destination
from media.sip.checks import ACCEPTED_BODIES, ALLOWED, SUPPORTED, Request
from media.sip.reasons import reason
from media.sip.registrar import Registrar
from media.sip.responses import answer
from media.sip.transport import Source

RETRY_AFTER = 30  # seconds a caller is told to wait while the store cannot be reached


class FrontDoor:
    def __init__(
        self,
        registrar: Registrar,
        numbers: Mapping[str, Destination],
        store_available: Callable[[], bool],
        on_call: Callable[[Request, Source, Destination], None] | None = None,
        on_register: Callable[[], None] | None = None,
    ) -> None:
        self.registrar = registrar
        self.numbers = numbers  # dialled number -> the queue or IVR flow its calls enter
        self.store_available = store_available
        self.on_call = on_call  # takes a call to a number, with where it leads, and answers it
        self.on_register = on_register

    def __call__(self, request: Request, source: Source) -> None:
        reply = self.reply(request, source)
        if reply is not None:
            source.send(reply)

    def reply(self, request: Request, source: Source) -> bytes | None:
        method = request.method
        if method == "ACK":
            return None
        if method == "OPTIONS":
            extra: tuple[tuple[str, str], ...] = (("allow", ", ".join(ALLOWED)), ("accept", ", ".join(ACCEPTED_BODIES)))
            if SUPPORTED:
                extra += (("supported", ", ".join(sorted(SUPPORTED))),)
            return answer(request, 200, reason(200), extra)
        if method == "REGISTER":
            outcome = self.registrar.register(request, source.transport, source.address)
            if outcome.status == 200 and self.on_register is not None:
                self.on_register()
            return answer(request, outcome.status, outcome.reason, outcome.headers)
        if method == "INVITE":
            if _dialled(request.uri) not in self.numbers:
                return answer(request, 404, reason(404))
            if not self.store_available():
                return answer(request, 503, reason(503), (("retry-after", str(RETRY_AFTER)),))
            if self.on_call is None:
                return answer(request, 480, reason(480))
            self.on_call(request, source, self.numbers[_dialled(request.uri)])
            return None
        return answer(request, 481, reason(481))


def _dialled(uri: str) -> str:
    """The number a Request-URI dials: its user part (sip:+33384…@host;params), or a tel: URI's number."""
    rest = uri.split(":", 1)[1]
    user = rest.split("@", 1)[0] if "@" in rest else rest
    return user.split(";", 1)[0]
