"""A real PulseAudio daemon for the tests, its null devices standing for a USB headset and the built-in audio.

Each device is an earpiece (a null sink) and a microphone (a source remapped from the monitor of a second
null sink, its *feed*): a test plays a tone into the feed, and whatever records from the microphone hears it.
Unplugging a device unloads its modules, as the kernel drops a USB headset pulled from its socket.

A null sink left to itself renders two seconds at a time: a recording started on its monitor would wait up to
two seconds for its first sample. So each null sink gets a *keeper*, a silent stream asking for 20 ms, and is
suspended and resumed once to drop the long block it had already started.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.tones import dominant_frequency, power, tone_samples

__all__ = ["BUILT_IN", "HEADSET", "PulseServer", "dominant_frequency", "power", "pulse_server", "tone_samples"]

KEEPER = "tests.pulse keeper"  # the media.name of the keepers' streams
RATE = 48_000  # what USB headsets run at; the helpers' streams are resampled by the server to and from it


@dataclass(frozen=True)
class AudioDevice:
    """A sound card as PulseAudio shows it: a sink (`name`) and a source (`name`_mic) sharing a serial."""

    name: str
    description: str
    serial: str  # udev's ID_SERIAL, which a real card's sink and source both carry as device.serial

    @property
    def sink(self) -> str:
        return self.name

    @property
    def source(self) -> str:
        return f"{self.name}_mic"

    @property
    def feed(self) -> str:
        """The sink a test plays into for the microphone to hear (no serial: no part of the card)."""
        return f"{self.name}_mic_feed"

    @property
    def monitor(self) -> str:
        """The sink's monitor source: what the earpiece is playing."""
        return f"{self.name}.monitor"

    def modules(self) -> list[tuple[str, str]]:
        """The modules to load, in order, each with its argument string."""
        # The module argument parser takes a quoted value; the proplist inside it has its own quotes.
        earpiece = f'device.description="{self.description}" device.serial="{self.serial}"'
        feed = f'device.description="{self.description} microphone feed"'
        microphone = f'device.description="{self.description} Mono" device.serial="{self.serial}"'
        return [
            ("module-null-sink", f"sink_name={self.sink} rate={RATE} channels=2 sink_properties='{earpiece}'"),
            ("module-null-sink", f"sink_name={self.feed} rate={RATE} channels=1 sink_properties='{feed}'"),
            ("module-remap-source",
             f"master={self.feed}.monitor source_name={self.source} source_properties='{microphone}'"),
        ]  # fmt: skip


HEADSET = AudioDevice("jabra_evolve2_40", "Jabra Evolve2 40", "GN_Audio_A_S_Jabra_Evolve2_40_A0B1C2D3E4F5")
BUILT_IN = AudioDevice("builtin_audio", "Built-in Audio", "0000_00_1f.3")


