"""What the switchboard looks at every second: which phones can be rung, and which calls are still alive.

The core is told when an agent's phone registers, unregisters or lets its registration lapse (it offers
no call to a phone that cannot ring). A call whose RTP stopped for the media timeout, or whose session
(RFC 4028) was not refreshed by its deadline, is reported to call control (`MediaLost`); where the ACD is
the session's refresher, it refreshes it by re-INVITE at half the interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from acd.clock import SYSTEM_CLOCK, Clock
from acd.events import Event, PhoneChanged
from media.calls import Call, CallState
from media.control import events as ev
from media.sip.checks import Response
from media.sip.dialog import Dialog
from media.sip.invite_client import LegState
from media.sip.session_timer import SessionTimer

log = logging.getLogger("media.calls")

#: How often phones' registrations and calls' media are looked at.
WATCH_EVERY = 1.0
#: The states in which an agent's RTP is watched beside the caller's: the two are bridged.
_BRIDGED = frozenset({CallState.TALKING})
Request = Callable[[Dialog, str, tuple[tuple[str, str], ...], bytes], Awaitable[Response]]


class Watch:
    """`registered()`: the agents with a phone here now; `submit` tells the core; `calls()` the calls held;
    `feed` tells call control; `request` sends a request in a dialog; `spawn` runs (and owns) work."""

    def __init__(
        self,
        registered: Callable[[], set[str]],
        submit: Callable[[Event], Awaitable[bool]],
        calls: Callable[[], Iterable[Call]],
        feed: Callable[[ev.CallEvent], None],
        request: Request,
        spawn: Callable[[Coroutine[Any, Any, Any]], None],
        media_timeout: float,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._registered = registered
        self._submit = submit
        self._calls = calls
        self._feed = feed
        self._request = request
        self._spawn = spawn
        self.media_timeout = media_timeout
        self.clock = clock
        self._phones: set[str] = set()  # agents whose phones the core was last told are registered
        self._nudged = asyncio.Event()

    async def run(self) -> None:
        while True:
            await self._sync_phones()
            now = self.clock.monotonic()
            for call in list(self._calls()):
                if call.live and call.side is not None and not self._check_media(call, now):
                    self._check_session(call, now)  # answered: its media, then its session, are watched
            self._nudged.clear()
            # asyncio.timeout, not wait_for: on 3.11 wait_for drops a cancellation that comes as a nudge
            # arrives (CPython gh-86296), and the watch would then go on after shutdown.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(WATCH_EVERY):
                    await self._nudged.wait()

    # ------------------------------------------------------------------------------------ phones

    def phones_changed(self) -> None:
        """A REGISTER was answered: tell the core now rather than at the next look."""
        self._nudged.set()

    async def phone_lost(self, agent: str) -> None:
        """The phone the core offered a call to has no registration here any more."""
        self._phones.discard(agent)
        await self._submit(PhoneChanged(agent, False))

    async def _sync_phones(self) -> None:
        registered = self._registered()
        for agent in sorted(registered - self._phones):
            if await self._submit(PhoneChanged(agent, True)):
                self._phones.add(agent)
        for agent in sorted(self._phones - registered):
            if await self._submit(PhoneChanged(agent, False)):
                self._phones.discard(agent)

    async def mark_phones_unregistered(self, agents: Iterable[tuple[str, bool | None]]) -> None:
        """At start, no phone is registered here yet: the core is told, so it offers no call before one is.
        `agents`: each agent with what the core last knew of its phone."""
        for agent, phone in agents:
            if phone is not False:
                await self._submit(PhoneChanged(agent, False))

    # ------------------------------------------------------------------------------------- calls

    def _check_media(self, call: Call, now: float) -> bool:
        silent = [("caller", call.media.port)]
        agent = call.record.agent_leg
        leg = call.legs.get(agent.id) if agent is not None else None
        if call.state in _BRIDGED and leg is not None and leg.state is LegState.ANSWERED:
            silent.append(("agent", leg.side.port))
        for who, port in silent:
            if now - port.heard_at > self.media_timeout:
                log.info("call %s: no RTP from the %s for %.0f s: ended", call.task, who, self.media_timeout)
                self._feed(ev.MediaLost(call.dialog.call_id, "media_timeout", who))
                return True
        return False

    def _check_session(self, call: Call, now: float) -> bool:
        """RFC 4028: refresh the session when the ACD is the refresher; end it when nobody did in time."""
        timer = call.timer
        if timer is None:
            return False
        if now >= timer.deadline(call.refreshed_at):
            log.info("call %s: its session was not refreshed in %d s: ended", call.task, timer.interval)
            self._feed(ev.MediaLost(call.dialog.call_id, "session_expired", "session"))
            return True
        if timer.refresher == "uas" and now >= timer.refresh_at(call.refreshed_at):
            call.refreshed_at = now  # one refresh at a time; its 2xx confirms the session goes on
            self._spawn(self._refresh(call, timer))
        return False

    async def _refresh(self, call: Call, timer: SessionTimer) -> None:
        extra = (("session-expires", f"{timer.interval};refresher=uas"), ("supported", "timer"))
        response = await self._request(call.dialog, "INVITE", extra, call.answer)
        if response.status in (408, 481) and call.live:  # the caller is gone (RFC 4028 §10)
            self._feed(ev.MediaLost(call.dialog.call_id, "session_expired", "session"))
