"""Calls through the ACD under load, side by side with Kamailio + rtpengine relaying the same load.

One run builds a deployment of as many agents as the largest load needs (one queue, no wrap-up), starts
`acd serve` pinned to one core, logs the agents in and registers their phones (sipp, digest), then for
each load N: sipp places N calls at --rate calls/s, each held --hold seconds with RTP both ways (the
caller's voice from a generated pcap, the agents' phones — one sipp answering for all — echoing it),
while a probe call sends timestamped RTP through the same bridge and times its echo. It prints, per N:
failed calls, the set-up rate, the ACD's CPU seconds per call-minute, and the one-way delay the bridge
adds (p50/p99: half the probe's round trip through the ACD less half the round trip straight to the echo).

The peer: Kamailio (one worker) and rtpengine (userspace forwarding, one thread), pinned to the same core,
proxying the same calls to the same echoing phone; the same figures, and the ACD's over the peer's.

Targets on one core: >= 200 concurrent bridged calls with 0 failed, >= 50 calls/s, added delay p99 <= 40 ms.
Needs sipp (sip-tester), kamailio and rtpengine-daemon (apt-get install sip-tester kamailio rtpengine-daemon).
Run from the project root:
    .venv/bin/python -m bench.sip_load [--loads 100,200,300] [--rate 50] [--hold 20] [--no-peer]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from acd.auth import hash_password
from acd.hostport import parse_host_port
from media.sip.digest import ha1
from tests.servers import free_port, until, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "tests" / "media" / "scenarios"
HERE = Path(__file__).resolve().parent / "sip"  # the peer's configuration
NUMBER = "+33199000199"
PASSWORD = "bench-phone"
ADMIN = "bench-admin"
ACD_CORE, LOAD_CORE = "0", "1"
DELAY_TARGET_MS = 40.0  # the relay under test on one core, the load generators on the other


# ------------------------------------------------------------------------------------ the deployment


def write_deployment(directory: Path, agents: int) -> Path:
    config = directory / "config"
    config.mkdir()
    days = "".join(f'    {day}: ["00:00-24:00"]\n' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    files = {
        "settings.yaml": "name: bench\noffer_timeout: 10\nmax_calls: 5000\nsip_realm: acd.bench\n"
        "sip_digest_algorithms: [MD5, SHA-256]\nmissed_offers_limit: 100\n",
        "calendars.yaml": f"- id: always\n  public_holidays: false\n  hours:\n{days}",
        "sites.yaml": '- {id: bench, name: Bench, departments: ["69"], calendar: always}\n',
        "skills.yaml": "- {id: tva, name: TVA}\n",
        "teams.yaml": "".join(f"- {{id: t{t:03d}, name: T{t}, site: bench}}\n" for t in range((agents + 5) // 6)),
        "agents.yaml": "".join(
            f"- {{id: a{a:04d}, name: A{a}, team: t{a // 6:03d}, skills: {{tva: 3}}}}\n" for a in range(agents)
        ),
        "queues.yaml": "- id: bench\n  name: Bench\n  site: bench\n  channels: [voice]\n  wrap_up: 0\n"
        f"  teams: [{', '.join(f't{t:03d}' for t in range((agents + 5) // 6))}]\n",
        "numbers.yaml": f'- {{number: "{NUMBER}", queue: bench, name: Bench}}\n',
        "phones.yaml": "".join(
            f"- agent: a{a:04d}\n  user: a{a:04d}\n  ha1: {{MD5: {ha1('MD5', f'a{a:04d}', 'acd.bench', PASSWORD)}}}\n"
            for a in range(agents)
        ),
        "users.yaml": f'- {{id: admin, name: Admin, role: admin, password_hash: "{hash_password(ADMIN)}"}}\n',
    }
    for name, text in files.items():
        (config / name).write_text(text)
    return config


def register_phones(registrar: tuple[str, int], agents: int, phones_port: int) -> None:
    """Register every agent's phone (digest MD5, RFC 2617 with qop=auth) from the port the sipp that answers
    for all of them listens on next (the ACD rings a UDP phone where its REGISTER came from, as behind NAT).

    Done here rather than by sipp: sipp's [authentication] takes no values from an injection file.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", phones_port))
        sock.settimeout(5)
        port = sock.getsockname()[1]
        for a in range(agents):
            user = f"a{a:04d}"
            authorization = ""
            for cseq in (1, 2):
                message = (
                    f"REGISTER sip:{registrar[0]}:{registrar[1]} SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{user}{cseq}\r\n"
                    f"From: <sip:{user}@{registrar[0]}>;tag={user}\r\nTo: <sip:{user}@{registrar[0]}>\r\n"
                    f"Call-ID: reg-{user}\r\nCSeq: {cseq} REGISTER\r\n"
                    f"Contact: <sip:{user}@127.0.0.1:{phones_port}>\r\nExpires: 3600\r\n{authorization}"
                    "Content-Length: 0\r\n\r\n"
                )
                sock.sendto(message.encode(), registrar)
                reply = sock.recv(65535).decode()
                if reply.startswith("SIP/2.0 200"):
                    break
                challenge = next(line for line in reply.split("\r\n") if "algorithm=MD5" in line)
                nonce = challenge.split('nonce="', 1)[1].split('"', 1)[0]
                uri, cnonce = f"sip:{registrar[0]}:{registrar[1]}", "bench"
                ha2 = hashlib.md5(f"REGISTER:{uri}".encode()).hexdigest()
                key = ha1("MD5", user, "acd.bench", PASSWORD)
                response = hashlib.md5(f"{key}:{nonce}:00000001:{cnonce}:auth:{ha2}".encode()).hexdigest()
                authorization = (
                    f'Authorization: Digest username="{user}", realm="acd.bench", nonce="{nonce}", uri="{uri}", '
                    f'response="{response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="{cnonce}"\r\n'
                )
            else:
                raise RuntimeError(f"phone {user} not registered: {reply.splitlines()[0]}")


