"""Inside an answered call: new offers and refreshes, hold and resume, keys sent as SIP INFO.

A re-INVITE or UPDATE from the caller refreshes its session (RFC 4028) and is answered with the same
stream; one from the agent's phone that stops listening (sendonly, inactive, c=0.0.0.0) puts the
caller on hold with music until the next one resumes the bridge. A key pressed on either side is an
event of the core (`task_noted`, reason `dtmf`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from acd.events import TaskNoted
from media import sdp
from media.calls import Call, CallState
from media.errors import MediaError
from media.outbound import Leg
from media.rtp.bridge import DIGITS, Side
from media.sip import session_timer
from media.sip.checks import Request
from media.sip.dialog import Dialog, tag_of
from media.sip.transport import Source

if TYPE_CHECKING:
    from media.switchboard import Switchboard

_REASONS = {400: "Bad Request", 488: "Not Acceptable Here", 500: "Server Internal Error"}
#: SIP INFO bodies that carry a key (application/dtmf-relay as Cisco and most phones send it).
DTMF_BODIES = ("application/dtmf-relay", "application/dtmf")


class MidCall:
    def __init__(self, board: Switchboard) -> None:
        self.board = board

    def refreshed(self, call: Call, request: Request, source: Source) -> None:
        """A re-INVITE or UPDATE from the caller: the session is refreshed (RFC 4028 §10), its timer renewed."""
        tag = tag_of(call.dialog.local)
        try:
            timer = session_timer.negotiate(request) or call.timer
        except session_timer.IntervalTooSmall:
            self.board.reply(
                request, source, 422, "Session Interval Too Small", (("min-se", str(session_timer.MIN_SE)),), tag=tag
            )
            return
        except MediaError as error:
            self.board.reply(request, source, error.status, _REASONS.get(error.status, "Bad Request"), tag=tag)
            return
        call.timer, call.refreshed_at = timer, time.monotonic()
        agreed = timer.headers() if timer is not None else ()
        if request.body:
            self.reoffer(request, source, call.media, call.dialog, call.origin, agreed)
        else:
            self.board.reply(request, source, 200, "OK", (("contact", f"<{call.dialog.contact}>"), *agreed), tag=tag)

    def reoffer(self, request: Request, source: Source, side: Side, dialog: Dialog, origin: sdp.Origin,
                extra: tuple[tuple[str, str], ...] = ()) -> sdp.Stream | None:  # fmt: skip
        """Answer a new offer on the same port; the stream it agrees on, or None (488 sent)."""
        port = side.port.local[1]
        try:
            body, stream = sdp.answer(request.body, self.board.settings.host, port, origin)
        except sdp.SdpError as error:
            self.board.reply(request, source, 488, f"Not Acceptable Here ({error.message})", tag=tag_of(dialog.local))
            return None
        contact = (("contact", f"<{dialog.contact}>"), *extra)
        self.board.reply(request, source, 200, "OK", contact, body, tag=tag_of(dialog.local))
        return stream

    def hold_or_resume(self, call: Call, leg: Leg, stream: sdp.Stream) -> None:
        """The agent's phone re-offered: on hold (the caller hears music), or back (bridged again)."""
        board = self.board
        leg.side = Side(leg.side.port, stream)
        if call.bridge is not None:
            call.bridge.close()
            call.bridge = None
        if stream.on_hold:
            call.state = CallState.HELD
            board.music.play(call.media.port, call.media.stream.payload_type)
            board.spawn(board.submit(TaskNoted(call.task, "hold")))
        else:
            if stream.address[0] not in ("0.0.0.0", "::"):
                leg.side.port.expect(stream.address)
            call.state = CallState.TALKING
            board.music.stop(call.media.port)
            board.join(call, leg)
            board.spawn(board.submit(TaskNoted(call.task, "resume")))

    def info(self, call: Call, who: str, request: Request, source: Source) -> None:
        """SIP INFO: a key (RFC 6086 with a DTMF body); an empty one (a keep-alive) is just answered."""
        kind = (request.first("content-type") or "").split(";")[0].strip().lower()
        text = request.body.decode("utf-8", "replace")
        if not request.body:
            self.board.reply(request, source, 200, "OK")
            return
        if kind not in DTMF_BODIES:
            self.board.reply(request, source, 415, "Unsupported Media Type", (("accept", ", ".join(DTMF_BODIES)),))
            return
        signal = next(
            (line.split("=", 1)[1].strip() for line in text.splitlines() if line.lower().startswith("signal=")), ""
        )
        signal = (signal or text.strip()).upper()
        if len(signal) != 1 or signal not in DIGITS:
            self.board.reply(request, source, 400, "Bad Request (no DTMF signal)")
            return
        self.board.reply(request, source, 200, "OK")
        self.digit(call, who, signal)

    def digit(self, call: Call, who: str, digit: str) -> None:
        """A key pressed: to the call's IVR flow if it has one, and in its task's events if it has a task."""
        if who == "caller" and call.flow is not None:
            self.board.attendant.digit(call, digit)
        if call.state is not CallState.IVR:
            self.board.spawn(self.board.submit(TaskNoted(call.task, "dtmf", {"digit": digit, "from": who})))
