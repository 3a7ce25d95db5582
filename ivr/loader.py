"""Reading the flows of config/ivr/: each problem named by file, line and field.

Besides each file's shape (`ivr.flow`), a flow is refused for an unknown node, a prompt it does not define
in each of its languages, a node the caller can never reach, a loop with no way out (a node from which no
queue, transfer or hang-up can be reached), and a queue, number or calendar the deployment does not have,
checked for every number that enters the flow with that number's attributes.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from acd.deployment.documents import field_path, line_of, read_document
from acd.deployment.errors import Problem
from acd.deployment.models import Deployment, NumberConfig
from acd.model import Channel
from ivr.flow import (
    ENDS,
    LANGUAGE,
    PLACEHOLDER,
    Flow,
    MenuNode,
    MenuOption,
    PromptFile,
    SetNode,
    edges,
    fill,
    prompts_of,
    targets_of,
)
from ivr.synthesis import PromptFileError, read_wav

FLOW_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
NUMBER = re.compile(r"^\+?[0-9]{2,15}$")
Found = list[tuple[tuple[Any, ...], str]]


def load_flows(directory: Path, deployment: Deployment, problems: list[Problem]) -> dict[str, Flow]:
    """The flows of `directory`/ivr/*.yaml, checked against `deployment`; problems are added to `problems`.

    A number of numbers.yaml that names a flow not found is a problem of numbers.yaml.
    """
    flows: dict[str, Flow] = {}
    folder = directory / "ivr"
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        name = f"ivr/{path.name}"
        if not FLOW_ID.match(path.stem):
            # Line 1 and the file's name as the field, as for a file that holds no mapping: a fault of the file.
            problems.append(Problem(name, 1, path.stem, "a flow's file name is a-z, 0-9, '_', '.', '-' then .yaml"))
            continue
        # Fields are named from the flow's name, as a section's from the section's: accueil.nodes.sie.to
        root = (path.stem,)
        data, lines = read_document(path, name, root, dict, problems)
        if data is None:
            continue
        try:
            flow = Flow.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                loc = (*root, *_without_tag(tuple(error["loc"]), data))
                problems.append(Problem(name, line_of(lines, loc), field_path(loc), error["msg"]))
            continue
        users = [(i, n) for i, n in enumerate(deployment.numbers) if n.flow == path.stem]
        found = check_flow(flow, deployment, users, folder)
        problems += [
            Problem(name, line_of(lines, (*root, *loc)), field_path((*root, *loc)), message) for loc, message in found
        ]
        flows[path.stem] = flow
    return flows


def _without_tag(loc: tuple[Any, ...], data: dict[Any, Any]) -> tuple[Any, ...]:
    """`loc` without the node's type that pydantic puts after a node's id (the tag of the nodes' union):
    ("nodes", "welcome", "play", "next") is the file's nodes.welcome.next, and its line is that field's."""
    nodes = data.get("nodes")
    if len(loc) > 2 and loc[0] == "nodes" and isinstance(nodes, dict):
        node = nodes.get(loc[1])
        if isinstance(node, dict) and node.get("type") == loc[2]:
            return (*loc[:2], *loc[3:])
    return loc


def missing_flows(deployment: Deployment, flows: Iterable[str]) -> Found:
    known = set(flows)
    return [
        (("numbers", i, "flow"), f"no flow {entry.flow!r} in ivr/ (ivr/{entry.flow}.yaml)")
        for i, entry in enumerate(deployment.numbers)
        if entry.flow is not None and entry.flow not in known
    ]


def check_flow(flow: Flow, deployment: Deployment, users: list[tuple[int, NumberConfig]], folder: Path) -> Found:
    found: Found = []
    _check_links(flow, found)
    _check_prompts(flow, folder, found)
    _check_conditions(flow, deployment, found)
    _check_targets(flow, deployment, users, found)
    if not found:
        _check_graph(flow, found)
    return found


def _check_links(flow: Flow, found: Found) -> None:
    if flow.start not in flow.nodes:
        found.append((("start",), f"unknown node {flow.start!r}"))
    for node_id, node in flow.nodes.items():
        for where, target in edges(node):
            if target not in flow.nodes:
                found.append((("nodes", node_id, *where), f"unknown node {target!r}"))
        settings: list[tuple[tuple[Any, ...], dict[str, str]]] = []
        if isinstance(node, SetNode):
            settings.append((("attributes",), node.attributes))
        if isinstance(node, MenuNode):
            settings += [(("options", k, "set"), o.set) for k, o in node.options.items() if isinstance(o, MenuOption)]
        for where, values in settings:
            language = values.get(LANGUAGE)
            if language is not None and language not in flow.languages:
                found.append((("nodes", node_id, *where, LANGUAGE), f"{language!r} is not one of the flow's languages"))


def _check_prompts(flow: Flow, folder: Path, found: Found) -> None:
    for node_id, node in flow.nodes.items():
        for where, name in prompts_of(node):
            prompt = flow.prompts.get(name)
            if prompt is None:
                found.append((("nodes", node_id, *where), f"missing prompt {name!r} (not in prompts)"))
                continue
            for language in flow.languages:
                problem = (("prompts", name), f"missing prompt {name!r} in {language!r}")
                if language not in prompt and problem not in found:  # once, however many nodes say it
                    found.append(problem)
    for name, prompt in flow.prompts.items():
        for language, said in prompt.items():
            if isinstance(said, PromptFile):
                try:
                    read_wav(folder / said.file)
                except PromptFileError as error:  # named as the flow names it, not by its absolute path
                    message = str(error).replace(str(folder / said.file), f"ivr/{said.file}")
                    found.append((("prompts", name, language, "file"), message))


def _check_conditions(flow: Flow, deployment: Deployment, found: Found) -> None:
    calendars = {calendar.id for calendar in deployment.calendars}
    for node_id, node in flow.nodes.items():
        for index, rule in enumerate(getattr(node, "rules", [])):
            for field in ("open", "closed", "holiday"):
                calendar = getattr(rule.when, field)
                if calendar is not None and calendar not in calendars:
                    found.append((("nodes", node_id, "rules", index, "if", field), f"unknown calendar {calendar!r}"))


def _check_targets(flow: Flow, deployment: Deployment, users: list[tuple[int, NumberConfig]], found: Found) -> None:
    """Each queue and number, filled with the attributes of every number entering the flow."""
    for node_id, node in flow.nodes.items():
        for where, template, kind in targets_of(node):
            loc = ("nodes", node_id, *where)
            names = PLACEHOLDER.findall(template)
            if not names:
                trouble = _target_trouble(template, kind, deployment)
                if trouble:
                    found.append((loc, trouble))
                continue
            for index, number in users:
                missing = [name for name in names if name not in number.attributes]
                if missing:
                    message = f"number {number.number} (numbers.yaml entry {index}) has no attribute {missing[0]!r}"
                    found.append((loc, f"{template!r}: {message}"))
                    continue
                trouble = _target_trouble(fill(template, number.attributes), kind, deployment)
                if trouble:
                    found.append((loc, f"{trouble}, for number {number.number}"))


def _target_trouble(target: str, kind: str, deployment: Deployment) -> str | None:
    queues = {queue.id: queue for queue in deployment.queues}
    queue = queues.get(target)
    if kind == "voicemail queue":
        if queue is None:
            return f"unknown queue {target!r}"
        return None if Channel.VOICEMAIL in queue.channels else f"queue {target!r} takes no voicemail"
    if queue is not None and kind != "number":
        return None if Channel.VOICE in queue.channels else f"queue {target!r} takes no voice calls"
    if kind == "queue" or not NUMBER.match(target):
        return f"unknown queue {target!r}" if kind != "number" else f"{target!r} is not a number"
    if deployment.settings.sip_trunk is None:
        return f"{target!r} is a number, and no settings.sip_trunk reaches numbers"
    return None


def _check_graph(flow: Flow, found: Found) -> None:
    """Every node reachable from the start, and from every node a way to an end (a queue, a transfer, a
    hang-up): a loop without one would keep a caller forever."""
    reachable = _walk([flow.start], lambda node_id: [target for _, target in edges(flow.nodes[node_id])])
    for node_id in flow.nodes:
        if node_id not in reachable:
            found.append((("nodes", node_id), f"unreachable node: no way leads to it from {flow.start!r}"))
    before: dict[str, list[str]] = {node_id: [] for node_id in flow.nodes}
    for node_id, node in flow.nodes.items():
        for _, target in edges(node):
            before[target].append(node_id)
    ends = [node_id for node_id, node in flow.nodes.items() if isinstance(node, ENDS)]
    can_end = _walk(ends, lambda node_id: before[node_id])
    for node_id in flow.nodes:
        if node_id in reachable and node_id not in can_end:
            message = "a loop with no exit: no queue, transfer or hang-up can be reached from this node"
            found.append((("nodes", node_id), message))


def _walk(starts: list[str], following: Any) -> set[str]:
    seen, waiting = set(starts), deque(starts)
    while waiting:
        for other in following(waiting.popleft()):
            if other not in seen:
                seen.add(other)
                waiting.append(other)
    return seen
