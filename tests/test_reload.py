"""Editing knowledge/ while the bot runs: valid edits are picked up, broken ones refused and reported."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot import enginepickle
from bot.admin import AdminCommands, Admins
from bot.answering.engine import Engine
from bot.app import build_engine
from bot.enginebuild import EngineBuilder
from bot.enginecache import EngineCache
from bot.messages import Message
from bot.metrics import Metrics
from bot.reload import KnowledgeReloader
from bot.render_text import render_text
from bot.service import Service
from bot.settings import Settings, load_settings
from tests.conftest import KNOWLEDGE

QUESTION = "Hur lång är Skolverkets handledarutbildning?"
OLD, NEW = "5–6 timmar", "sju timmar"
TIMEOUT = 10.0


class Running:
    """A service over a copy of knowledge/, with its watcher running and an admin on 'slack'."""

    def __init__(
        self,
        directory: Path,
        *,
        compile: Callable[[Settings], Engine] = build_engine,
        child_above: int | None = None,
        cache: EngineCache | None = None,
    ) -> None:
        settings = load_settings(env_file=None).model_copy(update={"knowledge_dir": directory})
        self.directory = directory
        self.metrics = Metrics()
        self.admin = AdminCommands(admins=Admins.parse("slack:T1:COORD"))
        self.service = Service(engine=build_engine(settings), commands=[self.admin])
        cache = cache or EngineCache(directory=directory.parent / "cache")
        builder = EngineBuilder(
            settings=settings, compile=compile, cache=cache, child_above=child_above
        )
        self.reloader = KnowledgeReloader(
            service=self.service, directory=directory, build=builder.build, metrics=self.metrics
        )
        self.admin.connect(reload=self.reloader.reload)

    async def ask(self, text: str, user: str = "T1:U-ANNA") -> str:
        message = Message(text=text, user_id=user, conversation_id=user, platform="slack")
        return render_text(await self.service.handle(message))


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    bot = Running(Path(shutil.copytree(KNOWLEDGE, tmp_path / "knowledge")))
    stop = asyncio.Event()
    watcher = asyncio.create_task(bot.reloader.watch(stop=stop, debounce_ms=50))
    await asyncio.sleep(0)  # let awatch start before the test edits anything
    await _settle(bot)
    yield bot
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(watcher, TIMEOUT)


async def _settle(bot: Running) -> None:
    """Wait until the watcher is running (a no-op touch is seen and reloaded)."""
    courses = bot.directory / "courses.yaml"
    before = bot.metrics.knowledge_reloads
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while bot.metrics.knowledge_reloads == before:
        courses.write_text(courses.read_text(encoding="utf-8"), encoding="utf-8")
        await _until(lambda: bot.metrics.knowledge_reloads > before, timeout=0.5, must=False)
        assert asyncio.get_running_loop().time() < deadline, "the watcher never started"


async def _until(
    condition: Callable[[], bool], *, timeout: float = TIMEOUT, must: bool = True
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            assert not must, "condition not met in time"
            return
        await asyncio.sleep(0.02)


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


async def test_a_valid_edit_is_answered_without_restart(running: Running) -> None:
    assert OLD in await running.ask(QUESTION)
    version = running.service.engine.version
    replace(running.directory / "courses.yaml", '"Ca 5–6 timmar"', '"Ca sju timmar"')
    await _until(lambda: running.service.engine.version != version)
    assert NEW in await running.ask(QUESTION)


async def test_a_broken_edit_is_refused_and_the_old_answers_keep_coming(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    version = running.service.engine.version
    errors = running.metrics.knowledge_load_errors
    caplog.set_level(logging.ERROR, logger="bot.reload")
    replace(
        running.directory / "courses.yaml",
        "reviewed: 2026-11-23\n    name:\n      sv: Skolverkets",
        "reviewed: someday\n    name:\n      sv: Skolverkets",
    )
    await _until(lambda: running.metrics.knowledge_load_errors > errors)
    assert running.service.engine.version == version
    assert OLD in await running.ask(QUESTION)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "courses.yaml:41" in logged and "reviewed" in logged
    # The coordinator asks for a reload in chat and gets the same problems back.
    said = await running.ask("admin reload", user="T1:COORD")
    assert "courses.yaml:41" in said and "previous version" in said
    assert str(running.directory) not in said  # the file is named relative to knowledge/
    # Fixing the file brings the edit in.
    replace(running.directory / "courses.yaml", "reviewed: someday", "reviewed: 2026-11-20")
    await _until(lambda: running.service.engine.version != version)
    assert "Region Stockholm" in await running.ask(QUESTION)


async def test_the_old_engine_answers_while_the_new_one_is_built_off_the_event_loop(
    tmp_path: Path,
) -> None:
    """The build waits in its worker until the test lets it go: meanwhile the event loop runs
    and questions get the old answer; the edit is answered once the new engine is swapped in."""
    started, go = threading.Event(), threading.Event()
    built_in: list[threading.Thread] = []

    def slow_build(settings: Settings) -> Engine:
        built_in.append(threading.current_thread())
        started.set()
        assert go.wait(TIMEOUT), "the test never let the build finish"
        return build_engine(settings)

    directory = Path(shutil.copytree(KNOWLEDGE, tmp_path / "knowledge"))
    bot = Running(directory, compile=slow_build)  # in a thread
    replace(bot.directory / "courses.yaml", '"Ca 5–6 timmar"', '"Ca sju timmar"')
    reload = asyncio.create_task(bot.reloader.reload())
    await _until(started.is_set)
    assert OLD in await bot.ask(QUESTION)
    assert not reload.done() and OLD in await bot.ask(QUESTION)
    go.set()
    outcome = await asyncio.wait_for(reload, TIMEOUT)
    assert not outcome.problems
    assert NEW in await bot.ask(QUESTION)
    assert built_in and built_in[0] is not threading.main_thread()


class _Watched(EngineCache):
    """The engine cache, telling when it has begun to unpickle."""

    def __init__(self, *, directory: Path) -> None:
        super().__init__(directory=directory)
        self.unpickling = asyncio.Event()

    async def unpickle(self, key: str, data: bytes, *, serving: bool = True) -> Engine | None:
        self.unpickling.set()
        return await super().unpickle(key, data, serving=serving)


async def test_the_old_engine_answers_while_a_cached_engine_is_unpickled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unpickling runs on the event loop in slices (`bot.enginepickle`); between them the old
    engine keeps answering, and the cached one answers once it is swapped in."""
    monkeypatch.setattr(enginepickle, "SLICE", 0.0)  # a pause after every piece
    cache = _Watched(directory=tmp_path / "cache")
    bot = Running(Path(shutil.copytree(KNOWLEDGE, tmp_path / "knowledge")), cache=cache)
    courses = bot.directory / "courses.yaml"
    original = courses.read_text(encoding="utf-8")
    replace(courses, '"Ca 5–6 timmar"', '"Ca sju timmar"')
    assert not (await bot.reloader.reload()).problems  # built, and cached
    courses.write_text(original, encoding="utf-8")
    assert not (await bot.reloader.reload()).problems
    assert OLD in await bot.ask(QUESTION)
    replace(courses, '"Ca 5–6 timmar"', '"Ca sju timmar"')  # the cached files again
    cache.unpickling.clear()
    reload = asyncio.create_task(bot.reloader.reload())
    await asyncio.wait_for(cache.unpickling.wait(), TIMEOUT)
    assert OLD in await bot.ask(QUESTION) and not reload.done()
    assert not (await asyncio.wait_for(reload, TIMEOUT)).problems
    assert NEW in await bot.ask(QUESTION)