def write_voice_pcap(path: Path, seconds: float) -> None:
    """A caller's voice (a 440 Hz tone in PCMU) as a pcap sipp replays: Ethernet, IPv4, UDP, RTP, 20 ms apart."""
    import math
    from array import array

    from media.rtp.transcode import from_pcm8k

    encode = from_pcm8k(0)
    records = []
    for n in range(int(seconds * 50)):
        pcm = array("h", (int(8000 * math.sin(2 * math.pi * 440 * (n * 160 + i) / 8000)) for i in range(160)))
        rtp = struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, n * 160, 0x1234) + encode(pcm.tobytes())
        udp = struct.pack("!HHHH", 6000, 6002, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes(4), bytes(4)) + udp
        frame = bytes(12) + b"\x08\x00" + ip
        stamp = n * 0.020
        records.append(struct.pack("<IIII", int(stamp), int(stamp % 1 * 1e6), len(frame), len(frame)) + frame)
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + b"".join(records))


# ---------------------------------------------------------------------------------------- processes


def pinned(core: str, command: list[str]) -> list[str]:
    return ["taskset", "-c", core, *command]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(pids: list[int]) -> float:
    """CPU seconds of processes and their threads' children (Kamailio forks its workers)."""
    total = 0.0
    for pid in pids:
        total += cpu_seconds(pid)
        children = Path(f"/proc/{pid}/task/{pid}/children")
        if children.exists():
            total += sum(
                cpu_seconds(int(child)) for child in children.read_text().split() if Path(f"/proc/{child}").exists()
            )
    return total


