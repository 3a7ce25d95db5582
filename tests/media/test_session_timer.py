"""Session timers (RFC 4028): what the ACD agrees to, pure; and against sipp callers, over the network."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from media.calls import task_id_for
from media.sip.checks import Request, check
from media.sip.session_timer import IntervalTooSmall, MalformedSessionExpires, SessionTimer, negotiate
from tests.media.sipp import Centre, demo_config, finished, running_centre

TVA = "+33199000101"


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    directory = tmp_path_factory.mktemp("timers")
    # These callers send no audio: the media timeout waits longer than any session timer here.
    with running_centre(directory, demo_config(directory, "media_timeout: 300\n")) as running:
        yield running


def invite(*headers: str) -> Request:
    lines = [
        "INVITE sip:+33199000101@acd SIP/2.0", "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1", "From: <sip:a@b>;tag=1",
        "To: <sip:+33199000101@acd>", "Call-ID: st", "CSeq: 1 INVITE", *headers, "Content-Length: 0",
    ]  # fmt: skip
    request = check(("\r\n".join(lines) + "\r\n\r\n").encode())
    assert isinstance(request, Request), request
    return request


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ((), None),
        (("Session-Expires: 1800", "Supported: timer"), SessionTimer(1800, "uac")),
        (("Session-Expires: 1800;refresher=uas", "Supported: 100rel, timer"), SessionTimer(1800, "uas")),
        (("Session-Expires: 600",), SessionTimer(600, "uas")),  # §9: the caller cannot refresh without support
        (("Session-Expires: 90;refresher=uac", "Supported: timer"), SessionTimer(90, "uac")),
    ],
)
def test_the_timer_agreed_is_the_one_asked_for_with_a_refresher_that_can(
    headers: tuple[str, ...], expected: SessionTimer | None
) -> None:
    assert negotiate(invite(*headers)) == expected


def test_an_interval_below_the_minimum_is_refused_422_and_a_malformed_one_400() -> None:
    with pytest.raises(IntervalTooSmall, match="Session-Expires 89 is below 90") as short:
        negotiate(invite("Session-Expires: 89", "Supported: timer"))
    assert short.value.status == 422
    with pytest.raises(MalformedSessionExpires) as malformed:
        negotiate(invite("Session-Expires: soon"))
    assert malformed.value.status == 400


def test_a_session_ends_at_its_deadline_and_the_acd_refreshes_at_half_time() -> None:
    assert SessionTimer(1800, "uac").deadline(1000.0) == 1000.0 + 1800 - 32  # RFC 4028 §10: at most 32 s early
    assert SessionTimer(90, "uac").deadline(0.0) == 60.0  # a third of a short interval
    assert SessionTimer(1800, "uas").refresh_at(0.0) == 900.0
    assert SessionTimer(1800, "uac").headers() == (("session-expires", "1800;refresher=uac"), ("require", "timer"))
    assert SessionTimer(1800, "uas").headers() == (("session-expires", "1800;refresher=uas"),)


def test_a_caller_asking_for_a_timer_gets_it_and_refreshes_by_update(centre: Centre) -> None:
    finished(centre.sipp("caller_session_timer.xml", "-s", TVA, "-d", "500"), centre)


def test_a_caller_asking_for_too_short_a_timer_is_refused_422(centre: Centre) -> None:
    finished(centre.sipp("caller_short_timer.xml", "-s", TVA), centre)


def test_a_session_is_refreshed_by_the_acd_or_ended_at_its_deadline(centre: Centre) -> None:
    # Both callers at once (a minute: RFC 4028's shortest interval is 90 s, its deadline 60 s in):
    # one refreshes nothing and is hung up by its deadline; the other cannot refresh, so the ACD does,
    # by re-INVITE at half the interval, which the caller answers before hanging up itself.
    forgotten = centre.sipp("caller_never_refreshes.xml", "-s", TVA, timeout=120)
    refreshed = centre.sipp("caller_refreshed.xml", "-s", TVA, "-d", "1000", timeout=120)
    finished(refreshed, centre, timeout=120)
    finished(forgotten, centre, timeout=120)
    task = task_id_for(f"1-{forgotten.pid}@127.0.0.1")
    notes = [(e["reason"], e["data"]) for e in centre.events(task=task) if e["kind"] == "task_noted"]
    assert notes == [("session_expired", {"side": "session"})]