async def test_a_reload_built_in_a_child_process_brings_its_problems_back(tmp_path: Path) -> None:
    """What a running bot does (`child_above=0`): a valid edit is answered, a broken one is
    refused with its file and line, as from a build in this process."""
    bot = Running(Path(shutil.copytree(KNOWLEDGE, tmp_path / "knowledge")), child_above=0)
    replace(bot.directory / "courses.yaml", '"Ca 5–6 timmar"', '"Ca sju timmar"')
    assert not (await bot.reloader.reload()).problems
    assert NEW in await bot.ask(QUESTION)
    version = bot.service.engine.version
    replace(bot.directory / "courses.yaml", "reviewed: 2026-11-23", "reviewed: 2026-13-45")
    problems = (await bot.reloader.reload()).problems
    assert problems[0].startswith("courses.yaml:") and "2026-13-45" in problems[0]
    assert bot.service.engine.version == version and NEW in await bot.ask(QUESTION)


async def test_a_reload_frees_the_engine_it_replaced(tmp_path: Path) -> None:
    """Freed piece by piece in a worker thread after the swap: a bot reloaded every day does not
    keep every day's knowledge base in memory."""
    bot = Running(Path(shutil.copytree(KNOWLEDGE, tmp_path / "knowledge")))
    replaced = weakref.ref(bot.service.engine)
    replace(bot.directory / "courses.yaml", '"Ca 5–6 timmar"', '"Ca sju timmar"')
    assert not (await bot.reloader.reload()).problems
    assert NEW in await bot.ask(QUESTION)
    await _until(lambda: replaced() is None)