@contextmanager
def process(command: list[str], log: Path, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        running = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
    try:
        yield running
    finally:
        running.terminate()
        try:
            running.wait(timeout=15)
        except subprocess.TimeoutExpired:
            running.kill()


@contextmanager
def working_directory(prefix: str, keep: bool) -> Iterator[Path]:
    """A fresh directory for a run's files, removed after unless `keep` (then its path is printed)."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    if keep:
        print(f"working in {work}")
    try:
        yield work
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def sipp(target: str, scenario: Path, port: int, *args: str) -> list[str]:
    return pinned(LOAD_CORE, [
        "sipp", target, "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port), "-nostdin", "-t", "u1",
        "-max_socket", "20000", *args,
    ])  # fmt: skip


# ------------------------------------------------------------------------------------------ the probe


@dataclass
class Probe:
    """A call of its own through the relay, sending timestamped RTP and timing each packet's echo."""

    target: tuple[str, int]
    number: str
    round_trips: list[float]

    async def run(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sip.bind(("127.0.0.1", 0))
        rtp.bind(("127.0.0.1", 0))
        sip.setblocking(False)
        rtp.setblocking(False)
        call_id, tag = f"probe-{time.monotonic_ns()}", "p1"
        sip_port, rtp_port = sip.getsockname()[1], rtp.getsockname()[1]
        body = (f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                f"m=audio {rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")  # fmt: skip
        head = (f"sip:{self.number}@{self.target[0]}:{self.target[1]} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{sip_port};branch=z9hG4bK{call_id}{{branch}}\r\n"
                f"From: <sip:probe@127.0.0.1:{sip_port}>;tag={tag}\r\nCall-ID: {call_id}\r\n"
                f"Contact: <sip:probe@127.0.0.1:{sip_port}>\r\nMax-Forwards: 70\r\n")  # fmt: skip
        invite = (f"INVITE {head.format(branch='i1')}To: <sip:{self.number}@{self.target[0]}>\r\nCSeq: 1 INVITE\r\n"
                  f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}")  # fmt: skip
        await loop.sock_sendto(sip, invite.encode(), self.target)
        to = ""
        while not to:
            reply = (await loop.sock_recv(sip, 65535)).decode()
            if reply.startswith("SIP/2.0 200"):
                to = next(line for line in reply.split("\r\n") if line.lower().startswith("to:"))
                rtp_to = next(line for line in reply.split("\r\n") if line.startswith("m=audio")).split()[1]
                address = next(line for line in reply.split("\r\n") if line.startswith("c=IN IP4")).split()[2]
            elif reply[8:9] in "3456":
                raise RuntimeError(f"probe call refused: {reply.splitlines()[0]}")
        ack = f"ACK {head.format(branch='a1')}{to}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
        await loop.sock_sendto(sip, ack.encode(), self.target)
        receiver = asyncio.create_task(self._receive(rtp))
        media = (address, int(rtp_to))
        for n in range(int(seconds * 50)):
            payload = struct.pack("!4sd", b"PRBE", time.perf_counter()) + bytes(148)
            await loop.sock_sendto(rtp, struct.pack("!BBHII", 0x80, 0, n, n * 160, 0xBEEF) + payload, media)
            await asyncio.sleep(0.020)
        receiver.cancel()
        bye = f"BYE {head.format(branch='b1')}{to}\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
        await loop.sock_sendto(sip, bye.encode(), self.target)
        sip.close()
        rtp.close()

    async def _receive(self, rtp: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            data = await loop.sock_recv(rtp, 2048)
            if data[12:16] == b"PRBE":  # its own packet back, not music
                self.round_trips.append(time.perf_counter() - struct.unpack_from("!d", data, 16)[0])


def probe(target: tuple[str, int], number: str, seconds: float) -> list[float]:
    trips: list[float] = []
    asyncio.run(Probe(target, number, trips).run(seconds))
    return trips


# ------------------------------------------------------------------------------------------ the runs


@dataclass
class Figures:
    load: int
    failed: int
    setup_rate: float  # calls answered per second while they were being placed
    setup_p99_ms: float  # INVITE to 200
    cpu_per_call_minute: float
    delay_p50_ms: float
    delay_p99_ms: float


def read_stats(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    names, last = lines[0].split(";"), lines[-1].split(";")
    return dict(zip(names, last))


def run_load(target: str, work: Path, load: int, rate: float, hold: float, pids: list[int],
             floor: float, pcap: Path) -> Figures:  # fmt: skip
    """N calls at `rate`, each held `hold` seconds, with a probe during the plateau."""
    stats = work / f"stats-{target.replace(':', '_')}-{load}.csv"
    host, port = parse_host_port(target)
    command = sipp(
        target, work / "caller_load.xml", free_port(), "-s", NUMBER, "-r", str(rate), "-l", str(load),
        "-m", str(load), "-d", str(int(hold * 1000)), "-mp", str(free_port()), "-trace_stat", "-stf", str(stats),
        "-fd", "1", "-timeout", str(int(hold + load / rate + 60)), "-trace_err", "-error_file", str(stats) + ".errors",
        "-trace_rtt", "-rtt_freq", "1",
    )  # fmt: skip
    for old in work.glob("caller_load_*_rtt.csv"):
        old.unlink()
    before = tree_cpu(pids)
    started = time.monotonic()
    callers = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    ramp = load / rate
    time.sleep(ramp + 1)  # every call set up: the plateau, where the probe measures
    trips = probe((host, port), NUMBER, max(2.0, hold - ramp - 3))
    callers.wait(timeout=hold + ramp + 120)
    elapsed = time.monotonic() - started
    cpu = tree_cpu(pids) - before
    figures = read_stats(stats)
    successful, failed = int(figures.get("SuccessfulCall(C)", 0)), int(figures.get("FailedCall(C)", 0))
    setups = set_up_times(work)  # (when, INVITE to 200) of each call
    span = setups[-1][0] - setups[0][0] if len(setups) > 1 else float("nan")
    setup_rate = (len(setups) - 1) / span if span else float("nan")
    latency = sorted(took for _, took in setups) or [float("nan")]
    added = sorted(max(0.0, (trip - floor) / 2) * 1000 for trip in trips) or [float("nan")]
    call_minutes = (successful + failed) * hold / 60 or float("nan")
    del elapsed
    return Figures(load, failed + (load - successful - failed), setup_rate, percentile(latency, 0.99) * 1000,
                   cpu / call_minutes, statistics.median(added), percentile(added, 0.99))  # fmt: skip


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def set_up_times(work: Path) -> list[tuple[float, float]]:
    """From sipp's -trace_rtt file: when each call was answered, and its INVITE-to-200 time, in seconds."""
    rows = []
    for path in work.glob("caller_load_*_rtt.csv"):
        for line in path.read_text().splitlines()[1:]:
            parts = line.split(";")
            if len(parts) >= 2:
                rows.append((float(parts[0]) / 1000, float(parts[1]) / 1000))
    return sorted(rows)


def floor_round_trip(echo_port: int) -> float:
    """Round trip of the probe's RTP straight to the echoing phone: what no relay can go below."""
    loop_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    loop_socket.bind(("127.0.0.1", 0))
    loop_socket.settimeout(1)
    trips = []
    for n in range(200):
        start = time.perf_counter()
        loop_socket.sendto(struct.pack("!BBHII", 0x80, 0, n, n * 160, 1) + bytes(160), ("127.0.0.1", echo_port))
        try:
            loop_socket.recv(2048)
        except TimeoutError:
            continue
        trips.append(time.perf_counter() - start)
        time.sleep(0.005)
    loop_socket.close()
    return statistics.median(trips) if trips else 0.0


@contextmanager
def acd_answering(
    work: Path, config: Path, agents: int, cores: str = ACD_CORE
) -> Iterator[tuple[subprocess.Popen[bytes], int, int, int]]:
    """`acd serve` on `cores` with `agents` logged in and their phones registered — one sipp answering every
    call and echoing its RTP; yields the process, its HTTP and SIP ports, and the echoing phone's RTP port."""
    http, sip_port, phones, media = free_port(), free_port(), free_port(), free_port()
    with ExitStack() as stack:
        acd = stack.enter_context(process(pinned(cores, [
            sys.executable, "-m", "acd.cli", "serve", "--config", str(config), "--port", str(http),
            "--sip", f"127.0.0.1:{sip_port}", "--log-level", "warning",
        ]), work / "acd.log", ROOT))  # fmt: skip
        wait_for_port(http, acd, "acd serve", 60)
        with httpx.Client(base_url=f"http://127.0.0.1:{http}", timeout=30) as admin:
            token = admin.post("/api/v1/auth/login", json={"user": "admin", "password": ADMIN}).json()["token"]
            admin.headers["authorization"] = f"Bearer {token}"
            for a in range(agents):
                admin.post(f"/api/v1/agents/a{a:04d}/login").raise_for_status()
            # The agents' phones: registered one by one, then one sipp answering every call, echoing its RTP.
            register_phones(("127.0.0.1", sip_port), agents, phones)
            stack.enter_context(process(sipp(
                f"127.0.0.1:{sip_port}", SCENARIOS / "agent_answers.xml", phones, "-rtp_echo", "-mp", str(media),
            ), work / "phones.log", work))  # fmt: skip
            until("every phone registered", lambda: all(
                agent["phone"] == "registered" for agent in admin.get("/api/v1/agents").json()
            ), 60)  # fmt: skip
        yield acd, http, sip_port, media


def acd_side(work: Path, loads: list[int], rate: float, hold: float, pcap: Path) -> tuple[list[Figures], float]:
    agents = max(loads) + 10
    with acd_answering(work, write_deployment(work, agents), agents) as (acd, _, sip_port, media):
        floor = floor_round_trip(media)
        results = [run_load(f"127.0.0.1:{sip_port}", work, load, rate, hold, [acd.pid], floor, pcap) for load in loads]
    return results, floor


def peer_side(work: Path, loads: list[int], rate: float, hold: float, pcap: Path, floor: float) -> list[Figures]:
    sip_port, phones, media, control = free_port(), free_port(), free_port(), free_port()
    config = (HERE / "kamailio.cfg").read_text().replace("SIP_PORT", str(sip_port))
    config = config.replace("PHONES_PORT", str(phones)).replace("CONTROL_PORT", str(control))
    (work / "kamailio.cfg").write_text(config)
    with ExitStack() as stack:
        engine = stack.enter_context(process(pinned(ACD_CORE, [
            "rtpengine", "--foreground", "--table=-1", "--interface=127.0.0.1", f"--listen-ng=127.0.0.1:{control}",
            "--port-min=40000", "--port-max=49999", "--num-threads=1", "--log-stderr", "--log-level=3",
        ]), work / "rtpengine.log", work))  # fmt: skip
        until("rtpengine answers its control protocol", lambda: _pong(control), 20)  # Kamailio pings it at start
        proxy = stack.enter_context(process(pinned(ACD_CORE, [
            "kamailio", "-DD", "-E", "-f", str(work / "kamailio.cfg"), "-Y", str(work), "-P", str(work / "k.pid"),
        ]), work / "kamailio.log", work))  # fmt: skip
        stack.enter_context(process(sipp(
            f"127.0.0.1:{sip_port}", SCENARIOS / "agent_answers.xml", phones, "-rtp_echo", "-mp", str(media),
        ), work / "peer-phones.log", work))  # fmt: skip
        time.sleep(2)
        for running, name in ((engine, "rtpengine"), (proxy, "kamailio")):
            if running.poll() is not None:
                raise RuntimeError(f"{name} did not start: see {work}/{name}.log")
        return [
            run_load(f"127.0.0.1:{sip_port}", work, load, rate, hold, [engine.pid, proxy.pid], floor, pcap)
            for load in loads
        ]


def _pong(port: int) -> bool:
    """rtpengine's ng protocol: a cookie, then a bencoded dictionary; a ping is answered pong."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        sock.sendto(b"c1 d7:command4:pinge", ("127.0.0.1", port))
        try:
            return b"pong" in sock.recv(1024)
        except TimeoutError:
            return False


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loads", default="100,200,300", help="concurrent calls to try, comma-separated")
    parser.add_argument("--rate", type=float, default=50.0, help="calls set up per second")
    parser.add_argument("--hold", type=float, default=20.0, help="seconds each call lasts")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (logs, statistics)")
    args = parser.parse_args()
    for tool in ("sipp", "taskset", *(() if args.no_peer else ("kamailio", "rtpengine"))):
        if shutil.which(tool) is None:
            print(f"{tool} is missing: apt-get install sip-tester kamailio rtpengine-daemon", file=sys.stderr)
            return 2
    loads = [int(n) for n in args.loads.split(",")]
    with working_directory("sip-load-", args.keep) as work:
        pcap = work / "voice.pcap"
        write_voice_pcap(pcap, args.hold + 10)
        # The test suite's caller, speaking PCMU from the generated pcap for the whole call.
        caller = (SCENARIOS / "caller.xml").read_text().replace("/usr/share/sip-tester/g711a.pcap", str(pcap))
        caller = caller.replace("RTP/AVP 8 101", "RTP/AVP 0 101").replace(
            "a=rtpmap:8 PCMA/8000", "a=rtpmap:0 PCMU/8000"
        )
        (work / "caller_load.xml").write_text(caller)
        print(f"{os.cpu_count()} cores; relay on core {ACD_CORE}, load on core {LOAD_CORE}; {args.rate:g} calls/s, "
              f"{args.hold:g} s each, RTP both ways (PCMU, 20 ms)")  # fmt: skip
        ours, floor = acd_side(work, loads, args.rate, args.hold, pcap)
        theirs = [] if args.no_peer else peer_side(work, loads, args.rate, args.hold, pcap, floor)
    print(f"round trip straight to the echoing phone (the floor): {floor * 1000:.3f} ms")
    print(f"{'':20}{'load':>6}{'failed':>8}{'calls/s':>9}{'set-up p99 ms':>15}{'CPU s/call-min':>16}"
          f"{'added delay p50 ms':>20}{'p99 ms':>8}")  # fmt: skip
    for name, rows in (("acd", ours), ("kamailio+rtpengine", theirs)):
        for row in rows:
            print(f"{name:20}{row.load:>6}{row.failed:>8}{row.setup_rate:>9.1f}{row.setup_p99_ms:>15.1f}"
                  f"{row.cpu_per_call_minute:>16.3f}{row.delay_p50_ms:>20.2f}{row.delay_p99_ms:>8.2f}")  # fmt: skip
    if theirs:
        for mine, peer in zip(ours, theirs):
            ratio = mine.cpu_per_call_minute / peer.cpu_per_call_minute if peer.cpu_per_call_minute else float("nan")
            print(
                f"load {mine.load}: the ACD uses {ratio:.1f}x the peer's CPU per call-minute; "
                f"p99 delay {mine.delay_p99_ms:.2f} ms vs {peer.delay_p99_ms:.2f} ms"
            )
    for name, rows in (("acd", ours), ("kamailio+rtpengine", theirs)):
        if not rows:
            continue
        held = [row.load for row in rows if row.failed == 0 and row.delay_p99_ms <= DELAY_TARGET_MS]
        print(f"{name}: largest load held with 0 failed calls and p99 added delay <= {DELAY_TARGET_MS:g} ms: "
              f"{max(held) if held else 0}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
