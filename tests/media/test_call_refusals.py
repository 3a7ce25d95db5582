"""Calls the ACD refuses, and requests it must not take twice, against a running `acd serve`: over the
node's call limit (503 with Retry-After), to a closed queue (480), with no codec it carries (488), a
malformed offer (488), and an INVITE repeated over UDP (answered alike, one task)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from media.calls import task_id_for
from tests.media.sipp import Centre, demo_config, finished, running_centre
from tests.servers import free_port, until

TVA = "+33199000101"
CLOSED = "+33199000998"  # a number of this test's configuration, to a queue that never opens


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    directory = tmp_path_factory.mktemp("refusals")
    config = demo_config(directory, "max_calls: 2\n")
    with (config / "calendars.yaml").open("a") as calendars:
        calendars.write("- id: never\n  public_holidays: false\n  hours: {}\n")
    with (config / "queues.yaml").open("a") as queues:
        queues.write(
            "- id: lons-night\n  name: Night\n  site: lons\n  channels: [voice]\n  calendar: never\n"
            "  when_closed: {action: reject}\n"
        )
    with (config / "numbers.yaml").open("a") as numbers:
        numbers.write(f'- {{number: "{CLOSED}", queue: lons-night, name: Night}}\n')
    with running_centre(directory, config) as running:
        yield running


class Trunk:
    """A caller's UDP socket sending hand-written INVITEs, reading what comes back."""

    def __init__(self, centre: Centre) -> None:
        self.centre = centre
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]

    def invite(self, number: str, call_id: str, sdp: str | None = None, branch: str = "z9hG4bK1") -> bytes:
        body = sdp if sdp is not None else (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {free_port()} RTP/AVP 0\r\n"
        )  # fmt: skip
        return (
            f"INVITE sip:{number}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch}\r\n"
            f"From: <sip:caller@127.0.0.1>;tag=c1\r\nTo: <sip:{number}@127.0.0.1>\r\nCall-ID: {call_id}\r\n"
            f"CSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.1:{self.port}>\r\nMax-Forwards: 70\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}"
        ).encode()

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, ("127.0.0.1", self.centre.sip))

    def final(self) -> str:
        while True:
            reply = self.sock.recv(65535).decode()
            if not reply.startswith("SIP/2.0 1"):
                return reply

    def in_dialog(self, reply: str, call_id: str, method: str, cseq: int, body: str = "", kind: str = "") -> None:
        """A request in the dialog the final response `reply` made."""
        to = next(line for line in reply.split("\r\n") if line.startswith("To:"))
        content = f"Content-Type: {kind}\r\n" if kind else ""
        self.send((
            f"{method} sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{method}{cseq}\r\n"
            f"From: <sip:caller@127.0.0.1>;tag=c1\r\n{to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n"
            f"Max-Forwards: 70\r\n{content}Content-Length: {len(body)}\r\n\r\n{body}"
        ).encode())  # fmt: skip

    def ack_and_bye(self, reply: str, call_id: str) -> None:
        self.in_dialog(reply, call_id, "ACK", 1)
        self.in_dialog(reply, call_id, "BYE", 2)


@pytest.fixture
def trunk(centre: Centre) -> Iterator[Trunk]:
    caller = Trunk(centre)
    yield caller
    caller.sock.close()


def test_a_call_over_the_nodes_limit_is_503_with_retry_after(centre: Centre, trunk: Trunk) -> None:
    waiting = [centre.sipp("caller_is_hung_up.xml", "-s", TVA, "-mp", str(free_port())) for _ in range(2)]
    tasks = [task_id_for(f"1-{process.pid}@127.0.0.1") for process in waiting]
    until("both calls wait", lambda: all("task_queued" in centre.kinds(task) for task in tasks), 20)
    trunk.send(trunk.invite(TVA, "over-the-limit"))
    reply = trunk.final()
    assert reply.startswith("SIP/2.0 503 ") and "\r\nRetry-After: 30\r\n" in reply, reply
    assert centre.events(task=task_id_for("over-the-limit")) == []  # no task was made
    for task, process in zip(tasks, waiting):
        assert centre.admin.delete(f"/api/v1/tasks/{task}").status_code == 200
        finished(process, centre)


def test_a_call_to_a_closed_queue_is_480(centre: Centre, trunk: Trunk) -> None:
    trunk.send(trunk.invite(CLOSED, "closed"))
    reply = trunk.final()
    assert reply.startswith("SIP/2.0 480 "), reply
    assert [e["kind"] for e in centre.events(task=task_id_for("closed"))] == ["task_rejected"]


@pytest.mark.parametrize(
    ("name", "sdp", "expected"),
    [
        (
            "no-codec",
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n",
            "488",
        ),
        (
            "no-audio",
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\n",
            "488",
        ),
        ("garbage", "this is not a session description", "488"),
        ("late-offer", "", "488"),
    ],
)
def test_an_offer_the_acd_cannot_carry_is_refused_and_keeps_nothing(
    centre: Centre, trunk: Trunk, name: str, sdp: str, expected: str
) -> None:
    trunk.send(trunk.invite(TVA, name, sdp=sdp))
    reply = trunk.final()
    assert reply.startswith(f"SIP/2.0 {expected} "), reply
    assert centre.events(task=task_id_for(name)) == []
    assert all(call["task"] != task_id_for(name) for call in centre.admin.get("/api/v1/calls").json())


def test_a_repeated_invite_is_answered_alike_and_makes_one_task(centre: Centre, trunk: Trunk) -> None:
    invite = trunk.invite(TVA, "repeated", branch="z9hG4bKrepeat")
    trunk.send(invite)
    first = trunk.final()
    trunk.send(invite)  # as if the 200 had been lost (RFC 3261 §17.2.1)
    second = trunk.final()
    assert first.startswith("SIP/2.0 200 ") and second == first
    trunk.ack_and_bye(first, "repeated")
    task = task_id_for("repeated")
    until("the call abandoned", lambda: "task_ended" in centre.kinds(task), 10)
    assert centre.kinds(task).count("task_queued") == 1


def test_keys_by_sip_info_are_taken_and_bad_ones_refused(centre: Centre, trunk: Trunk) -> None:
    trunk.send(trunk.invite(TVA, "keys"))
    answer = trunk.final()
    assert answer.startswith("SIP/2.0 200 ")
    trunk.in_dialog(answer, "keys", "ACK", 1)
    for cseq, body, kind, expected in [
        (2, "", "", "200"),  # an empty INFO: a keep-alive
        (3, "hello", "text/plain", "415"),
        (4, "Signal=X\r\nDuration=160\r\n", "application/dtmf-relay", "400"),
        (5, "Signal=7\r\nDuration=160\r\n", "application/dtmf-relay", "200"),
        (6, "9", "application/dtmf", "200"),
    ]:
        trunk.in_dialog(answer, "keys", "INFO", cseq, body, kind)
        assert trunk.final().startswith(f"SIP/2.0 {expected} ")
    trunk.in_dialog(answer, "keys", "BYE", 7)
    assert trunk.final().startswith("SIP/2.0 200 ")
    task = task_id_for("keys")

    def keys() -> list[str]:
        return [e["data"]["digit"] for e in centre.events(task=task) if e["kind"] == "task_noted"]

    until("the keys in the task's events", lambda: len(keys()) >= 2, 10)  # (told to the core after the 200s)
    assert keys() == ["7", "9"]
