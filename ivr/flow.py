"""An IVR flow as validated data: its languages, its prompts, its nodes (one YAML file of config/ivr/).

A node is one step of the caller's way: say something, ask for a key or for digits, set an attribute,
branch on a condition, wait in a queue, go to another number, leave a message, hang up. Nodes name the
node that follows them; `edges` lists those links, which the loader checks (no unknown node, every node
reachable, every loop with a way out) and the interpreter follows.

Queue ids and numbers may hold `{name}` placeholders, filled from the attributes of the dialled number
(numbers.yaml), so that one flow serves several centres.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NodeId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
PromptName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
AttributeName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Language = Literal["fr", "en"]
Key = Literal["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"]
Validator = Literal["siren", "siret", "department", "date", "phone"]
#: A queue id or a number, with {attribute} placeholders.
Target = Annotated[str, Field(pattern=r"^[+a-z0-9{][a-z0-9_.{}-]{0,127}$")]
Seconds = Annotated[float, Field(gt=0, le=3600)]
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")

#: The attribute that chooses the language of every prompt.
LANGUAGE = "language"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class PromptFile(Model):
    """A recorded WAV file that replaces the synthesised text (path relative to config/ivr/, inside it)."""

    file: Annotated[str, Field(min_length=1)]

    @field_validator("file")
    @classmethod
    def _inside(cls, value: str) -> str:
        if value.startswith("/") or ".." in value.split("/"):
            raise ValueError("a prompt's file is a path inside config/ivr/ (no leading /, no ..)")
        return value


#: A prompt in each language: the text to speak, or a recorded file.
Prompt = dict[Language, Annotated[str, Field(min_length=1)] | PromptFile]


class PlayNode(Model):
    """Say one or more prompts, then go on. A key pressed meanwhile cuts it short and is kept for the next
    question (a caller who knows the menu need not listen to it)."""

    type: Literal["play"]
    prompts: Annotated[list[PromptName], Field(min_length=1)]
    next: NodeId


class MenuOption(Model):
    go: NodeId
    set: dict[AttributeName, str] = {}


class MenuNode(Model):
    """A key chooses the next node; no key or a wrong one asks again, `retries` times, then `fallback`."""

    type: Literal["menu"]
    prompt: PromptName
    options: Annotated[dict[Key, NodeId | MenuOption], Field(min_length=1)]

    @field_validator("options", mode="before")
    @classmethod
    def _keys_as_text(cls, value: object) -> object:
        # `1: topics` is what an administrator writes; YAML reads the key as a number.
        if isinstance(value, dict):
            return {str(key) if isinstance(key, int) and 0 <= key <= 9 else key: item for key, item in value.items()}
        return value

    timeout: Seconds = 5
    retries: Annotated[int, Field(ge=0, le=5)] = 2
    invalid: PromptName | None = None
    no_input: PromptName | None = None
    fallback: NodeId


class CollectNode(Model):
    """Digits into an attribute: up to `max_length` or the terminator; checked by `validate`.

    With `optional`, the terminator alone skips the question. A wrong or missing entry asks again,
    `retries` times, then goes to `fallback`.
    """

    type: Literal["collect"]
    prompt: PromptName
    into: AttributeName
    min_length: Annotated[int, Field(ge=1, le=32)] = 1
    max_length: Annotated[int, Field(ge=1, le=32)]
    terminator: Literal["#", "*"] | None = "#"
    validate_as: Validator | None = Field(default=None, alias="validate")
    optional: bool = False
    timeout: Seconds = 8  # for the first digit, once the prompt has been said
    digit_timeout: Seconds = 4  # between digits
    retries: Annotated[int, Field(ge=0, le=5)] = 2
    invalid: PromptName | None = None
    no_input: PromptName | None = None
    next: NodeId
    fallback: NodeId

    @model_validator(mode="after")
    def _lengths(self) -> CollectNode:
        if self.min_length > self.max_length:
            raise ValueError("min_length is above max_length")
        return self


class SetNode(Model):
    type: Literal["set"]
    attributes: Annotated[dict[AttributeName, str], Field(min_length=1)]
    next: NodeId


class WaitAbove(Model):
    queue: Target
    seconds: Annotated[float, Field(ge=0)]


class AgentsBelow(Model):
    queue: Target
    count: Annotated[int, Field(ge=1)]


class Condition(Model):
    """Every condition given must hold."""

    open: str | None = None  # a calendar of calendars.yaml is open now
    closed: str | None = None  # ... is closed now (outside its hours or on a public holiday)
    holiday: str | None = None  # today is a public holiday the calendar closes for
    attribute: dict[AttributeName, str | list[str]] | None = None  # the attribute has (one of) the value(s)
    wait_above: WaitAbove | None = None  # a caller arriving now would wait longer (or nobody serves it)
    agents_below: AgentsBelow | None = None  # fewer agents logged in serve the queue

    @model_validator(mode="after")
    def _something(self) -> Condition:
        if not self.model_fields_set:
            raise ValueError("a condition needs at least one of: " + ", ".join(Condition.model_fields))
        return self


class Rule(Model):
    when: Condition = Field(alias="if")
    go: NodeId


class BranchNode(Model):
    """The first rule whose condition holds chooses the next node; none: `else`."""

    type: Literal["branch"]
    rules: Annotated[list[Rule], Field(min_length=1)]
    otherwise: NodeId = Field(alias="else")


class Announcements(Model):
    every: Annotated[float, Field(ge=15, le=600)] = 45
    position: bool = True
    wait: bool = True


class CallbackOffer(Model):
    """Offered when the estimated wait is above `above` seconds (or nobody serves the queue): 1 to be called
    back at the calling number, 2 to type another; the call-back keeps the caller's place."""

    above: Annotated[float, Field(ge=0)]
    prompt: PromptName
    number_prompt: PromptName
    confirm: PromptName
    invalid: PromptName | None = None


