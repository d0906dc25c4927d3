"""Request latency while a large knowledge base reloads, reload duration, and start-up time.

    .venv/bin/python bench/bench_reload.py [--scale 100] [--repeats 3]

`handledarbot serve` runs in a child process over a generated base `--scale` times the real
one's entries (`make_base`: the national base of `bench/national.py`), with the engine cache in
a fresh directory. This process sends a request every 10 ms, alternately `GET /healthz` and `POST /api/chat` with a real question, and records
each one's latency. Per repeat:

1. start-up: the server is started and timed until `/healthz` answers (the first repeat with an
   empty cache: a build; later ones from the cache);
2. `--before` seconds of load: the worst latency before any edit;
3. an edit (a comment appended to a file: new files' hash, so a full build), then `admin
   reload` in the web chat, timed until its reply (the new engine is in use), and the worst
   latency of the load from the edit until 0.3 s after;
4. the edit undone and reloaded the same way: the files of the cached build, an unpickle;
5. load without a reload for as long as step 3 took (at most `QUIET_MAX` s): the worst latency
   of the machine's own noise over a window that long (step 2's is shorter: on a loaded
   machine a longer window alone has a worse worst).

The file watcher is off: on an edit it reloads the same way, 0.4 s (its debounce) later.

The target (issue 15): worst latency during the reload under 50 ms and within 5x of the worst
before the edit in the same run; start-up and reload of the 100x base under 1 s, the real base
under 0.3 s. Prints a Markdown table, one row per repeat, the real base (1x) first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiohttp import ClientSession, ClientTimeout

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.national import national_knowledge  # noqa: E402

KNOWLEDGE = ROOT / "knowledge"
QUESTION = "Hur lång är Skolverkets handledarutbildning?"
ENTRY_SECTIONS = ("courses", "roles", "guidance", "cadence_groups")
QUIET_MAX = 20.0
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def make_base(scale: int, target: Path, *, variants: bool = False) -> Path:
    """A knowledge base about `scale` times the real one's entries, written into `target`: the
    national base (`bench/national.py`), or with `variants` every real entry copied `scale` times
    (the figures before the national generator)."""
    if variants:
        return variant_knowledge(scale, target)
    return national_knowledge(scale, target)


def variant_knowledge(scale: int, target: Path) -> Path:
    """Every entry of the real base in `scale` variants (real words, own ids, the same concepts
    and scopes), so the YAML, the entries and the candidates per question grow `scale` times."""
    target.mkdir(parents=True, exist_ok=True)
    for path in KNOWLEDGE.glob("*.yaml"):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
        for section in ENTRY_SECTIONS:
            originals = data.get(section, [])
            data[section] = originals + [
                _variant(e, k) for k in range(1, scale) for e in originals
            ]
        text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
        (target / path.name).write_text(text, encoding="utf-8")
    return target


def _variant(entry: dict[str, Any], k: int) -> dict[str, Any]:
    clone = {**entry, "id": f"{entry['id']}-v{k}", "related": []}
    clone.pop("aliases", None)
    for name in ("text", "title", "name"):
        if name in entry:
            clone[name] = {lang: f"({k}) {text}" for lang, text in entry[name].items()}
    return clone


@dataclass
class Load:
    """Requests every `period` s; latencies are (start time, seconds)."""

    url: str
    period: float
    samples: list[tuple[float, float]] = field(default_factory=list)
    version: str | None = None
    errors: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        timeout = ClientTimeout(total=30)
        async with ClientSession(timeout=timeout) as session:
            turn = 0
            while not stop.is_set():
                started = time.perf_counter()
                await self._one(session, turn)
                self.samples.append((started, time.perf_counter() - started))
                turn += 1
                await asyncio.sleep(max(0.0, self.period - (time.perf_counter() - started)))

    async def _one(self, session: ClientSession, turn: int) -> None:
        try:
            if turn % 2 == 0:
                async with session.get(f"{self.url}/healthz") as response:
                    self.version = (await response.json())["knowledge_version"]
            else:
                body = {"text": QUESTION}
                async with session.post(f"{self.url}/api/chat", json=body) as response:
                    await response.read()
                    self.errors += response.status != 200
        except Exception:
            self.errors += 1

    def worst(self, start: float, end: float) -> float:
        return max((s for t, s in self.samples if start <= t <= end), default=float("nan"))


def serve(directory: Path, cache: Path, scratch: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HANDLEDARBOT_")},
        "HANDLEDARBOT_KNOWLEDGE_DIR": str(directory),
        "HANDLEDARBOT_CACHE_DIR": str(cache),
        "HANDLEDARBOT_SQLITE_PATH": str(scratch / "bot.sqlite3"),
        "HANDLEDARBOT_WEB": "true",
        "HANDLEDARBOT_RATE_LIMIT": "1000000",
        "HANDLEDARBOT_ADMINS": "web:*",
        "HANDLEDARBOT_WATCH_KNOWLEDGE": "false",
        "HANDLEDARBOT_LOG_LEVEL": "WARNING",
        "PORT": str(port),
    }
    command = [sys.executable, "-m", "adapters.cli", "serve"]
    child = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    return child, f"http://127.0.0.1:{port}"


async def until_up(url: str, child: subprocess.Popen[bytes], limit: float = 900) -> None:
    deadline = time.perf_counter() + limit
    async with ClientSession(timeout=ClientTimeout(total=2)) as session:
        while time.perf_counter() < deadline:
            assert child.poll() is None, "the server exited"
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except Exception:
                pass
            await asyncio.sleep(0.01)
    raise TimeoutError("the server never answered /healthz")


async def timed_reload(url: str, edit: Callable[[], None]) -> float:
    """Edit, then ask for `admin reload` in the web chat: its reply comes once the new engine
    is in use (the file watcher is off: it would add its 0.4 s debounce to the figure)."""
    edit()
    started = time.perf_counter()
    body = {"text": "admin reload"}
    async with (
        ClientSession(timeout=ClientTimeout(total=900)) as session,
        session.post(f"{url}/api/chat", json=body) as response,
    ):
        reply = await response.text()
    assert "reloaded" in reply or "laddades om" in reply, reply
    return time.perf_counter() - started


async def one_run(directory: Path, cache: Path, scratch: Path, before: float) -> dict[str, float]:
    started = time.perf_counter()
    child, url = serve(directory, cache, scratch)
    try:
        await until_up(url, child)
        result = {"startup": time.perf_counter() - started}
        load, stop = Load(url, 0.01), asyncio.Event()
        running = asyncio.create_task(load.run(stop))
        await asyncio.sleep(before)
        edited = directory / "courses.yaml"
        original = edited.read_bytes()
        t0 = time.perf_counter()
        result["worst_before"] = load.worst(t0 - before + 0.5, t0)
        mark = f"\n# edited {time.time()}\n".encode()  # new to the cache, whatever ran before
        result["reload"] = await timed_reload(url, lambda: _append(edited, mark))
        await asyncio.sleep(0.3)
        result["worst_reload"] = load.worst(t0, time.perf_counter())
        t1 = time.perf_counter()  # undo the edit: the files of the cached build again
        result["reload_cached"] = await timed_reload(url, lambda: edited.write_bytes(original))
        await asyncio.sleep(0.3)
        result["worst_cached"] = load.worst(t1, time.perf_counter())
        t2 = time.perf_counter()  # no reload: the machine's noise over as long a window
        await asyncio.sleep(min(result["reload"] + 0.3, QUIET_MAX))
        result["worst_quiet"] = load.worst(t2, time.perf_counter())
        stop.set()
        await running
        result["errors"] = load.errors
        return result
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(30)


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as file:
        file.write(data)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--before", type=float, default=3.0, help="seconds of load before the edit")
    parser.add_argument("--variants", action="store_true",
                        help="the older generated base: every real entry copied --scale times")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        bases = {"1x": shutil.copytree(KNOWLEDGE, scratch / "1x", ignore=_no_eval)}
        started = time.perf_counter()
        bases[f"{args.scale}x"] = make_base(
            args.scale, scratch / f"{args.scale}x", variants=args.variants
        )
        size = sum(p.stat().st_size for p in bases[f"{args.scale}x"].glob("*.yaml"))
        print(f"{args.scale}x base: {size / 1e6:.1f} MB of YAML, written in "
              f"{time.perf_counter() - started:.0f} s\n", flush=True)
        print("| base | run | start-up to /healthz | worst before edit | reload after edit "
              "| worst during it (ratio) | reload from cache | worst during it (ratio) "
              "| worst in as long a window, no reload | errors |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for label, directory in bases.items():
            cache = scratch / f"cache-{label}"
            for run in range(1, args.repeats + 1):
                r = asyncio.run(one_run(directory, cache, scratch, args.before))
                wb = r["worst_before"]
                print(f"| {label} | {run}{' (cold cache)' if run == 1 else ''} "
                      f"| {r['startup']:.2f} s | {ms(wb)} | {r['reload']:.2f} s "
                      f"| {ms(r['worst_reload'])} ({r['worst_reload'] / wb:.1f}x) "
                      f"| {r['reload_cached']:.2f} s "
                      f"| {ms(r['worst_cached'])} ({r['worst_cached'] / wb:.1f}x) "
                      f"| {ms(r['worst_quiet'])} ({r['worst_quiet'] / wb:.1f}x) "
                      f"| {r['errors']:.0f} |", flush=True)


def _no_eval(directory: str, names: list[str]) -> list[str]:
    return ["eval"] if Path(directory) == KNOWLEDGE else []


if __name__ == "__main__":
    main()
