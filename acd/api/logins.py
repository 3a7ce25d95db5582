"""The log-in's driver: the limits read before any password is checked, a few checks at once, failures
counted and written to the event log.

A password check is scrypt, about 80 ms of a core by design, in a thread beside the event loop that
relays the calls' audio. So: an attempt past a limit (acd/logins.py) is refused 429 before scrypt runs;
at most `login_checks_at_once` checks run at once, the others wait their turn (at most MAX_WAITING of them,
beyond which 503); and the limits are read again once an attempt's turn comes, so that attempts that
queued together cannot all slip past the limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from acd.auth import Directory, InvalidCredentials, LoginsBusy, Principal, TooManyAttempts
from acd.errors import AcdError
from acd.events import LoginFailed
from acd.logins import AttemptStore, LoginLimits, keys, user_key
from acd.service import AcdService

log = logging.getLogger("acd")

#: Log-ins a node lets wait for a password check; more at once are refused 503 (try again in a second).
MAX_WAITING = 64
#: What the event log says of an attempt whose source address is unknown (a unix socket).
UNKNOWN_ADDRESS = "unknown"


class LoginGuard:
    """Checks log-ins for the API within the limits; one per node."""

    def __init__(
        self,
        service: AcdService,
        limits: LoginLimits,
        attempts: AttemptStore,
        checks_at_once: int,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        self.service = service
        self.limits = limits
        self.attempts = attempts
        self.max_waiting = max_waiting
        self._checks = asyncio.Semaphore(checks_at_once)
        self._waiting = 0

    async def authenticate(self, directory: Directory, user: str, password: str, address: str | None) -> Principal:
        """The principal; InvalidCredentials (counted and logged), TooManyAttempts or LoginsBusy otherwise."""
        address = (address or UNKNOWN_ADDRESS)[:128]
        await self._refuse_if_limited(user, address)  # refused at once, not after waiting for a turn
        try:
            principal = await self._check(directory.authenticate, user, password, address)
        except InvalidCredentials:
            await self._audit(LoginFailed(user, address))
            raise
        await self.attempts.clear(user_key(user))
        return principal

    async def _check(
        self, authenticate: Callable[[str, str], Principal], user: str, password: str, address: str
    ) -> Principal:
        if self._waiting >= self.max_waiting:
            raise LoginsBusy("too many log-ins at once: try again in a second", retry_after=1)
        self._waiting += 1
        try:
            await self._checks.acquire()
        finally:
            self._waiting -= 1
        try:
            await self._refuse_if_limited(user, address)  # the failures of those ahead in the queue count
        except BaseException:
            self._checks.release()
            raise
        running = asyncio.get_running_loop().run_in_executor(None, authenticate, user, password)
        given_back_later = False
        try:
            try:
                return await asyncio.shield(running)
            except InvalidCredentials:
                await self.attempts.fail(keys(user, address), self.service.clock.time(), self.limits.window)
                raise  # the turn is given back after the failure is counted: the next in line reads it
        except asyncio.CancelledError:
            if not running.done():
                # The client went away mid-check: the turn is given back when the check ends in its thread,
                # or one more scrypt would start beside the one still running.
                running.add_done_callback(self._check_ended)
                given_back_later = True
            raise
        finally:
            if not given_back_later:
                self._checks.release()

    def _check_ended(self, check: asyncio.Future[Principal]) -> None:
        self._checks.release()
        if not check.cancelled():
            check.exception()  # taken: its caller may have gone, and asyncio would report it unread

    async def _refuse_if_limited(self, user: str, address: str) -> None:
        now = self.service.clock.time()
        refusal = self.limits.refusal(user, address, await self.attempts.read(keys(user, address), now), now)
        if refusal is None:
            return
        if await self.attempts.first_refusal(refusal.key, now):  # one entry per window, however many attempts
            log.warning("log-ins refused for %s s: too many failures of %s", refusal.retry_after, refusal.key)
            await self._audit(LoginFailed(user, address, refusal.limit))
        raise TooManyAttempts(
            f"too many failed log-ins for this {refusal.limit}: try again in {refusal.retry_after} s",
            retry_after=refusal.retry_after,
            limit=refusal.limit,
        )

    async def _audit(self, event: LoginFailed) -> None:
        try:
            await self.service.submit(event)
        except AcdError as error:  # the answer to the attempt matters more than its entry in the log
            log.warning("log-in of %r from %s not written to the event log: %s", event.user, event.address, error)