class MaxWait(Model):
    seconds: Seconds
    to: Target  # a queue (the caller keeps its place) or a number through the trunk


class QueueNode(Model):
    """The call waits in `queue` with music until an agent answers: the end of the flow."""

    type: Literal["queue"]
    queue: Target
    prompt: PromptName | None = None  # said once on entering
    announce: Announcements | None = None
    callback: CallbackOffer | None = None
    max_wait: MaxWait | None = None
    refused: NodeId | None = None  # the queue does not take the call (closed, full); none: hang up


class TransferNode(Model):
    """The call goes to a number through the trunk; `fallback` if it does not answer (none: hang up)."""

    type: Literal["transfer"]
    to: Target
    prompt: PromptName | None = None
    fallback: NodeId | None = None


class VoicemailNode(Model):
    """The caller leaves a message (until # or `max_seconds`): a task of `queue` with the recording."""

    type: Literal["voicemail"]
    prompt: PromptName
    queue: Target
    max_seconds: Annotated[float, Field(ge=5, le=600)] = 120
    next: NodeId


class HangupNode(Model):
    type: Literal["hangup"]
    prompt: PromptName | None = None


Node = Annotated[
    PlayNode | MenuNode | CollectNode | SetNode | BranchNode | QueueNode | TransferNode | VoicemailNode | HangupNode,
    Field(discriminator="type"),
]
#: Nodes where a flow ends: every other node must lead to one of them.
ENDS = (QueueNode, TransferNode, HangupNode)


class Flow(Model):
    """One flow file: the first language is the default, `start` the first node."""

    languages: Annotated[list[Language], Field(min_length=1)]
    prompts: dict[PromptName, Prompt] = {}
    start: NodeId
    nodes: Annotated[dict[NodeId, Node], Field(min_length=1)]

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]


def edges(node: Node) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every node `node` may lead to, with the field that names it."""
    match node:
        case PlayNode() | SetNode() | VoicemailNode():
            yield ("next",), node.next
        case MenuNode():
            for key, option in node.options.items():
                if isinstance(option, MenuOption):
                    yield ("options", key, "go"), option.go
                else:
                    yield ("options", key), option
            yield ("fallback",), node.fallback
        case CollectNode():
            yield ("next",), node.next
            yield ("fallback",), node.fallback
        case BranchNode():
            for index, rule in enumerate(node.rules):
                yield ("rules", index, "go"), rule.go
            yield ("else",), node.otherwise
        case QueueNode():
            if node.refused is not None:
                yield ("refused",), node.refused
        case TransferNode():
            if node.fallback is not None:
                yield ("fallback",), node.fallback


def prompts_of(node: Node) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every prompt `node` says, with the field that names it."""
    named: list[tuple[tuple[str | int, ...], str | None]] = []
    match node:
        case PlayNode():
            named += [(("prompts", index), name) for index, name in enumerate(node.prompts)]
        case MenuNode() | CollectNode():
            named += [(("prompt",), node.prompt), (("invalid",), node.invalid), (("no_input",), node.no_input)]
        case QueueNode():
            named.append((("prompt",), node.prompt))
            if node.callback is not None:
                offer = node.callback
                named += [
                    (("callback", "prompt"), offer.prompt),
                    (("callback", "number_prompt"), offer.number_prompt),
                    (("callback", "confirm"), offer.confirm),
                    (("callback", "invalid"), offer.invalid),
                ]
        case TransferNode() | VoicemailNode() | HangupNode():
            named.append((("prompt",), node.prompt))
    for where, name in named:
        if name is not None:
            yield where, name


def targets_of(node: Node) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """Every queue or number `node` names, with its field and what it must be ("queue", "voicemail queue",
    "number" or "queue or number")."""
    match node:
        case QueueNode():
            yield ("queue",), node.queue, "queue"
            if node.max_wait is not None:
                yield ("max_wait", "to"), node.max_wait.to, "queue or number"
        case TransferNode():
            yield ("to",), node.to, "number"
        case VoicemailNode():
            yield ("queue",), node.queue, "voicemail queue"
        case BranchNode():
            for index, rule in enumerate(node.rules):
                if rule.when.wait_above is not None:
                    yield ("rules", index, "if", "wait_above", "queue"), rule.when.wait_above.queue, "queue"
                if rule.when.agents_below is not None:
                    yield ("rules", index, "if", "agents_below", "queue"), rule.when.agents_below.queue, "queue"


def fill(template: str, attributes: Mapping[str, str]) -> str:
    """`template` with its {name} placeholders replaced by the attributes' values (a missing one stays)."""
    return PLACEHOLDER.sub(lambda match: attributes.get(match.group(1), match.group(0)), template)
