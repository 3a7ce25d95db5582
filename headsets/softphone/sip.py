"""The softphone's SIP side: the PJSIP stack (pjsua2) in a thread of its own.

PJSIP wants every call into it from threads it knows, and calls back from the thread that polls it. So
one thread creates the library, polls it (`libHandleEvents`) and runs the desk's actions handed to it
through a queue; what PJSIP says (registration, a call ringing, answered, held, ended) goes to the event
loop through the softphone's one thread bridge (`headsets.threads`).

The wheel is built without a sound device: the conference bridge runs on its own clock at 16 kHz, and
the call's audio goes through an `AudioMediaPort` to the sound path (`headsets.softphone.audio`), frame
by frame (20 ms), in PJSIP's clock thread. G.722 (16 kHz) comes first in what the phone offers; in its
answers the ACD's order counts, and the ACD offers the caller's own codec first (no transcoding).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pjsua2 as pj

from headsets.softphone.events import (
    Action,
    Answer,
    Connected,
    Ended,
    Failed,
    HangUp,
    Heard,
    Held,
    Incoming,
    Registered,
    Reject,
    SendDigits,
    SetHold,
)
from headsets.threads import ThreadBridge

log = logging.getLogger("headsets.sip")

RATE = 16_000  # the conference bridge's clock: G.722's wideband passes whole
FRAME_SAMPLES = RATE // 50  # 20 ms
FRAME_BYTES = FRAME_SAMPLES * 2  # 16-bit mono
POLL_MS = 10
CODEC_PRIORITIES = {"G722/16000": 255, "PCMA/8000": 200, "PCMU/8000": 190}  # the others are not offered
_SUBJECT = re.compile(rb"^(?:Subject|s)[ \t]*:[ \t]*(.*?)\r?$", re.IGNORECASE | re.MULTILINE)
_CALLER = re.compile(r'^\s*(?:"([^"]*)"|([^<"]*?))\s*<?sips?:([^@;>]+)')


class SoundPath(Protocol):
    """Where the call's audio comes from and goes to; called in PJSIP's clock thread every 20 ms."""

    def microphone_frame(self) -> bytes: ...

    def earpiece_frame(self, frame: bytes) -> None: ...


@dataclass(frozen=True, slots=True)
class SipAccount:
    server: str  # host:port of the ACD's registrar
    user: str
    password: str
    domain: str
    transport: str = "udp"
    local_port: int = 0  # 0: any free port

    def registrar(self) -> str:
        return f"sip:{self.server};transport={self.transport}"


def caller_of(remote_uri: str) -> str:
    """The number (or name) to show from a From / remote URI: the display name if any, else the user."""
    match = _CALLER.match(remote_uri)
    if match is None:
        return remote_uri
    return (match.group(1) or match.group(2) or "").strip() or match.group(3)


def subject_of(message: bytes) -> str:
    """The Subject header of a SIP request (the ACD names the queue there), or ''."""
    head = message.split(b"\r\n\r\n", 1)[0]
    match = _SUBJECT.search(head)
    return match.group(1).decode(errors="replace").strip() if match else ""


class SipPhone:
    """The PJSIP thread: registers `account`, rings, answers and carries the desk's call actions."""

    def __init__(
        self, account: SipAccount, sound: SoundPath, loop: asyncio.AbstractEventLoop, on_heard: Callable[[Heard], None]
    ) -> None:
        self.account, self.sound, self.loop, self.on_heard = account, sound, loop, on_heard
        self.bridge = ThreadBridge(loop)
        self._actions: queue.SimpleQueue[Action | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="softphone-sip", daemon=True)
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self.calls: dict[int, _Call] = {}

    def start(self) -> None:
        """Start the stack; raises what stopped it from starting (a port in use, for one)."""
        self._thread.start()
        self._started.wait()
        if self._failure is not None:
            raise self._failure

    def do(self, action: Action) -> None:
        """Carry out one of the desk's call actions, in PJSIP's thread."""
        self._actions.put(action)

    def stop(self) -> None:
        """Hang up, unregister, and close the stack."""
        self._actions.put(None)
        self._thread.join(timeout=10)

    # --- in PJSIP's thread ------------------------------------------------------------------------------

    def tell(self, heard: Heard) -> None:
        self.bridge.post(self.on_heard, heard)

    def _run(self) -> None:
        try:
            endpoint = self._open()
        except Exception as error:  # noqa: BLE001 — handed to start(), which raises it in the caller
            self._failure = error
            self._started.set()
            return
        self._started.set()
        try:
            self._serve(endpoint)
        finally:
            self._close(endpoint)

    def _open(self) -> pj.Endpoint:
        endpoint = pj.Endpoint()
        endpoint.libCreate()
        config = pj.EpConfig()
        config.uaConfig.threadCnt = 0  # polled by this thread only
        config.uaConfig.mainThreadOnly = False
        config.uaConfig.userAgent = "acd-softphone"
        config.logConfig.level = 3
        config.logConfig.consoleLevel = 0  # PJSIP's own chatter would scroll the agent's screen away
        config.medConfig.clockRate = config.medConfig.sndClockRate = RATE
        config.medConfig.channelCount = 1
        endpoint.libInit(config)
        transport = pj.TransportConfig()
        transport.port = self.account.local_port
        kind = pj.PJSIP_TRANSPORT_TCP if self.account.transport == "tcp" else pj.PJSIP_TRANSPORT_UDP
        endpoint.transportCreate(kind, transport)
        endpoint.libStart()
        endpoint.audDevManager().setNullDev()  # no sound device in the wheel: our port carries the audio
        for codec in endpoint.codecEnum2():
            endpoint.codecSetPriority(codec.codecId, next(
                (p for name, p in CODEC_PRIORITIES.items() if codec.codecId.startswith(name)), 0
            ))  # fmt: skip
        self.port = _HeadsetPort(self.sound)
        audio = pj.MediaFormatAudio()
        audio.type, audio.clockRate, audio.channelCount = pj.PJMEDIA_TYPE_AUDIO, RATE, 1
        audio.bitsPerSample, audio.frameTimeUsec = 16, 20_000
        self.port.createPort("headset", audio)
        self.phone = _Account(self)
        self.phone.create(self._account_config())
        return endpoint

    def _account_config(self) -> pj.AccountConfig:
        config = pj.AccountConfig()
        config.idUri = f"sip:{self.account.user}@{self.account.domain}"
        config.regConfig.registrarUri = self.account.registrar()
        config.regConfig.timeoutSec = 300
        config.regConfig.retryIntervalSec = 5  # a restarted ACD finds the agent's phone again within seconds
        config.regConfig.firstRetryIntervalSec = 2
        config.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", self.account.user, 0, self.account.password))
        return config

    def _serve(self, endpoint: pj.Endpoint) -> None:
        while True:
            endpoint.libHandleEvents(POLL_MS)
            while True:
                try:
                    action = self._actions.get_nowait()
                except queue.Empty:
                    break
                if action is None:
                    return
                self._carry_out(action)

    def _carry_out(self, action: Action) -> None:
        call = self.calls.get(getattr(action, "call", -1))
        if call is None:
            return  # the call ended meanwhile: nothing to do to it
        try:
            match action:
                case Answer():
                    call.answer(_status(200))
                case Reject(_, status):
                    call.hangup(_status(status))
                case HangUp():
                    call.hangup(pj.CallOpParam(True))
                case SetHold(_, True):
                    call.setHold(pj.CallOpParam(True))
                case SetHold(_, False):
                    resume = pj.CallOpParam(True)
                    resume.opt.flag = pj.PJSUA_CALL_UNHOLD
                    call.reinvite(resume)
                case SendDigits(_, digits):
                    call.dialDtmf(digits)  # RFC 4733 events in the call's RTP
        except pj.Error as error:
            kind = type(action).__name__.lower().replace("set", "")
            self.tell(Failed(kind, error.reason or error.info()))

    def _close(self, endpoint: pj.Endpoint) -> None:
        endpoint.hangupAllCalls()
        for _ in range(50):  # let the BYEs and the unregistration go out (half a second at most)
            endpoint.libHandleEvents(POLL_MS)
        self.calls.clear()
        try:
            self.phone.shutdown()
        except pj.Error as error:
            log.warning("unregistering: %s", error.info())
        del self.phone
        del self.port  # before the library: a port destroyed after it asserts in the conference bridge
        endpoint.libDestroy()


