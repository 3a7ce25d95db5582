"""A softphone on the PJSIP stack (pjsua2), run by the tests as a process of its own (PJSIP keeps global
state). Its SIP log (level 5: every message) goes to --log; stdout says only what happened.

As an agent's phone it registers and prints `registered <code> <expires>`; with --unregister it then
unregisters (`unregistered <code>`); with --answer it waits for the ACD to ring it, answers, plays a tone
of --tone Hz into the call, records what it hears to --record, and prints `call ended` when the ACD hangs
up. As a caller (--call NUMBER) it calls the ACD without registering, plays its tone, records, and hangs
up after --seconds. --codec keeps one codec only (PCMU, PCMA or G722), to make the ACD transcode.

    python tests/media/pjsip_phone.py --server 127.0.0.1:5060 --user U --password P --log F [--answer ...]
"""

from __future__ import annotations

import argparse
import sys
import time

import pjsua2 as pj

TRANSPORTS = {"udp": pj.PJSIP_TRANSPORT_UDP, "tcp": pj.PJSIP_TRANSPORT_TCP}
CODECS = {"PCMU": "PCMU/8000", "PCMA": "PCMA/8000", "G722": "G722/16000"}


class Phone(pj.Account):  # type: ignore[misc]
    def __init__(self, audio: Audio | None = None) -> None:
        super().__init__()
        self.outcome: tuple[int, int] | None = None
        self.audio = audio
        self.call: Call | None = None

    def onRegState(self, prm: pj.OnRegStateParam) -> None:  # pjsua2 names its callbacks
        if prm.code >= 200:
            self.outcome = (prm.code, prm.expiration)

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        call = Call(self, self.audio, prm.callId)
        answer = pj.CallOpParam()
        answer.statusCode = 200
        call.answer(answer)
        self.call = call


class Audio:
    """A tone to send and a recorder for what comes back, joined to a call once its media is up."""

    def __init__(self, frequency: int, record: str) -> None:
        self.tone = pj.ToneGenerator()
        self.tone.createToneGenerator()
        description = pj.ToneDesc()
        description.freq1, description.freq2 = frequency, 0
        description.on_msec, description.off_msec, description.volume = 1000, 0, 0
        tones = pj.ToneDescVector()
        tones.append(description)
        self.tone.play(tones, True)
        self.recorder = pj.AudioMediaRecorder()
        self.recorder.createRecorder(record)

    def close(self) -> None:
        del self.recorder
        del self.tone


class Call(pj.Call):  # type: ignore[misc]
    def __init__(self, account: pj.Account, audio: Audio | None, call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(account, call_id)
        self.audio = audio
        self.ended = False
        self.connected_at: float | None = None

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        state = self.getInfo().state
        if state == pj.PJSIP_INV_STATE_CONFIRMED and self.connected_at is None:
            self.connected_at = time.monotonic()
        if state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.ended = True

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        if self.audio is None:
            return
        info = self.getInfo()  # kept: its media vector dies with it (SWIG)
        for index, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                stream = self.getAudioMedia(index)
                self.audio.tone.startTransmit(stream)
                stream.startTransmit(self.audio.recorder)


def wait(endpoint: pj.Endpoint, done: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:  # type: ignore[operator]
        endpoint.libHandleEvents(20)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--transport", choices=sorted(TRANSPORTS), default="udp")
    parser.add_argument("--user", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--domain", default="acd.demo")
    parser.add_argument("--unregister", action="store_true")
    parser.add_argument("--answer", action="store_true", help="wait for the ACD's call and answer it")
    parser.add_argument("--call", help="a number to call (as a caller on the trunk)")
    parser.add_argument("--seconds", type=float, default=8.0, help="how long the caller stays")
    parser.add_argument("--tone", type=int, default=1000)
    parser.add_argument("--record", help="a WAV file for what the phone hears")
    parser.add_argument("--codec", choices=sorted(CODECS), help="the only codec the phone offers and accepts")
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
    endpoint.audDevManager().setNullDev()  # no sound card here: the conference bridge runs on its own clock
    if args.codec:
        for codec in endpoint.codecEnum2():
            endpoint.codecSetPriority(codec.codecId, 255 if codec.codecId.startswith(CODECS[args.codec]) else 0)
    audio = Audio(args.tone, args.record) if args.record else None

    if args.call:
        account = pj.AccountConfig()
        account.idUri = "sip:0384000000@caller.example"
        phone = Phone(audio)
        phone.create(account)
        call = Call(phone, audio)
        call.makeCall(f"sip:{args.call}@{args.server};transport={args.transport}", pj.CallOpParam(True))
        wait(endpoint, lambda: call.ended or call.connected_at is not None, 15)
        wait(endpoint, lambda: call.ended, args.seconds)
        print("call ended by the ACD" if call.ended else "call hung up", flush=True)
        if not call.ended:
            call.hangup(pj.CallOpParam(True))
            wait(endpoint, lambda: call.ended, 5)
        del call  # before the library goes: a call destroyed after it asserts
    else:
        account = pj.AccountConfig()
        account.idUri = f"sip:{args.user}@{args.domain}"
        account.regConfig.registrarUri = f"sip:{args.server};transport={args.transport}"
        account.regConfig.timeoutSec = 300
        account.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", args.user, 0, args.password))
        phone = Phone(audio)
        phone.create(account)
        wait(endpoint, lambda: phone.outcome is not None, 15)
        code, expires = phone.outcome or (0, 0)
        print(f"registered {code} {expires}", flush=True)
        if args.answer and code == 200:
            wait(endpoint, lambda: phone.call is not None and phone.call.ended, 60)
            print("call ended" if phone.call is not None and phone.call.ended else "no call", flush=True)
        if args.unregister and code == 200:
            phone.outcome = None
            phone.setRegistration(False)
            wait(endpoint, lambda: phone.outcome is not None, 15)
            print(f"unregistered {(phone.outcome or (0, 0))[0]}", flush=True)
    endpoint.hangupAllCalls()
    phone.call = None
    if audio is not None:
        audio.close()  # the recorder writes its last frames and its header's sizes when destroyed
    endpoint.libDestroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