async def test_admin_reload_of_a_valid_base_says_which_version(running: Running) -> None:
    said = await running.ask("admin ladda om", user="T1:COORD")
    assert f"version {running.service.engine.version}" in said and "laddades om" in said


async def test_an_impossible_date_is_refused_and_the_watcher_keeps_going(running: Running) -> None:
    """2026-13-45 is refused with its file and line; the old base keeps answering."""
    errors = running.metrics.knowledge_load_errors
    version = running.service.engine.version
    replace(running.directory / "courses.yaml", "reviewed: 2026-11-23", "reviewed: 2026-13-45")
    await _until(lambda: running.metrics.knowledge_load_errors > errors)
    first = running.reloader.last.problems[0]
    assert first.startswith("courses.yaml:") and "reviewed" in first and "2026-13-45" in first
    assert OLD in await running.ask(QUESTION)
    replace(running.directory / "courses.yaml", "reviewed: 2026-13-45", "reviewed: 2026-11-22")
    await _until(lambda: running.service.engine.version != version)


async def test_the_running_bot_watches_its_knowledge_directory(tmp_path: Path) -> None:
    """What `handledarbot serve` and `chat` start: `build_runtime(...).start()`."""
    from bot.app import build_runtime

    directory = Path(shutil.copytree(KNOWLEDGE, tmp_path / "knowledge"))
    settings = load_settings(env_file=None).model_copy(
        update={"knowledge_dir": directory, "sqlite_path": tmp_path / "bot.sqlite3"}
    )
    runtime = await build_runtime(settings, {})
    runtime.start()
    try:
        version = runtime.service.engine.version
        courses = directory / "courses.yaml"
        replace(courses, '"Ca 5–6 timmar"', '"Ca sju timmar"')
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while runtime.service.engine.version == version:
            # The watcher task may start after the edit: touch the file until it is seen.
            courses.write_text(courses.read_text(encoding="utf-8"), encoding="utf-8")
            await _until(lambda: runtime.service.engine.version != version, timeout=0.5, must=False)
            assert asyncio.get_running_loop().time() < deadline, "no reload"
        message = Message(text=QUESTION, user_id="u", conversation_id="u", platform="test")
        assert NEW in render_text(await runtime.service.handle(message))
        assert runtime.metrics.knowledge_version == runtime.service.engine.version
    finally:
        await runtime.aclose()
