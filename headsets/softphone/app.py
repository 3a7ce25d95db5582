"""`acd softphone`: the agent's softphone, put together.

The desk (`desk.py`) decides; around it, each driver is thin: the PJSIP thread (`sip.py`), the sound
devices (`devices.py`, feeding `sound.py`'s queues), the headset's buttons (`buttons.py`), the ACD's API
and event feed (`acd_client.py`), the MQTT publisher (`publisher.py`) and the terminal (`terminal.py`).
Everything the drivers hear goes to `Softphone.hear`, on the event loop; what the desk answers is carried
out by `Softphone.act`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx

from acd.mqtt import Broker
from headsets.hid.protocol import Event as ButtonEvent
from headsets.hid.transport import Transport
from headsets.softphone.acd_client import AcdClient, AcdRefused
from headsets.softphone.buttons import HeadsetButtons, hidraw_named
from headsets.softphone.desk import Desk
from headsets.softphone.devices import HeadsetSound, SoundThread
from headsets.softphone.events import (
    Action,
    ChangeState,
    EndWrapUp,
    Failed,
    Heard,
    Publish,
    Quit,
    Say,
    SetMute,
    ShowLeds,
    Transfer,
    Typed,
)
from headsets.softphone.hotplug import follow_sound_server, follow_udev
from headsets.softphone.publisher import HeadsetPublisher
from headsets.softphone.sip import SipAccount, SipPhone
from headsets.softphone.sound import Sound, webrtc_cleaner
from headsets.softphone.terminal import Terminal, read_lines

log = logging.getLogger("headsets.softphone")
FindButtons = Callable[[], Transport | None]
#: How the headset's buttons are found: the HID telephony headset whose name holds the part the agent gave.
find_buttons: Callable[[str | None], FindButtons] = hidraw_named
SCAN_EVERY = 1.0  # seconds between looks for the headset coming or going, should no event tell


@dataclass(frozen=True, slots=True)
class Options:
    api: str  # the ACD's HTTP address
    user: str
    password: str
    sip: SipAccount
    headset: str | None = None  # a part of the headset's name
    mqtt: Broker | None = None
    ready: bool = False  # log in ready to take calls at once
    clean: bool = False  # noise suppression and gain control (webrtc-noise-gain)
    pulse_server: str | None = None  # PulseAudio's address, if not the session's own


class Softphone:
    def __init__(self, options: Options, desk: Desk, client: AcdClient, terminal: Terminal) -> None:
        self.options, self.desk, self.client, self.terminal = options, desk, client, terminal
        self.loop = asyncio.get_running_loop()
        self.sound = Sound(webrtc_cleaner() if options.clean else None)
        self.devices = HeadsetSound(self.sound, options.headset, options.pulse_server)
        self.sound_thread = SoundThread(self.loop)
        self.phone = SipPhone(options.sip, self.sound, self.loop, self.hear)
        self.buttons: HeadsetButtons | None = None
        self.publisher: HeadsetPublisher | None = None
        self.stopping = asyncio.Event()
        # The API requests under way, owned by the softphone's task group once it runs (`owning`); those asked
        # before wait for it, those asked after it ended are dropped (the agent is leaving).
        self._group: asyncio.TaskGroup | None = None
        self._waiting: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._ended = False
        self._requests: set[asyncio.Task[None]] = set()

    def hear(self, heard: Heard | ButtonEvent) -> None:
        for action in self.desk.handle(heard, self.loop.time()):
            self.act(action)
        self.terminal.show(self.desk, self.loop.time())

    def act(self, action: Action) -> None:
        match action:
            case ShowLeds(leds):
                if self.buttons is not None:
                    self.buttons.show(leds)
            case Publish(state):
                if self.publisher is not None:
                    self.publisher.publish(state)
            case SetMute(muted):
                self.sound.muted = muted
            case Say(text):
                self.terminal.say(text)
            case ChangeState(state, reason):
                self._ask("state", lambda: self.client.change_state(state, reason))
            case EndWrapUp(task):
                self._ask("wrap-up", lambda: self.client.end_wrap_up(task))
            case Transfer(task, target):
                self._ask("transfer", lambda: self.client.transfer(task, target))
            case Quit():
                self.stopping.set()
            case _:
                self.phone.do(action)  # the call's own actions: PJSIP's thread carries them out

    def _ask(self, what: str, request: Callable[[], Awaitable[object]]) -> None:
        """An API request in the background: its answer (or its refusal) comes back to the desk."""

        async def run() -> None:
            try:
                seen = await request()
            except AcdRefused as error:
                self.hear(Failed(what, error.message))
            except httpx.HTTPError as error:
                self.hear(Failed(what, f"the ACD cannot be reached ({error})"))
            else:
                if seen is not None:
                    self.hear(seen)  # type: ignore[arg-type]  # an AgentSeen

        if self._ended:
            log.info("%s not asked: the softphone is leaving", what)
        elif self._group is None:
            self._waiting.append(run)
        else:
            self._start(self._group, run)

    def _start(self, group: asyncio.TaskGroup, request: Callable[[], Coroutine[Any, Any, None]]) -> None:
        task = group.create_task(request())
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)

    @contextlib.asynccontextmanager
    async def owning(self, group: asyncio.TaskGroup) -> AsyncIterator[None]:
        """The API requests belong to `group` while in this block; leaving it cancels those under way."""
        self._group = group
        for request in self._waiting:
            self._start(group, request)
        self._waiting.clear()
        try:
            yield
        finally:
            self._group, self._ended = None, True
            for task in list(self._requests):
                task.cancel()

    async def watch_devices(self, find: FindButtons | None) -> None:
        """Notice the headset coming and going (sound and buttons) without a restart: at once where udev or
        the sound server tells, and at least every SCAN_EVERY seconds anyway. The streams follow the headset in
        the sound thread; while they are being moved or opened, the next move waits for the next look."""
        self.buttons = HeadsetButtons(self.loop, find, self.hear) if find is not None else None
        changed = asyncio.Event()
        followers = [
            follow_udev(self.loop, changed.set),
            follow_sound_server(self.loop, changed.set, self.options.pulse_server) if self.options.headset else None,
        ]
        following: asyncio.Future[bool] | None = None
        try:
            while True:
                changed.clear()  # before the look: what changes during it makes another look at once
                route = await asyncio.to_thread(self.devices.look)  # quick, but I/O: off the loop
                presence = self.devices.change(route)
                if presence is not None:
                    self.hear(presence)  # at once: the streams' move can take longer
                if following is None or following.done():
                    following = self.sound_thread.run(functools.partial(self.devices.follow, route))
                    following.add_done_callback(lambda done: _look_again_if(done, changed))
                if self.buttons is not None:
                    self.buttons.scan()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), SCAN_EVERY)
        finally:
            for stop in followers:
                if stop is not None:
                    stop()

    async def tick(self) -> None:
        while self.terminal.live:
            self.terminal.show(self.desk, self.loop.time())
            await asyncio.sleep(1)


def _look_again_if(following: asyncio.Future[bool], changed: asyncio.Event) -> None:
    """After the streams were moved or opened: look again, the devices may have changed meanwhile."""
    if following.cancelled():
        return
    if following.exception() is not None:
        log.warning("the sound could not follow the headset: %r", following.exception())
    elif following.result():
        changed.set()


async def run(options: Options) -> int:
    """The softphone until the agent quits (q, Ctrl-D, Ctrl-C); 1 when it cannot start, saying why."""
    terminal = Terminal()
    client = AcdClient(options.api)
    try:
        session = await client.log_in(options.user, options.password)
    except (AcdRefused, httpx.HTTPError) as error:
        terminal.say(f"cannot log in to the ACD at {options.api}: {error}")
        await client.close()
        return 1
    desk = Desk(session.agent, device=options.headset)
    softphone = Softphone(options, desk, client, terminal)
    if options.mqtt is not None:
        softphone.publisher = HeadsetPublisher(options.mqtt, session.deployment, session.agent)
    presence = await softphone.sound_thread.run(softphone.devices.start)
    if presence is not None:
        softphone.hear(presence)  # plugged in or not: the ACD knows from the start
    try:
        softphone.phone.start()
    except Exception as error:  # noqa: BLE001 — PJSIP's own Error (a port in use, a bad address): said, then out
        info = getattr(error, "info", None)
        terminal.say(f"the phone cannot start: {info() if callable(info) else error}")
        await client.close()
        return 1
    try:
        seen = await client.join(options.ready)
    except AcdRefused as error:
        if error.status != 409:
            terminal.say(f"the ACD refused to log {session.agent} in: {error.message}")
            softphone.phone.stop()
            await client.close()
            return 1
        seen = await client.agent()  # logged in already (this softphone restarted): carry on as it is
    softphone.hear(seen)
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        softphone.loop.add_signal_handler(signal_number, softphone.stopping.set)
    find = find_buttons(options.headset)
    try:
        async with asyncio.TaskGroup() as group, softphone.owning(group):
            jobs = [
                group.create_task(client.follow(softphone.hear)),
                group.create_task(softphone.watch_devices(find)),
                group.create_task(softphone.tick()),
                group.create_task(read_lines(lambda line: softphone.hear(Typed(line)))),
            ]
            if softphone.publisher is not None:
                jobs.append(group.create_task(softphone.publisher.run()))
            if sys.stdin.isatty():  # Ctrl-D on the agent's terminal: it leaves (not a service's /dev/null)
                jobs[3].add_done_callback(lambda _: softphone.stopping.set())
            await softphone.stopping.wait()
            for job in jobs:
                job.cancel()
    finally:
        await _leave(softphone)
    return 0


async def _leave(softphone: Softphone) -> None:
    """Hang up and unregister, log the agent out, close the devices."""
    softphone.phone.stop()
    if softphone.buttons is not None:
        softphone.buttons.close()
    with contextlib.suppress(TimeoutError):  # a sound library stuck on a vanished device: leave anyway
        await asyncio.wait_for(softphone.sound_thread.run(softphone.devices.close), 5)
    softphone.sound_thread.stop()
    with contextlib.suppress(AcdRefused, httpx.HTTPError):
        await softphone.client.leave()
    await softphone.client.close()
    softphone.terminal.say("logged out")
