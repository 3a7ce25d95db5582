"""The softphone's one thread bridge, and the API requests its task group owns."""

from __future__ import annotations

import asyncio
import io
import threading

from headsets.softphone.acd_client import AcdClient
from headsets.softphone.app import Options, Softphone
from headsets.softphone.desk import Desk
from headsets.softphone.sip import SipAccount
from headsets.softphone.terminal import Terminal
from headsets.threads import ThreadBridge


def test_a_callback_posted_from_a_thread_runs_on_the_loops_thread() -> None:
    async def main() -> tuple[str, tuple[int, str]]:
        ran = asyncio.get_running_loop().create_future()
        bridge = ThreadBridge(asyncio.get_running_loop())

        def callback(number: int, word: str) -> None:
            ran.set_result((threading.current_thread().name, (number, word)))

        thread = threading.Thread(target=lambda: bridge.post(callback, 7, "seven"), name="blocking-library")
        thread.start()
        thread.join()
        return await ran

    assert asyncio.run(main()) == (threading.current_thread().name, (7, "seven"))


def test_what_is_posted_after_the_loop_closed_is_dropped_without_raising() -> None:
    loop = asyncio.new_event_loop()
    bridge = ThreadBridge(loop)
    loop.close()
    heard: list[int] = []
    outcome: list[bool] = []
    thread = threading.Thread(target=lambda: outcome.append(bridge.post(heard.append, 1)))
    thread.start()
    thread.join()
    assert (outcome, heard) == ([False], [])


def test_api_requests_belong_to_the_task_group_and_a_shutdown_cancels_them() -> None:
    async def main() -> list[str]:
        options = Options(
            api="http://127.0.0.1:9", user="ana", password="-", sip=SipAccount("127.0.0.1:5060", "ana", "-", "d")
        )
        softphone = Softphone(options, Desk("ana"), AcdClient(options.api), Terminal(io.StringIO(), live=False))
        said: list[str] = []
        started = asyncio.Event()

        async def forever(name: str) -> None:
            said.append(f"{name} asked")
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                said.append(f"{name} cancelled")
                raise

        try:
            softphone._ask("early", lambda: forever("early"))  # before the group runs: waits for it
            await asyncio.sleep(0)
            said.append("group opens")
            async with asyncio.TaskGroup() as group, softphone.owning(group):
                await started.wait()
                softphone._ask("late", lambda: forever("late"))
                await asyncio.sleep(0)
            said.append("group closed")
            softphone._ask("after", lambda: forever("after"))  # the agent is leaving: never asked
            await asyncio.sleep(0)
        finally:
            softphone.sound_thread.stop()
            await softphone.client.close()
        return said

    said = asyncio.run(main())
    assert said[:3] == ["group opens", "early asked", "late asked"]
    assert sorted(said[3:5]) == ["early cancelled", "late cancelled"]  # in no particular order
    assert said[5:] == ["group closed"]