@dataclass
class PulseServer:
    """A PulseAudio daemon of the test's own, reached on a unix socket in `directory`, anonymous clients allowed.

    The built-in audio is the default sink and source, the fallback when the headset goes.
    """

    directory: Path
    process: subprocess.Popen[bytes] | None = None
    loaded: dict[str, list[int]] = field(default_factory=dict)  # a device's name → its modules' indexes
    keepers: dict[str, list[subprocess.Popen[bytes]]] = field(default_factory=dict)  # a device's name → its keepers
    players: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)  # each with its sink

    @property
    def socket_path(self) -> Path:
        return self.directory / "native"

    @property
    def server(self) -> str:
        """The server string for libpulse (PULSE_SERVER) and pulsectl."""
        return f"unix:{self.socket_path}"

    @property
    def env(self) -> dict[str, str]:
        """The environment a child process needs to reach this server and no other (merge it into os.environ)."""
        # Without a server string libpulse would look for (or autospawn) the user's own daemon.
        return {"PULSE_SERVER": self.server}

    def start(self) -> None:
        binary = shutil.which("pulseaudio")
        if binary is None:
            raise RuntimeError("pulseaudio is not installed: apt-get install pulseaudio pulseaudio-utils")
        home = self.directory / "home"
        runtime = self.directory / "run"
        for directory in (home, runtime):
            directory.mkdir(parents=True, exist_ok=True)
        script = self.directory / "server.pa"
        script.write_text(f"load-module module-native-protocol-unix auth-anonymous=1 socket={self.socket_path}\n")
        # Its own home, runtime and state directories: nothing of the user's daemon, cookie or saved volumes is read
        # or written. -n skips /etc/pulse/default.pa (no hardware detection, no stream restoring).
        env = {
            **os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime), "XDG_CONFIG_HOME": str(home),
            "PULSE_RUNTIME_PATH": str(runtime / "pulse"), "PULSE_STATE_PATH": str(home / "state"),
        }  # fmt: skip
        command = [
            binary, "-n", "--file", str(script), "--daemonize=no", "--system=no", "--use-pid-file=no",
            "--exit-idle-time=-1", "--disallow-exit", "--realtime=no", "--high-priority=no",
            f"--log-target=newfile:{self.directory / 'pulseaudio.log'}",
        ]  # fmt: skip
        # As root it warns that it is "not intended to be run as root" and runs all the same.
        self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self._wait_until_ready()
        self.plug(BUILT_IN)
        self.pactl("set-default-sink", BUILT_IN.sink)
        self.pactl("set-default-source", BUILT_IN.source)
        self.plug(HEADSET)

    def _wait_until_ready(self, seconds: float = 20) -> None:
        assert self.process is not None
        deadline = time.monotonic() + seconds
        while True:
            if self.process.poll() is not None:
                log = (self.directory / "pulseaudio.log").read_text(errors="replace")
                raise RuntimeError(f"pulseaudio exited with {self.process.returncode}:\n{log}")
            if self.socket_path.exists() and self._answers():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"pulseaudio did not answer on {self.socket_path} within {seconds} s")
            time.sleep(0.05)

    def _answers(self) -> bool:
        done = subprocess.run(["pactl", "info"], env=self._client_env(), capture_output=True, check=False)
        return done.returncode == 0

    def _client_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def pactl(self, *arguments: str) -> str:
        """Run pactl against this server; its output."""
        done = subprocess.run(
            ["pactl", *arguments], env=self._client_env(), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"pactl {' '.join(arguments)}: {done.stderr.strip()}")
        return done.stdout

    def plug(self, device: AudioDevice) -> None:
        """Make the device appear, as a USB headset plugged in."""
        assert device.name not in self.loaded, f"{device.name} is already plugged in"
        self.loaded[device.name] = [
            int(self.pactl("load-module", name, arguments)) for name, arguments in device.modules()
        ]
        self.keepers[device.name] = [self._keeper(sink) for sink in (device.sink, device.feed)]
        deadline = time.monotonic() + 10
        while not {device.sink, device.feed} <= set(self.where("sink-inputs", "media.name", KEEPER)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the keepers of {device.name} did not connect within 10 s")
            time.sleep(0.01)
        for sink in (device.sink, device.feed):
            # Resuming restarts the sink's clock: it renders the keeper's 20 ms blocks from now on.
            self.pactl("suspend-sink", sink, "1")
            self.pactl("suspend-sink", sink, "0")

    def _keeper(self, sink: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            ["pacat", "--playback", "--raw", f"--device={sink}", "--format=s16le", f"--rate={RATE}", "--channels=1",
             "--latency-msec=20", f"--stream-name={KEEPER}", "/dev/zero"],
            env=self._client_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def unplug(self, device: AudioDevice) -> None:
        """Make the device disappear, as a USB headset pulled out: the source first, as it hangs on the feed."""
        # Its keepers and tones go with it, or the server would move them to the built-in audio.
        going = [player for sink, player in self.players if sink in (device.sink, device.feed)]
        self.players = [(sink, player) for sink, player in self.players if player not in going]
        for process in [*self.keepers.pop(device.name), *going]:
            process.terminate()
            process.communicate(timeout=10)
        for index in reversed(self.loaded.pop(device.name)):
            self.pactl("unload-module", str(index))

    def where(self, kind: str, key: str, value: str) -> list[str]:
        """The sinks ("sink-inputs") or sources ("source-outputs") of the streams whose property `key` is `value`.

        A stream opened through ALSA's pulse plugin (PortAudio, sounddevice) is called "ALSA Playback" or "ALSA
        Capture" whatever it asks: tell it by a property of its own, given as PULSE_PROP_<key>=<value> in its
        environment.
        """
        devices = {"sink-inputs": "sinks", "source-outputs": "sources"}[kind]
        names = {device["index"]: device["name"] for device in json.loads(self.pactl("-f", "json", "list", devices))}
        streams = json.loads(self.pactl("-f", "json", "list", kind))
        return [names[stream[devices[:-1]]] for stream in streams if stream["properties"].get(key) == value]

    def play_tone(self, sink: str, frequency: float, seconds: float) -> subprocess.Popen[bytes]:
        """Start playing a sine tone into `sink`; the pacat playing it (`wait()` on it to let it finish)."""
        tone = self.directory / f"tone-{frequency:g}Hz-{seconds:g}s.raw"
        if not tone.exists():
            tone.write_bytes(tone_samples(frequency, seconds, RATE).tobytes())
        player = subprocess.Popen(
            ["pacat", "--playback", "--raw", f"--device={sink}", "--format=s16le", f"--rate={RATE}", "--channels=1",
             "--latency-msec=20", str(tone)],
            env=self._client_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.players.append((sink, player))
        return player

    def record(self, source: str, seconds: float, rate: int = 16_000) -> array[int]:
        """Record `seconds` of mono 16-bit samples from `source` (a microphone, or a sink's monitor)."""
        recorder = subprocess.Popen(
            ["parec", "--raw", f"--device={source}", "--format=s16le", f"--rate={rate}", "--channels=1",
             "--latency-msec=20"],
            env=self._client_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert recorder.stdout is not None
        wanted = 2 * round(seconds * rate)
        try:
            data = recorder.stdout.read(wanted)  # blocks until it has them all, or parec ends
        finally:
            recorder.terminate()
            _, stderr = recorder.communicate(timeout=10)
        if len(data) < wanted:
            raise RuntimeError(f"parec from {source} stopped: {stderr.decode(errors='replace').strip()}")
        return array("h", data)

    def stop(self) -> None:
        for process in [player for _, player in self.players] + [
            k for keepers in self.keepers.values() for k in keepers
        ]:
            if process.poll() is None:
                process.terminate()
            process.communicate(timeout=10)
        self.players.clear()
        self.keepers.clear()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def pulse_server(directory: Path) -> Iterator[PulseServer]:
    """A started PulseAudio with the built-in audio (the default) and the headset plugged in; stopped after."""
    directory.mkdir(parents=True, exist_ok=True)
    server = PulseServer(directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()
