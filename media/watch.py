"""What the switchboard looks at every second: which phones can be rung, and which calls are still alive.

The core is told when an agent's phone registers, unregisters or lets its registration lapse (it offers
no call to a phone that cannot ring). A call whose RTP stopped for the media timeout, or whose session
(RFC 4028) was not refreshed by its deadline, is ended; where the ACD is the session's refresher, it
refreshes it by re-INVITE at half the interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from acd.events import PhoneChanged
from media.calls import Call, CallState
from media.outbound import LegState
from media.sip.session_timer import SessionTimer

if TYPE_CHECKING:
    from media.switchboard import Switchboard

log = logging.getLogger("media.calls")

#: How often phones' registrations and calls' media are looked at.
WATCH_EVERY = 1.0


class Watch:
    def __init__(self, board: Switchboard) -> None:
        self.board = board
        self._phones: set[str] = set()  # agents whose phones the core was last told are registered
        self._nudged = asyncio.Event()

    async def run(self) -> None:
        while True:
            await self._sync_phones()
            now = time.monotonic()
            for call in list(self.board.calls.values()):
                if call.live and call.side is not None:  # answered: its media and session are watched
                    self._check_media(call, now)
                    self._check_session(call, now)
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
        await self.board.submit(PhoneChanged(agent, False))

    async def _sync_phones(self) -> None:
        registered = self.board.registrar.registered()
        for agent in sorted(registered - self._phones):
            if await self.board.submit(PhoneChanged(agent, True)):
                self._phones.add(agent)
        for agent in sorted(self._phones - registered):
            if await self.board.submit(PhoneChanged(agent, False)):
                self._phones.discard(agent)

    async def mark_phones_unregistered(self, agents: list[str]) -> None:
        """At start, no phone is registered here yet: the core is told, so it offers no call before one is."""
        for agent in agents:
            stored = self.board.service.store.agent(agent)
            if stored is not None and stored.phone is not False:
                await self.board.submit(PhoneChanged(agent, False))

    # ------------------------------------------------------------------------------------- calls

    def _check_media(self, call: Call, now: float) -> None:
        limit = self.board.settings.media_timeout
        silent = [("caller", call.media.port)]
        ring = call.ring
        if call.state is CallState.TALKING and ring is not None and ring.state is LegState.ANSWERED:
            silent.append(("agent", ring.side.port))
        for who, port in silent:
            if now - port.heard_at > limit:
                log.info("call %s: no RTP from the %s for %.0f s: ended", call.task, who, limit)
                self.board.spawn(self.board.media_lost(call, who))
                return

    def _check_session(self, call: Call, now: float) -> None:
        """RFC 4028: refresh the session when the ACD is the refresher; end it when nobody did in time."""
        timer = call.timer
        if timer is None:
            return
        if now >= timer.deadline(call.refreshed_at):
            log.info("call %s: its session was not refreshed in %d s: ended", call.task, timer.interval)
            self.board.spawn(self.board.media_lost(call, "session", note="session_expired"))
        elif timer.refresher == "uas" and now >= timer.refresh_at(call.refreshed_at):
            call.refreshed_at = now  # one refresh at a time; its 2xx confirms the session goes on
            self.board.spawn(self._refresh(call, timer))

    async def _refresh(self, call: Call, timer: SessionTimer) -> None:
        extra = (("session-expires", f"{timer.interval};refresher=uas"), ("supported", "timer"))
        response = await self.board.outbound.request(call.dialog, "INVITE", extra, call.answer)
        if response.status in (408, 481):  # the caller is gone (RFC 4028 §10)
            await self.board.media_lost(call, "session", note="session_expired")
