"""Loading config/: the demo loads; each kind of mistake is refused with file, line and field."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from acd.cli import DEMO_CONFIG
from acd.deployment import ConfigError, load_deployment


@pytest.fixture
def config(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, target)
    return target


def refused(directory: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_deployment(directory)
    return str(caught.value)


def line_of(directory: Path, name: str, start: str) -> int:
    """The number of the line of `name` that begins with `start`."""
    lines = (directory / name).read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if line.startswith(start))


def edit(directory: Path, name: str, old: str, new: str) -> None:
    path = directory / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_demo_configuration_loads() -> None:
    deployment = load_deployment(DEMO_CONFIG)
    assert {s.id: s.departments for s in deployment.sites} == {"lons": ["69"], "pau": ["33", "31"]}
    assert all(4 <= sum(a.team == t.id for a in deployment.agents) <= 6 for t in deployment.teams)


def test_yaml_syntax_error(config: Path) -> None:
    edit(config, "sites.yaml", "  name: Pau", "  name: [Pau")
    assert refused(config).startswith("sites.yaml:")


def test_unknown_field_names_its_line(config: Path) -> None:
    edit(config, "sites.yaml", "  name: Pau\n", "  name: Pau\n  colour: blue\n")
    assert refused(config) == "sites.yaml:8: sites[1].colour: Extra inputs are not permitted"


def test_bad_department_and_too_many(config: Path) -> None:
    edit(config, "sites.yaml", 'departments: ["33", "31"]', 'departments: ["33", "31", "64", "40"]')
    assert (
        refused(config)
        == "sites.yaml:8: sites[1].departments: List should have at most 3 items after validation, not 4"
    )
    edit(config, "sites.yaml", 'departments: ["33", "31", "64", "40"]', 'departments: ["99"]')
    assert refused(config) == "sites.yaml:8: sites[1].departments: Value error, '99' is not a French department code"


def test_unknown_reference(config: Path) -> None:
    edit(config, "teams.yaml", "  site: pau\n", "  site: paris\n")
    assert refused(config) == "teams.yaml:12: teams[2].site: unknown site 'paris'"


def test_duplicate_key_and_duplicate_id(config: Path) -> None:
    edit(config, "sites.yaml", "  name: Pau\n", "  name: Pau\n  name: Pau\n")
    assert refused(config) == "sites.yaml:8: sites: YAML: duplicate key 'name'"
    edit(config, "sites.yaml", "  name: Pau\n  name: Pau\n", "  name: Pau\n")
    edit(config, "sites.yaml", "- id: pau", "- id: lons")
    assert refused(config).splitlines()[0] == "sites.yaml:6: sites[1].id: duplicate id 'lons'"


def test_bad_interval_and_timezone(config: Path) -> None:
    edit(config, "calendars.yaml", 'mon: ["08:30-18:00"]', 'mon: ["18:00-08:30"]')
    assert (
        refused(config) == "calendars.yaml:4: calendars[0].hours.mon[0]: interval '18:00-08:30' closes before it opens"
    )
    edit(config, "calendars.yaml", 'mon: ["18:00-08:30"]', 'mon: ["08:30-18:00"]')
    edit(config, "settings.yaml", "timezone: Europe/Paris", "timezone: Europe/Lons")
    at = line_of(config, "settings.yaml", "timezone:")
    assert refused(config) == f"settings.yaml:{at}: settings.timezone: unknown time zone 'Europe/Lons'"


def test_queue_nobody_can_serve(config: Path) -> None:
    edit(config, "queues.yaml", "skills: {lang_en: 3}", "skills: {lang_en: 5, paiement: 5}")
    message = refused(config)
    assert message.endswith("queues[19].id: no agent can serve this queue")


def test_missing_file_and_missing_field(config: Path) -> None:
    (config / "skills.yaml").unlink()
    assert refused(config) == "skills.yaml: skills: file is missing"


def test_redirect_without_target(config: Path) -> None:
    edit(config, "queues.yaml", "  priority: -2\n", "  priority: -2\n  when_closed: {action: redirect}\n")
    assert "when_closed: Value error, a target is given with action 'redirect', and only then" in refused(config)


def test_check_config_command(config: Path) -> None:
    good = subprocess.run(
        [sys.executable, "-m", "acd.cli", "check-config", str(config)], capture_output=True, text=True, check=False
    )
    assert good.returncode == 0 and "valid" in good.stdout
    edit(config, "teams.yaml", "  site: pau\n", "  site: paris\n")
    bad = subprocess.run(
        [sys.executable, "-m", "acd.cli", "check-config", str(config)], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1
    assert "teams.yaml:12: teams[2].site: unknown site 'paris'" in bad.stderr


def test_an_empty_file_is_refused_not_taken_for_an_empty_centre(config: Path) -> None:
    (config / "queues.yaml").write_text("")
    assert refused(config) == "queues.yaml:1: queues: List should have at least 1 item after validation, not 0"


def test_numbers_name_voice_queues_once_each(config: Path) -> None:
    edit(config, "numbers.yaml", 'number: "+33199000102", queue: lons-cfe', 'number: "+33199000101", queue: lons-chat')
    edit(config, "numbers.yaml", "queue: lons-is,", "queue: lons-nowhere,")
    assert refused(config).splitlines() == [
        "numbers.yaml:14: numbers[3].number: number '+33199000101' is given twice (also entry 2)",
        "numbers.yaml:14: numbers[3].queue: queue 'lons-chat' takes no voice calls",
        "numbers.yaml:15: numbers[4].queue: unknown queue 'lons-nowhere'",
    ]


def test_a_number_is_digits_with_an_optional_plus(config: Path) -> None:
    edit(config, "numbers.yaml", '"+33199000101"', '"03 84 00 01"')
    assert refused(config).startswith("numbers.yaml:13: numbers[2].number: String should match pattern")


def test_numbers_are_optional(config: Path) -> None:
    (config / "numbers.yaml").unlink()
    assert load_deployment(config).numbers == []


def test_phones_belong_to_known_agents_once_and_hold_ha1s_of_the_right_length(config: Path) -> None:
    edit(config, "phones.yaml", "- agent: cmartin\n  user: cmartin", "- agent: nobody\n  user: cmartin")
    edit(config, "phones.yaml", "  user: jbernard", "  user: cmartin")
    assert refused(config).splitlines() == [
        "phones.yaml:7: phones[0].agent: unknown agent 'nobody'",
        "phones.yaml:11: phones[1].user: user 'cmartin' is given twice (also entry 0)",
    ]


def test_an_ha1_of_the_wrong_length_is_refused(config: Path) -> None:
    edit(config, "phones.yaml", "{MD5: 1664e6a1b498b6813cd7dc8e378c6091,", "{MD5: 1664e6a1,")
    assert "phones[0]: Value error, an MD5 HA1 is 32 hexadecimal digits" in refused(config)


CMARTIN_HA1 = (
    "  ha1: {MD5: 1664e6a1b498b6813cd7dc8e378c6091, "
    "SHA-256: e843b4a11e57209efec6d4fe5a4cc0584ac7f18c6ac04d2ec7151ab7f6b9be1b}\n"
)


def test_a_phone_names_the_algorithms_it_is_challenged_with(config: Path) -> None:
    edit(config, "phones.yaml", CMARTIN_HA1, CMARTIN_HA1 + "  digest_algorithms: [MD5]\n")
    deployment = load_deployment(config)
    cmartin, jbernard = deployment.phones[:2]
    assert deployment.digest_algorithms(cmartin) == ["MD5"]
    assert deployment.digest_algorithms(jbernard) == ["SHA-256", "MD5"]  # none named: the settings' order


def test_a_phone_without_digest_algorithms_gets_the_settings_ones_it_has_an_ha1_for(config: Path) -> None:
    edit(config, "phones.yaml", CMARTIN_HA1, "  ha1: {MD5: 1664e6a1b498b6813cd7dc8e378c6091}\n")
    deployment = load_deployment(config)
    assert deployment.digest_algorithms(deployment.phones[0]) == ["MD5"]
    edit(config, "settings.yaml", "sip_digest_algorithms: [SHA-256, MD5]", "sip_digest_algorithms: [SHA-256]")
    assert refused(config) == (
        "phones.yaml:9: phones[0].ha1: no HA1 for settings.sip_digest_algorithms (SHA-256): "
        "name digest_algorithms, or add one"
    )


def test_a_phones_digest_algorithms_must_be_known_once_each_and_have_their_ha1(config: Path) -> None:
    edit(config, "phones.yaml", CMARTIN_HA1, CMARTIN_HA1 + "  digest_algorithms: [MD5, SHA-512]\n")
    assert refused(config) == "phones.yaml:10: phones[0].digest_algorithms[1]: Input should be 'SHA-256' or 'MD5'"
    edit(config, "phones.yaml", "[MD5, SHA-512]", "[MD5, MD5]")
    assert refused(config) == "phones.yaml:10: phones[0].digest_algorithms: Value error, each algorithm once"
    edit(config, "phones.yaml", CMARTIN_HA1, "  ha1: {MD5: 1664e6a1b498b6813cd7dc8e378c6091}\n")
    edit(config, "phones.yaml", "[MD5, MD5]", "[SHA-256]")
    assert refused(config) == (
        "phones.yaml:10: phones[0].digest_algorithms: Value error, no SHA-256 HA1 in ha1 to check its answer with"
    )


def test_the_music_on_hold_must_be_a_telephony_wav_file(config: Path) -> None:
    import wave

    at = f"settings.yaml:{line_of(config, 'settings.yaml', 'music_on_hold:')}: settings.music_on_hold"
    (config / "music-on-hold.wav").unlink()
    assert refused(config) == f"{at}: no such file: {config / 'music-on-hold.wav'}"
    with wave.open(str(config / "music-on-hold.wav"), "wb") as audio:  # CD quality: not what a phone hears
        audio.setnchannels(2)
        audio.setsampwidth(2)
        audio.setframerate(44100)
        audio.writeframes(bytes(4 * 44100))
    expected = "music-on-hold.wav is 2 channel(s), 16-bit, 44100 Hz: mono 16-bit 8000 Hz needed"
    assert refused(config) == f"{at}: {expected}"
    (config / "music-on-hold.wav").write_bytes(b"RIFF, but not really")
    assert refused(config).startswith(f"{at}: music-on-hold.wav is not a WAV file")


def test_sip_tcp_limits_out_of_range_are_refused_by_name(config: Path) -> None:
    edit(config, "settings.yaml", "sip_tcp_message_timeout: 10", "sip_tcp_message_timeout: 0")
    edit(config, "settings.yaml", "sip_tcp_connections_per_address: 64", "sip_tcp_connections_per_address: 0")
    timeout = line_of(config, "settings.yaml", "sip_tcp_message_timeout:")
    per_address = line_of(config, "settings.yaml", "sip_tcp_connections_per_address:")
    assert refused(config).splitlines() == [
        f"settings.yaml:{timeout}: settings.sip_tcp_message_timeout: Input should be greater than 0",
        f"settings.yaml:{per_address}: settings.sip_tcp_connections_per_address: Input should be greater than or equal to 1",
    ]


def test_call_settings_out_of_shape_are_refused_by_name(config: Path) -> None:
    edit(config, "settings.yaml", "sip_trunk: 127.0.0.1:5080", "sip_trunk: office")
    edit(config, "settings.yaml", "rtp_ports: 20000-29999", "rtp_ports: [30000, 20000]")
    ports, trunk = line_of(config, "settings.yaml", "rtp_ports:"), line_of(config, "settings.yaml", "sip_trunk:")
    problems = refused(config).splitlines()
    assert f"settings.yaml:{ports}: settings.rtp_ports: Value error, the first port comes before the last" in problems
    refusal = f"settings.yaml:{trunk}: settings.sip_trunk: Value error, 'office' is not host:port: the port is missing"
    assert refusal in problems


@pytest.mark.parametrize(
    ("written", "read"),
    [("20000-29999", (20000, 29999)), ("[41000, 41999]", (41000, 41999)), ("5000 - 5009", (5000, 5009))],
)
def test_a_range_of_ports_is_read_as_a_firewall_writes_it_or_as_a_list(
    config: Path, written: str, read: tuple[int, int]
) -> None:
    edit(config, "settings.yaml", "rtp_ports: 20000-29999", f"rtp_ports: {written}")
    assert load_deployment(config).settings.rtp_ports == read


@pytest.mark.parametrize("written", ["41000", "41000-", "-41999", "41000..41999", "a-b", "41000-41999-42000"])
def test_a_range_of_ports_of_another_form_is_refused_saying_the_forms(config: Path, written: str) -> None:
    edit(config, "settings.yaml", "rtp_ports: 20000-29999", f"rtp_ports: {written}")
    at = line_of(config, "settings.yaml", "rtp_ports:")
    assert refused(config).startswith(
        f"settings.yaml:{at}: settings.rtp_ports: Value error, a range of ports is first-last (20000-29999) or [first, last]"
    )


def test_every_setting_is_in_the_demo_file_with_its_true_default() -> None:
    import yaml

    from acd.deployment.models import Settings

    lines = (DEMO_CONFIG / "settings.yaml").read_text().splitlines()
    written = yaml.safe_load("\n".join(lines))
    for name in Settings.model_fields:
        at = next((number for number, line in enumerate(lines) if line.startswith(f"{name}:")), None)
        assert at is not None, f"settings.yaml does not show the setting {name}"
        described = lines[at] if "(default: " in lines[at] else lines[at - 1]  # or in the comment above it
        said = re.search(r"\(default: (\[[^]]*\]|[^,)]*)", described)
        assert said is not None, f"settings.yaml does not say {name}'s default"
        # "those": the values the file itself gives are the defaults
        default = written[name] if said[1] == "those" else yaml.safe_load(said[1])
        assert getattr(Settings.model_validate({name: default}), name) == getattr(Settings(), name), name
