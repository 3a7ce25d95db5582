"""The calls' audio while log-in attempts pour in: the delay `acd serve`'s RTP relay adds to a bridged call,
quiet and then under a password-guessing loop, side by side in one run.

One `acd serve` (its own deployment, two agents whose phones — one sipp — answer and echo), a probe call
through its bridge sending timestamped RTP (bench/sip_load.py's probe: added one-way delay = half its round
trip less half the round trip straight to the echoing phone), for --seconds in each phase:

    quiet    no log-in traffic
    guess    a guessing loop on one user from one address: past the limits, refused before any scrypt
    spread   every attempt a new user from a new address (X-Forwarded-For, trusted from 127.0.0.1): each
             one is checked — the worst case, bounded by login_checks_at_once
    spread, unlimited   (with --unlimited) the same against limits set out of reach and 6 checks at once:
             what the ACD did before the limits (asyncio's default pool ran up to 6 on two cores)

The guessing loops run in a process of their own (`login_flood.py flood ...`), --concurrency attempts in
flight. Run from the project root:
    .venv/bin/python -m bench.login_flood [--seconds 20] [--concurrency 16] [--unlimited]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.sip_load import (
    NUMBER,
    acd_answering,
    floor_round_trip,
    percentile,
    probe,
    working_directory,
    write_deployment,
)

AGENTS = 2
#: Limits out of reach and asyncio's default pool size on two cores: the ACD before log-ins were limited.
UNLIMITED = "login_failures_per_user: 1000\nlogin_failures_per_address: 100000\nlogin_checks_at_once: 6\n"


@dataclass
class Phase:
    name: str
    delay_p50_ms: float
    delay_p99_ms: float
    packets: int
    attempts_per_s: float
    answers: dict[str, int]


# ------------------------------------------------------------------------------- the guessing process


async def flood(url: str, mode: str, seconds: float, concurrency: int) -> dict[str, int]:
    """Wrong passwords for `seconds`, `concurrency` in flight; the count of each answer's status."""
    counts: dict[str, int] = {}
    numbers = itertools.count()
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:

        async def guesser() -> None:
            while time.monotonic() < deadline:
                n = next(numbers)
                user, address = ("admin", "192.0.2.1") if mode == "guess" else (f"user-{n}", _address(n))
                answer = await client.post(
                    "/api/v1/auth/login",
                    json={"user": user, "password": f"guess-{n}"},
                    headers={"x-forwarded-for": address},
                )
                counts[str(answer.status_code)] = counts.get(str(answer.status_code), 0) + 1

        await asyncio.gather(*(guesser() for _ in range(concurrency)))
    return counts


def _address(n: int) -> str:
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


# --------------------------------------------------------------------------------------------- the runs


def phase(
    name: str, sip: tuple[str, int], http: int, mode: str | None, args: argparse.Namespace, floor: float
) -> Phase:
    guessing = None
    if mode is not None:
        guessing = subprocess.Popen(
            [sys.executable, "-m", "bench.login_flood", "flood", f"http://127.0.0.1:{http}", mode,
             str(args.seconds + 2), str(args.concurrency)],
            stdout=subprocess.PIPE,
        )  # fmt: skip
        time.sleep(1)  # the loop running before the probe starts
    trips = probe(sip, NUMBER, args.seconds)
    answers: dict[str, int] = {}
    if guessing is not None:
        out, _ = guessing.communicate(timeout=args.seconds + 120)
        answers = json.loads(out)
    added = sorted(max(0.0, (trip - floor) / 2) * 1000 for trip in trips) or [float("nan")]
    rate = sum(answers.values()) / (args.seconds + 2)
    return Phase(name, statistics.median(added), percentile(added, 0.99), len(trips), rate, answers)


def run(work: Path, args: argparse.Namespace, settings: str, suffix: str, modes: list[str | None]) -> list[Phase]:
    work.mkdir()
    config = write_deployment(work, AGENTS)
    with (config / "settings.yaml").open("a") as out:
        out.write(settings)
    cores = ",".join(str(n) for n in range(os.cpu_count() or 1))
    with acd_answering(work, config, AGENTS, cores) as (_, http, sip_port, media):
        floor = floor_round_trip(media)
        return [phase(f"{mode or 'quiet'}{suffix}", ("127.0.0.1", sip_port), http, mode, args, floor) for mode in modes]


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "flood":  # the guessing process
        url, mode, seconds, concurrency = sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
        print(json.dumps(asyncio.run(flood(url, mode, seconds, concurrency))))
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase (the probe call)")
    parser.add_argument("--concurrency", type=int, default=16, help="log-in attempts in flight")
    parser.add_argument("--unlimited", action="store_true", help="also the spread flood without the limits")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (logs)")
    args = parser.parse_args()
    if shutil.which("sipp") is None:
        print("sipp is missing: apt-get install sip-tester", file=sys.stderr)
        return 2
    with working_directory("login-flood-", args.keep) as work:
        phases = run(work / "limited", args, "", "", [None, "guess", "spread"])
        if args.unlimited:
            phases += run(work / "unlimited", args, UNLIMITED, ", unlimited", ["spread"])
    print(
        f"{os.cpu_count()} cores, acd serve on all; {args.concurrency} attempts in flight; {args.seconds:g} s a phase"
    )
    print(f"{'phase':22}{'attempts/s':>11}{'answers':>34}{'packets':>9}{'added delay p50 ms':>20}{'p99 ms':>8}")
    for row in phases:
        answers = " ".join(f"{status}:{count}" for status, count in sorted(row.answers.items())) or "-"
        print(f"{row.name:22}{row.attempts_per_s:>11.1f}{answers:>34}{row.packets:>9}"
              f"{row.delay_p50_ms:>20.2f}{row.delay_p99_ms:>8.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
