"""Inside an answered call: new offers and refreshes, and keys sent as SIP INFO.

A re-INVITE or UPDATE from the caller refreshes its session (RFC 4028) and is answered with the same
stream; one from the agent's phone that stops listening (sendonly, inactive, c=0.0.0.0) tells call
control the caller is on hold (`LegHeld`). A key in SIP INFO is read here and handed on as a `Key`.
Functions over the call's records: `reply(status, reason, extra, body)` answers the request at hand.
"""

from __future__ import annotations

from collections.abc import Callable

from media import sdp
from media.calls import Call
from media.errors import MediaError
from media.rtp.bridge import DIGITS, Side
from media.sip import session_timer
from media.sip.checks import Request
from media.sip.dialog import Dialog
from media.sip.reasons import reason

Headers = tuple[tuple[str, str], ...]
Reply = Callable[[int, str, Headers, bytes], None]
#: SIP INFO bodies that carry a key (application/dtmf-relay as Cisco and most phones send it).
DTMF_BODIES = ("application/dtmf-relay", "application/dtmf")


def refresh(call: Call, request: Request, host: str, reply: Reply, now: float) -> None:
    """A re-INVITE or UPDATE from the caller: the session is refreshed (RFC 4028 §10), its timer renewed."""
    try:
        timer = session_timer.negotiate(request) or call.timer
    except session_timer.IntervalTooSmall:
        reply(422, reason(422), (("min-se", str(session_timer.MIN_SE)),), b"")
        return
    except MediaError as error:
        reply(error.status, reason(error.status), (), b"")
        return
    call.timer, call.refreshed_at = timer, now
    agreed = timer.headers() if timer is not None else ()
    if request.body:
        reoffer(request, host, call.media, call.dialog, reply, agreed, origin=call.origin)
    else:
        reply(200, reason(200), (("contact", f"<{call.dialog.contact}>"), *agreed), b"")


def reoffer(request: Request, host: str, side: Side, dialog: Dialog, reply: Reply, extra: Headers = (), *,
            origin: sdp.Origin) -> sdp.Stream | None:  # fmt: skip
    """Answer a new offer on the same port; the stream it agrees on, or None (488 sent)."""
    try:
        body, stream = sdp.answer(request.body, host, side.port.local[1], origin)
    except sdp.SdpError as error:
        reply(488, reason(488, error.message), (), b"")
        return None
    reply(200, reason(200), (("contact", f"<{dialog.contact}>"), *extra), body)
    return stream


def info_key(request: Request, reply: Reply) -> str | None:
    """SIP INFO: the key it carries (RFC 6086 with a DTMF body), answered; None for an empty one (a
    keep-alive, answered 200) or one refused (415, 400)."""
    kind = (request.first("content-type") or "").split(";")[0].strip().lower()
    text = request.body.decode("utf-8", "replace")
    if not request.body:
        reply(200, reason(200), (), b"")
        return None
    if kind not in DTMF_BODIES:
        reply(415, reason(415), (("accept", ", ".join(DTMF_BODIES)),), b"")
        return None
    signal = next(
        (line.split("=", 1)[1].strip() for line in text.splitlines() if line.lower().startswith("signal=")), ""
    )
    signal = (signal or text.strip()).upper()
    if len(signal) != 1 or signal not in DIGITS:
        reply(400, reason(400, "no DTMF signal"), (), b"")
        return None
    reply(200, reason(200), (), b"")
    return signal
