"""Loading config/ivr/: the demo flow loads; each kind of mistake is refused with file, line and field.

Every refusal goes through `load_configuration`, the composition root's (the flows are read once the rest of the
deployment is sound), and each of its problems names a line inside the file it names and a field that starts with the
flow's name (`accueil.nodes.sie.to` in ivr/accueil.yaml), or with the section's in numbers.yaml.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from acd.cli import DEMO_CONFIG
from acd.deployment import ConfigError
from acd.deployment.errors import Problem
from acd.serve import load_configuration
from ivr.flow import MenuNode, PromptFile, QueueNode
from tests.refusals import assert_points_into

FLOW = "ivr/accueil.yaml"
DTMF = "'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*' or '#'"
FILE_NAME = "a flow's file name is a-z, 0-9, '_', '.', '-' then .yaml"
LOOP = "a loop with no exit: no queue, transfer or hang-up can be reached from this node"
NO_TRUNK = "is a number, and no settings.sip_trunk reaches numbers"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, target)
    return target


def edit(directory: Path, name: str, old: str, new: str) -> None:
    path = directory / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def check_refusal(directory: Path, error: ConfigError) -> None:
    """Each problem names a file of the directory, a line inside it, and a field of that file: the flow's
    name for ivr/<flow>.yaml, the section's for <section>.yaml."""
    assert error.problems
    for problem in error.problems:
        path = assert_points_into(directory, problem)
        assert problem.field == path.stem or problem.field.startswith((f"{path.stem}.", f"{path.stem}[")), problem
        assert problem.message.strip(), problem


