"""The RFC 4475 torture messages (tests/data/sip-torture, byte-exact) and what the ACD answers to each.

None: no answer (a response, which a UAS drops). Requests that pass the checks get the application's
answer: OPTIONS 200, REGISTER a 401 digest challenge, an INVITE to a number the deployment does not
serve 404, a method the server knows but does not take 405, an unknown one 501.
"""

from __future__ import annotations

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent.parent / "data" / "sip-torture"

EXPECTED: dict[str, int | None] = {
    # 3.1.1 valid messages
    "wsinv": 404, "intmeth": 501, "esc01": 404, "escnull": 401, "esc02": 501, "lwsdisp": 200, "longreq": 404,
    "dblreq": 401, "semiuri": 200, "transports": 200, "mpart01": 405, "unreason": None, "noreason": None,
    # 3.1.2 invalid messages
    "badinv01": 400, "clerr": 400, "ncl": 400, "scalar02": 400, "scalarlg": None, "quotbal": 400,
    "ltgtruri": 400, "lwsruri": 400, "lwsstart": 400, "trws": 400, "escruri": 400, "baddate": 404,
    "regbadct": 400, "badaspec": 400, "baddn": 400, "badvers": 505, "mismatch01": 400, "mismatch02": 501,
    "bigcode": None,
    # 3.2 transaction layer, 3.3 application layer, 3.4 backward compatibility
    "badbranch": 200, "insuf": 400, "unkscm": 416, "novelsc": 416, "unksm2": 401, "bext01": 420, "invut": 415,
    "regaut01": 401, "multi01": 400, "mcl01": 400, "bcast": None, "zeromf": 200, "cparam01": 401,
    "cparam02": 401, "regescrt": 401, "sdp01": 406, "inv2543": 404,
}  # fmt: skip
#: Headers the answer must carry (RFC 3261 §21 for each status).
REQUIRED_HEADERS = {405: "Allow", 406: "Accept", 415: "Accept", 420: "Unsupported", 501: "Allow"}
#: The RFC says these came over TCP.
OVER_TCP = {"scalar02"}


def message(name: str) -> bytes:
    return (DIRECTORY / f"{name}.dat").read_bytes()
