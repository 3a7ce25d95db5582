"""Choosing the headset's earpiece and microphone by a part of its name, from a real PulseAudio's devices."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from headsets.audio_devices import AudioDeviceError, Device, Kind, choose, list_devices, matches
from tests.pulse import BUILT_IN, HEADSET, PulseServer, pulse_server

SINK, SOURCE = Kind.SINK, Kind.SOURCE


@pytest.fixture
def pulse(tmp_path: Path) -> Iterator[PulseServer]:
    """A PulseAudio of this test's own: the built-in audio (the default) and the Jabra headset plugged in."""
    with pulse_server(tmp_path / "pulse") as server:
        yield server


# ------------------------------------------------------------------------------------------- the server


def test_the_server_lists_sinks_and_sources_with_their_descriptions_and_monitors(pulse: PulseServer) -> None:
    devices = list_devices(pulse.server)
    assert Device("jabra_evolve2_40", "Jabra Evolve2 40", SINK, serial=HEADSET.serial) in devices
    assert Device("jabra_evolve2_40_mic", "Jabra Evolve2 40 Mono", SOURCE, serial=HEADSET.serial) in devices
    assert Device("jabra_evolve2_40.monitor", "Monitor of Jabra Evolve2 40", SOURCE, monitor=True) in devices
    assert Device("builtin_audio", "Built-in Audio", SINK, serial=BUILT_IN.serial) in devices
    assert [device.kind for device in devices] == [SINK] * 4 + [SOURCE] * 6  # the feeds and every sink's monitor


@pytest.mark.parametrize("name_part", ["evolve", "JABRA", "Evolve2 40", "jabra_evolve"])
def test_the_headset_is_chosen_by_any_part_of_its_name_in_any_case(pulse: PulseServer, name_part: str) -> None:
    devices = list_devices(pulse.server)
    # Not the feed sink, nor a monitor, though "Jabra" is in their names too.
    assert choose(devices, name_part, SINK) == Device(
        "jabra_evolve2_40", "Jabra Evolve2 40", SINK, serial=HEADSET.serial
    )
    microphone = choose(devices, name_part, SOURCE)
    assert microphone is not None and microphone.name == HEADSET.source


def test_the_built_in_audio_is_chosen_by_its_own_name(pulse: PulseServer) -> None:
    devices = list_devices(pulse.server)
    assert [device.name for device in matches(devices, "built-in", SINK)] == [BUILT_IN.sink, BUILT_IN.feed]
    microphone = choose(devices, "built-in", SOURCE)
    assert microphone is not None and microphone.name == BUILT_IN.source


def test_an_unknown_name_and_an_unplugged_headset_choose_nothing(pulse: PulseServer) -> None:
    assert choose(list_devices(pulse.server), "plantronics", SINK) is None
    pulse.unplug(HEADSET)
    devices = list_devices(pulse.server)
    assert choose(devices, "jabra", SINK) is None
    assert choose(devices, "jabra", SOURCE) is None
    pulse.plug(HEADSET)
    assert choose(list_devices(pulse.server), "jabra", SINK) is not None


def test_a_monitor_is_never_chosen_as_a_microphone(pulse: PulseServer) -> None:
    devices = list_devices(pulse.server)
    sources = [device.name for device in devices if device.kind is SOURCE]
    # The server lists the headset's monitors before its microphone, and their descriptions name it too.
    assert sources.index(HEADSET.monitor) < sources.index(HEADSET.source)
    assert choose(devices, "jabra", SOURCE) == Device(
        HEADSET.source, "Jabra Evolve2 40 Mono", SOURCE, serial=HEADSET.serial
    )
    assert choose(devices, "monitor of", SOURCE) is None
    assert choose(devices, ".monitor", SOURCE) is None


def test_an_unreachable_server_is_an_audio_device_error(tmp_path: Path) -> None:
    server = f"unix:{tmp_path / 'native'}"
    with pytest.raises(AudioDeviceError) as raised:
        list_devices(server)
    assert str(raised.value) == f"cannot list the sound devices of {server}: Failed to connect to pulseaudio server"


# ------------------------------------------------------------------------------------------- choosing

# As a real PulseAudio lists a USB headset next to a laptop's sound card, and a loopback named after the headset.
USB = "usb-GN_Audio_A_S_Jabra_Evolve2_65_A0C3F1-00"
LISTED = [
    Device("alsa_output.pci-0000_00_1f.3.analog-stereo", "Built-in Audio Analog Stereo", SINK, serial="pci1"),
    Device("jabra_loopback", "Jabra Evolve2 65 loopback", SINK),
    Device(f"alsa_output.{USB}.analog-stereo", "Jabra Evolve2 65 Analog Stereo", SINK, serial="jabra65"),
    Device("alsa_output.pci-0000_00_1f.3.analog-stereo.monitor", "Monitor of Built-in Audio Analog Stereo", SOURCE,
           monitor=True),
    Device(f"alsa_output.{USB}.analog-stereo.monitor", "Monitor of Jabra Evolve2 65 Analog Stereo", SOURCE,
           monitor=True),
    Device(f"alsa_input.{USB}.mono-fallback", "Jabra Evolve2 65 Mono", SOURCE, serial="jabra65"),
    Device("alsa_input.pci-0000_00_1f.3.analog-stereo", "Built-in Audio Analog Stereo", SOURCE, serial="pci1"),
]  # fmt: skip


def test_a_headset_s_sink_comes_before_a_lone_sink_of_the_same_name() -> None:
    assert [device.name for device in matches(LISTED, "jabra", SINK)] == [
        f"alsa_output.{USB}.analog-stereo",
        "jabra_loopback",
    ]
    assert [device.name for device in matches(LISTED, "Jabra", SOURCE)] == [f"alsa_input.{USB}.mono-fallback"]


def test_a_description_match_comes_before_a_match_of_the_identifier_only() -> None:
    devices = [Device("gn_audio_sink", "Office speaker", SINK), Device("office_gn", "GN Audio headset", SINK)]
    assert [device.name for device in matches(devices, "gn", SINK)] == ["office_gn", "gn_audio_sink"]


def test_without_its_microphone_a_headset_has_no_source_to_choose() -> None:
    assert choose([device for device in LISTED if "mono" not in device.name], "jabra", SOURCE) is None


def test_a_name_part_of_blanks_is_refused() -> None:
    with pytest.raises(ValueError, match="^the name part is empty: it would match every device$"):
        choose(LISTED, "  ", SINK)


def test_only_a_source_can_be_a_monitor() -> None:
    with pytest.raises(ValueError, match="^sink 'speaker' cannot be a monitor: only sources monitor sinks$"):
        Device("speaker", "Speaker", SINK, monitor=True)