def refused(directory: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_configuration(directory)
    check_refusal(directory, caught.value)
    return str(caught.value).splitlines()


def write_wav(path: Path, *, rate: int = 8000, channels: int = 1, width: int = 2, seconds: float = 0.5) -> None:
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(channels)
        audio.setsampwidth(width)
        audio.setframerate(rate)
        audio.writeframes(bytes(int(rate * seconds) * channels * width))


# ---------------------------------------------------------------------------------------------- the demo


def test_demo_configuration_loads_its_flow_for_both_general_numbers() -> None:
    configuration = load_configuration(DEMO_CONFIG)
    deployment = configuration.deployment
    assert set(configuration.flows) == {"accueil"}
    flow = configuration.flows["accueil"]
    assert (flow.languages, flow.start) == (["fr", "en"], "accueil")
    assert [n.number for n in deployment.numbers if n.flow == "accueil"] == ["+33199000100", "+33199000200"]
    assert all(n.queue is not None for n in deployment.numbers if n.flow is None)


def test_merge_keys_give_a_node_the_anchors_fields_and_its_own_win() -> None:
    nodes = load_configuration(DEMO_CONFIG).flows["accueil"].nodes
    anchor, merged, english = nodes["queue-tva"], nodes["queue-cfe"], nodes["queue-english"]
    assert isinstance(anchor, QueueNode) and isinstance(merged, QueueNode) and isinstance(english, QueueNode)
    assert (merged.queue, merged.prompt, merged.refused) == ("{centre}-cfe", "hold", "full")
    assert merged.callback == anchor.callback and merged.announce == anchor.announce
    assert merged.max_wait is not None and merged.max_wait.to == "{other}-cfe"
    assert (english.queue, english.max_wait) == ("{english}", None)


# ------------------------------------------------------------------------------------- refused by an edit

#: (file, old text, new text, the refusal's lines). Lines are those of the demo flow (133 lines) after the edit.
EDITS = [
    # Unknown nodes, wherever a node is named.
    pytest.param(
        FLOW,
        "next: language}",
        "next: langue}",
        [f"{FLOW}:72: accueil.nodes.welcome.next: unknown node 'langue'"],
        id="unknown-node-next",
    ),
    pytest.param(
        FLOW,
        '"1": {go: topics, set: {language: fr}}',
        '"1": {go: topix, set: {language: fr}}',
        [f"{FLOW}:78: accueil.nodes.language.options.1.go: unknown node 'topix'"],
        id="unknown-node-option-go",
    ),
    pytest.param(
        FLOW,
        '"1": {go: topics, set: {language: fr}}',
        '"1": topix',
        [f"{FLOW}:78: accueil.nodes.language.options.1: unknown node 'topix'"],
        id="unknown-node-option",
    ),
    pytest.param(
        FLOW,
        "fallback: topics",
        "fallback: topix",
        [f"{FLOW}:82: accueil.nodes.language.fallback: unknown node 'topix'"],
        id="unknown-node-fallback",
    ),
    pytest.param(
        FLOW,
        "go: holiday}",
        "go: holidays}",
        [f"{FLOW}:67: accueil.nodes.accueil.rules[0].go: unknown node 'holidays'"],
        id="unknown-node-rule-go",
    ),
    pytest.param(
        FLOW,
        "else: welcome",
        "else: welcom",
        [f"{FLOW}:69: accueil.nodes.accueil.else: unknown node 'welcom'"],
        id="unknown-node-else",
    ),
    pytest.param(
        # In the anchor: every node merging it names the unknown node, each on its own line.
        FLOW,
        "refused: full",
        "refused: fully",
        [f"{FLOW}:124: accueil.nodes.queue-tva.refused: unknown node 'fully'"]
        + [
            f"{FLOW}:{line}: accueil.nodes.queue-{name}.refused: unknown node 'fully'"
            for line, name in [(125, "cfe"), (126, "is"), (127, "espace-pro"), (128, "paiement"), (129, "english")]
        ],
        id="unknown-node-refused-in-an-anchor",
    ),
    pytest.param(
        FLOW,
        "queue-is: {<<: *queue, queue:",
        "queue-is: {<<: *queue, refused: nowhere, queue:",
        [f"{FLOW}:126: accueil.nodes.queue-is.refused: unknown node 'nowhere'"],
        id="unknown-node-refused-over-a-merge",
    ),
    pytest.param(
        FLOW,
        "start: accueil",
        "start: acceuil",
        [f"{FLOW}:5: accueil.start: unknown node 'acceuil'"],
        id="unknown-node-start",
    ),
    # Prompts.
    pytest.param(
        FLOW,
        "prompt: holiday}",
        "prompt: holidays}",
        [f"{FLOW}:70: accueil.nodes.holiday.prompt: missing prompt 'holidays' (not in prompts)"],
        id="prompt-not-in-prompts",
    ),
    pytest.param(
        # Said by six queue nodes (one and its five merges), refused once. The line is the prompt's first
        # value (fr:, line 36), not its name (hold:, line 35), as every mapping's line in documents.py.
        FLOW,
        '    en: "An adviser will answer you shortly."\n',
        "",
        [f"{FLOW}:36: accueil.prompts.hold: missing prompt 'hold' in 'en'"],
        id="prompt-lacking-a-language",
    ),
    # The graph.
    pytest.param(
        FLOW,
        "else: welcome",
        "else: language",
        [f"{FLOW}:72: accueil.nodes.welcome: unreachable node: no way leads to it from 'accueil'"],
        id="unreachable-node",
    ),
    pytest.param(
        FLOW,
        "  thanks: {type: hangup, prompt: thanks}\n",
        "  thanks: {type: hangup, prompt: thanks}\n  goodbye: {type: hangup, prompt: thanks}\n",
        [f"{FLOW}:134: accueil.nodes.goodbye: unreachable node: no way leads to it from 'accueil'"],
        id="node-nothing-names",
    ),
    # Shapes.
    pytest.param(
        FLOW,
        "closed: {type: hangup,",
        "closed: {type: hangout,",
        [
            (
                f"{FLOW}:71: accueil.nodes.closed: Input tag 'hangout' found using 'type' does not match any of the "
                "expected tags: 'play', 'menu', 'collect', 'set', 'branch', 'queue', 'transfer', 'voicemail', 'hangup'"
            )
        ],
        id="unknown-node-type",
    ),
    pytest.param(
        FLOW,
        "closed: {type: hangup, prompt: closed}",
        "closed: {type: hangup, promt: closed}",
        [f"{FLOW}:71: accueil.nodes.closed.promt: Extra inputs are not permitted"],
        id="misspelt-field",
    ),
    pytest.param(
        # A node written over several lines: the field and the line are the misspelt one's (pydantic puts
        # the node's type in the error's location: nodes.siren.collect.validat, located at the node).
        FLOW,
        "    validate: siren\n",
        "    validat: siren\n",
        [f"{FLOW}:101: accueil.nodes.siren.validat: Extra inputs are not permitted"],
        id="misspelt-field-of-a-block-node",
    ),
    pytest.param(
        FLOW,
        "{type: play, prompts: [welcome], next: language}",
        "{type: play, prompts: [welcome]}",
        [f"{FLOW}:72: accueil.nodes.welcome.next: Field required"],
        id="missing-field",
    ),
    pytest.param(
        FLOW,
        "    max_length: 9\n",
        "    max_length: 9\n    min_length: 10\n",
        [f"{FLOW}:97: accueil.nodes.siren: Value error, min_length is above max_length"],
        id="min-length-above-max-length",
    ),
    pytest.param(
        FLOW,
        '"5": {go: siren, set: {topic: paiement}}',
        '"A": {go: siren, set: {topic: paiement}}',
        [f"{FLOW}:91: accueil.nodes.topics.options.A.[key]: Input should be {DTMF}"],
        id="menu-key-not-dtmf",
    ),
    pytest.param(
        FLOW,
        "- {if: {holiday: standard}, go: holiday}",
        "- {if: {}, go: holiday}",
        [
            (
                f"{FLOW}:67: accueil.nodes.accueil.rules[0].if: Value error, a condition needs at least one of: "
                "open, closed, holiday, attribute, wait_above, agents_below"
            )
        ],
        id="condition-without-a-condition",
    ),
    pytest.param(
        FLOW,
        "languages: [fr, en]",
        "languages: [fr, de]",
        [f"{FLOW}:4: accueil.languages[1]: Input should be 'fr' or 'en'"],
        id="language-not-supported",
    ),
    pytest.param(
        FLOW,
        "set: {language: en}",
        "set: {language: de}",
        [f"{FLOW}:79: accueil.nodes.language.options.2.set.language: 'de' is not one of the flow's languages"],
        id="set-language-not-the-flows",
    ),
    pytest.param(
        FLOW,
        "welcome: {type: play, prompts: [welcome], next: language}",
        "welcome: {type: play, prompts: [welcome], next: english}\n"
        "  english: {type: set, attributes: {language: de}, next: language}",
        [f"{FLOW}:73: accueil.nodes.english.attributes.language: 'de' is not one of the flow's languages"],
        id="set-node-language-not-the-flows",
    ),
    # Queues and numbers.
    pytest.param(
        FLOW,
        'sie-message: {type: voicemail, prompt: sie_unreachable, queue: "{centre}-email"',
        'sie-message: {type: voicemail, prompt: sie_unreachable, queue: "lons-mail"',
        [f"{FLOW}:131: accueil.nodes.sie-message.queue: unknown queue 'lons-mail'"],
        id="unknown-queue",
    ),
    pytest.param(
        FLOW,
        'queue: "{english}", max_wait: null',
        'queue: "lons-chat", max_wait: null',
        [f"{FLOW}:129: accueil.nodes.queue-english.queue: queue 'lons-chat' takes no voice calls"],
        id="queue-without-voice",
    ),
    pytest.param(
        FLOW,
        'full: {type: voicemail, prompt: full, queue: "{centre}-email"',
        'full: {type: voicemail, prompt: full, queue: "lons-tva"',
        [f"{FLOW}:132: accueil.nodes.full.queue: queue 'lons-tva' takes no voicemail"],
        id="voicemail-to-a-queue-without-voicemail",
    ),
    pytest.param(
        FLOW,
        'to: "{sie}"',
        'to: "lons-tva"',
        [f"{FLOW}:130: accueil.nodes.sie.to: 'lons-tva' is not a number"],
        id="transfer-to-something-not-a-number",
    ),
    pytest.param(
        "settings.yaml",
        "sip_trunk: 127.0.0.1:5080",
        "",
        [
            f"{FLOW}:130: accueil.nodes.sie.to: '+33199000901' {NO_TRUNK}, for number +33199000100",
            f"{FLOW}:130: accueil.nodes.sie.to: '+33199000902' {NO_TRUNK}, for number +33199000200",
        ],
        id="number-without-a-trunk",
    ),
    pytest.param(
        "numbers.yaml",
        'english: lons-english, sie: "+33199000902"',
        "english: lons-english",
        [
            f"{FLOW}:130: accueil.nodes.sie.to: '{{sie}}': number +33199000200 (numbers.yaml entry 1) has no attribute 'sie'"
        ],
        id="placeholder-the-number-lacks",
    ),
    pytest.param(
        "numbers.yaml",
        "attributes: {centre: pau, other: lons, english: lons-english",
        "attributes: {centre: pau, other: lons, english: pau-english",
        [f"{FLOW}:129: accueil.nodes.queue-english.queue: unknown queue 'pau-english', for number +33199000200"],
        id="placeholder-filled-with-an-unknown-queue",
    ),
    pytest.param(
        FLOW,
        "{if: {closed: standard}",
        "{if: {closed: standart}",
        [f"{FLOW}:68: accueil.nodes.accueil.rules[1].if.closed: unknown calendar 'standart'"],
        id="unknown-calendar",
    ),
    # numbers.yaml
    pytest.param(
        "numbers.yaml",
        "  flow: accueil\n  name: Accueil des professionnels (Pau)",
        "  flow: welcome\n  name: Accueil des professionnels (Pau)",
        ["numbers.yaml:9: numbers[1].flow: no flow 'welcome' in ivr/ (ivr/welcome.yaml)"],
        id="number-naming-an-absent-flow",
    ),
    pytest.param(
        "numbers.yaml",
        "  flow: accueil\n  name: Accueil des professionnels (Pau)",
        "  flow: accueil\n  queue: pau-tva\n  name: Accueil des professionnels (Pau)",
        ["numbers.yaml:8: numbers[1]: Value error, a number gives a queue or a flow, not both"],
        id="number-with-queue-and-flow",
    ),
    pytest.param(
        "numbers.yaml",
        "  flow: accueil\n  name: Accueil des professionnels (Pau)",
        "  name: Accueil des professionnels (Pau)",
        ["numbers.yaml:8: numbers[1]: Value error, a number gives the queue or the flow its calls enter"],
        id="number-with-neither",
    ),
    # YAML
    pytest.param(
        FLOW,
        "    else: welcome",
        "\telse: welcome",
        [f"{FLOW}:69: accueil: YAML: found character '\\t' that cannot start any token"],
        id="not-yaml-tab",
    ),
    pytest.param(
        FLOW,
        "    into: siren\n",
        "    into: siren: x\n",
        [f"{FLOW}:99: accueil: YAML: mapping values are not allowed here"],
        id="not-yaml-colon",
    ),
    pytest.param(
        FLOW,
        "closed: {type: hangup, prompt: closed}",
        "closed: {type: hangup, prompt: closed, prompt: holiday}",
        [f"{FLOW}:71: accueil: YAML: duplicate key 'prompt'"],
        id="duplicate-key",
    ),
    pytest.param(
        FLOW,
        "  thanks: {type: hangup, prompt: thanks}\n",
        "  thanks: {type: hangup, prompt: thanks}\n  closed: {type: hangup, prompt: closed}\n",
        [f"{FLOW}:134: accueil: YAML: duplicate key 'closed'"],
        id="duplicate-node",
    ),
    pytest.param(
        # A key may override a merged one, but not be given twice beside the merge.
        FLOW,
        'queue-is: {<<: *queue, queue: "{centre}-is",',
        'queue-is: {<<: *queue, queue: "{centre}-is", queue: x,',
        [f"{FLOW}:126: accueil: YAML: duplicate key 'queue'"],
        id="duplicate-key-beside-a-merge",
    ),
    pytest.param(
        FLOW,
        "queue-is: {<<: *queue,",
        "queue-is: {<<: *queu,",
        [f"{FLOW}:126: accueil: YAML: found undefined alias 'queu'"],
        id="undefined-anchor",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "expected"), EDITS)
def test_refused_with_file_line_and_field(config: Path, name: str, old: str, new: str, expected: list[str]) -> None:
    edit(config, name, old, new)
    assert refused(config) == expected


def test_loop_without_exit(config: Path) -> None:
    """Two menus whose options and fallbacks lead only to each other: a caller there never leaves."""
    edit(
        config,
        FLOW,
        '      "9": {go: sie, set: {topic: sie}}\n',
        '      "9": {go: sie, set: {topic: sie}}\n      "8": loop-a\n',
    )
    edit(
        config,
        FLOW,
        "  thanks: {type: hangup, prompt: thanks}\n",
        "  thanks: {type: hangup, prompt: thanks}\n"
        '  loop-a: {type: menu, prompt: topics, options: {"1": loop-b}, fallback: loop-b}\n'
        '  loop-b: {type: menu, prompt: topics, options: {"1": loop-a, "2": loop-a}, fallback: loop-a}\n',
    )
    assert refused(config) == [f"{FLOW}:135: accueil.nodes.loop-a: {LOOP}", f"{FLOW}:136: accueil.nodes.loop-b: {LOOP}"]


# ----------------------------------------------------------------------------------------- whole files


def test_a_flow_that_is_not_a_mapping(config: Path) -> None:
    (config / FLOW).write_text("# a list, not a flow\n- accueil\n")
    assert refused(config) == [f"{FLOW}:1: accueil: the file must hold a YAML mapping"]


def test_an_empty_flow(config: Path) -> None:
    (config / FLOW).write_text("")
    assert refused(config) == [
        f"{FLOW}:1: accueil.{field}: Field required" for field in ("languages", "start", "nodes")
    ]


def test_a_flow_that_is_not_utf8(config: Path) -> None:
    text = (config / FLOW).read_text(encoding="utf-8")
    (config / FLOW).write_bytes(text.encode("latin-1"))
    assert refused(config) == [f"{FLOW}:12: accueil: not UTF-8 text: byte 0xe9 cannot be decoded"]  # "fermés"


def test_a_bad_file_name(config: Path) -> None:
    shutil.copy(config / FLOW, config / "ivr" / "Accueil!.yaml")
    assert refused(config) == [f"ivr/Accueil!.yaml:1: Accueil!: {FILE_NAME}"]


def test_a_renamed_flow_leaves_its_numbers_without_one(config: Path) -> None:
    (config / FLOW).rename(config / "ivr" / "Accueil.yaml")
    assert refused(config) == [
        f"ivr/Accueil.yaml:1: Accueil: {FILE_NAME}",
        "numbers.yaml:5: numbers[0].flow: no flow 'accueil' in ivr/ (ivr/accueil.yaml)",
        "numbers.yaml:9: numbers[1].flow: no flow 'accueil' in ivr/ (ivr/accueil.yaml)",
    ]


# ------------------------------------------------------------------------------------ recorded prompts

RECORDED = '    en: "We did not hear your choice."', "    en: {file: no-choice.wav}"


def test_a_missing_recording_is_refused_naming_the_file(config: Path) -> None:
    edit(config, FLOW, *RECORDED)
    path = config / "ivr" / "no-choice.wav"
    assert not path.exists()
    assert refused(config) == [f"{FLOW}:28: accueil.prompts.no_choice.en.file: ivr/no-choice.wav: no such file"]


def test_a_recording_that_is_not_16_bit_is_refused(config: Path) -> None:
    edit(config, FLOW, *RECORDED)
    path = config / "ivr" / "no-choice.wav"
    write_wav(path, width=1)
    problem = "ivr/no-choice.wav: not a readable PCM WAV file (8-bit samples, not 16-bit)"
    assert refused(config) == [f"{FLOW}:28: accueil.prompts.no_choice.en.file: {problem}"]


def test_a_telephony_recording_is_accepted(config: Path) -> None:
    edit(config, FLOW, *RECORDED)
    write_wav(config / "ivr" / "no-choice.wav")
    flow = load_configuration(config).flows["accueil"]
    assert flow.prompts["no_choice"] == {
        "fr": "Nous n'avons pas entendu votre choix.",
        "en": PromptFile(file="no-choice.wav"),
    }
    topics = flow.nodes["topics"]
    assert isinstance(topics, MenuNode) and topics.no_input == "no_choice"


# ------------------------------------------------------------------------------------------ the command


def test_check_config_command_refuses_a_flow(config: Path) -> None:
    edit(config, FLOW, 'to: "{sie}"', 'to: "lons-tva"')
    bad = subprocess.run(
        [sys.executable, "-m", "acd.cli", "check-config", str(config)], check=False, capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert f"{FLOW}:130: accueil.nodes.sie.to: 'lons-tva' is not a number" in bad.stderr.splitlines()
    assert "valid" not in bad.stdout


# ------------------------------------------------------------------------------------------ the helper


@pytest.mark.parametrize(
    ("file", "line", "field"),
    [(FLOW, 0, "accueil.start"), (FLOW, 134, "accueil.start"), (FLOW, 5, "start"), (FLOW, 5, "numbers[0].flow")],
    ids=["no-line", "past-the-end", "no-flow-name", "another-file's-field"],
)
def test_the_refusal_check_catches_an_imprecise_problem(config: Path, file: str, line: int, field: str) -> None:
    with pytest.raises(AssertionError):
        check_refusal(config, ConfigError([Problem(file, line, field, "wrong")]))
    check_refusal(config, ConfigError([Problem(FLOW, 133, "accueil.nodes.thanks", "right")]))
