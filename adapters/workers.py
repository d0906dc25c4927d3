"""`handledarbot serve --workers N`: N server processes on one port, under one supervisor.

Python runs one request at a time per process, so a second core needs a second process. Each
worker is an ordinary `handledarbot serve` that binds the port with SO_REUSEPORT; the kernel
spreads incoming connections over the workers. Everything a conversation needs lives in the
store (SQLite file or PostgreSQL): the open clarification, the follow-up context, the rate-limit
windows, the Slack and Teams marks, reminders and their claims. So a question asked on one worker
is continued on another, as with replicas (docs/deploy.md).

The supervisor (this process) reserves the port first (a bound socket that never listens takes
no connections; it resolves `--port 0` and fails once, clearly, when the port is taken), starts
the workers, forwards SIGTERM/SIGINT to them and waits for them to finish the answers in progress.
When one worker exits on its own, the others are stopped and the supervisor exits with the
worker's status: a process manager (systemd, Docker, Kubernetes) restarts the whole.

Per worker, not shared: `GET /metrics` (each worker counts its own requests; scrape each, or
use one worker when the counts matter), `admin reload` (the other workers reload on their own
when they watch the knowledge folder, the default). Linux only (SO_REUSEPORT balancing).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import signal
import socket
import sys
from collections.abc import Callable, Sequence

from bot.settings import Settings
from bot.startup import StartupError, describe_bind_error

STOP_TIMEOUT = 30.0  # seconds workers get to finish after SIGTERM before they are killed
PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent dies


def reserve(settings: Settings, port: int) -> socket.socket:
    """A socket bound to (host, port) with SO_REUSEPORT and never listening: it holds the port
    for the workers. Raises `StartupError` when the port cannot be bound."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    reserved = socket.socket(family, socket.SOCK_STREAM)
    reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        reserved.bind((settings.host.strip("[]"), port))
    except OSError as error:
        reserved.close()
        raise StartupError(describe_bind_error(error, settings, port)) from None
    return reserved


def worker_command(port: int, knowledge: str | None) -> list[str]:
    """The command line of one worker: `serve` on `port`, joining the others with SO_REUSEPORT."""
    options = ["--knowledge", knowledge] if knowledge else []
    return [
        sys.executable, "-m", "adapters.cli", *options,
        "serve", "--port", str(port), "--workers", "1", "--reuse-port",
    ]  # fmt: skip


async def supervise(
    commands: Sequence[Sequence[str]], *, announce: Callable[[str], None] | None = None
) -> int:
    """Run one worker per command until SIGTERM/SIGINT or until one exits; the exit status."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    workers = [
        await asyncio.create_subprocess_exec(*command, preexec_fn=_die_with_parent)
        for command in commands
    ]
    if announce is not None:
        announce(", ".join(str(w.pid) for w in workers))
    try:
        exits = [asyncio.create_task(w.wait()) for w in workers]
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([*exits, stopping], return_when=asyncio.FIRST_COMPLETED)
        first = next((task for task in exits if task in done), None)
        status = 0 if first is None else (first.result() or 1)
        stopping.cancel()
        await _stop_all(workers)
        return status
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


def _die_with_parent() -> None:
    """In a worker before it starts: SIGTERM when the supervisor dies, even by SIGKILL, so that
    no worker is left holding the port."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


async def _stop_all(workers: Sequence[asyncio.subprocess.Process]) -> None:
    for worker in workers:
        if worker.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            await asyncio.wait_for(worker.wait(), STOP_TIMEOUT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                worker.kill()
            await worker.wait()


def run(settings: Settings, *, workers: int, port: int | None, knowledge: str | None) -> int:
    """`serve --workers N` (N ≥ 2): reserve the port, run the workers; the exit status."""
    try:
        reserved = reserve(settings, settings.port if port is None else port)
    except StartupError as error:
        print(f"handledarbot serve: {error}", file=sys.stderr)
        return 2
    with reserved:
        bound = reserved.getsockname()[1]
        commands = [worker_command(bound, knowledge)] * workers

        def announce(pids: str) -> None:
            print(
                f"handledarbot: {workers} workers on port {bound} (pids {pids})",
                file=sys.stderr,
                flush=True,
            )

        return asyncio.run(supervise(commands, announce=announce))