def _status(code: int) -> pj.CallOpParam:
    parameter = pj.CallOpParam()
    parameter.statusCode = code
    return parameter


class _HeadsetPort(pj.AudioMediaPort):  # type: ignore[misc]
    """Frames between the call and the sound path, in PJSIP's clock thread."""

    def __init__(self, sound: SoundPath) -> None:
        super().__init__()
        self.sound = sound

    def onFrameRequested(self, frame: pj.MediaFrame) -> None:
        frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
        frame.buf = pj.ByteVector(self.sound.microphone_frame())
        frame.size = FRAME_BYTES

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:
        if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO and frame.size:
            self.sound.earpiece_frame(bytes(bytearray(frame.buf)))


class _Account(pj.Account):  # type: ignore[misc]
    def __init__(self, phone: SipPhone) -> None:
        super().__init__()
        self.phone = phone

    def onRegState(self, prm: pj.OnRegStateParam) -> None:
        if prm.code >= 200:
            ok = prm.code == 200 and prm.expiration > 0
            self.phone.tell(Registered(ok, "" if ok else f"{prm.code} {prm.reason}"))

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        call = _Call(self.phone, self, prm.callId)
        self.phone.calls[prm.callId] = call
        info = call.getInfo()
        call.answer(_status(180))  # ringing: the ACD keeps offering until the agent answers or refuses
        self.phone.tell(Incoming(prm.callId, caller_of(info.remoteUri), subject_of(prm.rdata.wholeMsg.encode())))


class _Call(pj.Call):  # type: ignore[misc]
    def __init__(self, phone: SipPhone, account: pj.Account, call_id: int) -> None:
        super().__init__(account, call_id)
        self.phone = phone
        self.call_id = call_id
        self.held = False
        self.connected = False

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED and not self.connected:
            self.connected = True
            self.phone.tell(Connected(self.call_id))
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.phone.tell(Ended(self.call_id, _why(info, self.connected)))
            self.phone.calls.pop(self.call_id, None)  # PJSIP is done with it: the last reference goes

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        info = self.getInfo()  # kept while its media vector is read: the vector dies with it (SWIG)
        for index, media in enumerate(info.media):
            if media.type != pj.PJMEDIA_TYPE_AUDIO:
                continue
            held = media.status == pj.PJSUA_CALL_MEDIA_LOCAL_HOLD
            if media.status in (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD):
                stream = self.getAudioMedia(index)
                stream.startTransmit(self.phone.port)
                self.phone.port.startTransmit(stream)
            if held != self.held:
                self.held = held
                self.phone.tell(Held(self.call_id, held))


def _why(info: Any, connected: bool) -> str:
    if connected:
        return "hung up" if info.lastStatusCode in (200, 0) else f"{info.lastStatusCode} {info.lastReason}"
    return f"{info.lastStatusCode} {info.lastReason}" if info.lastStatusCode else ""
