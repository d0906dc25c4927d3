"""The engine cache: an unchanged base starts from the cache, an edit is built anew, and a cache
file that cannot be read is rebuilt rather than trusted or fatal."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.answering.engine import Engine
from bot.app import build_engine
from bot.enginebuild import EngineBuilder
from bot.enginecache import EngineCache
from bot.evaluation import load_questions
from bot.render_text import render_text
from bot.settings import Settings, load_settings
from tests.conftest import KNOWLEDGE

QUESTION = "Hur lång är Skolverkets handledarutbildning?"


class Counted:
    """`build_engine`, counting how often the base was really built."""

    def __init__(self) -> None:
        self.builds = 0

    def __call__(self, settings: Settings) -> Engine:
        self.builds += 1
        return build_engine(settings)


def _builder(tmp_path: Path, compile: Counted) -> tuple[EngineBuilder, Path]:
    directory = tmp_path / "knowledge"
    if not directory.exists():
        shutil.copytree(KNOWLEDGE, directory)
    settings = load_settings(env_file=None).model_copy(update={"knowledge_dir": directory})
    cache = EngineCache(directory=tmp_path / "cache")
    return EngineBuilder(settings=settings, compile=compile, cache=cache), directory


async def test_an_unchanged_base_is_loaded_from_the_cache(tmp_path: Path) -> None:
    """The cached engine (pickled in pieces) gives the built one's replies, every one of them."""
    compile = Counted()
    first = await _builder(tmp_path, compile)[0].build(serving=False)
    second = await _builder(tmp_path, compile)[0].build(serving=False)  # the next start-up
    assert compile.builds == 1
    assert second is not first and second.version == first.version
    for question in load_questions(KNOWLEDGE / "eval" / "questions.yaml"):
        assert render_text(second.answer(question.q)) == render_text(first.answer(question.q))


async def test_an_edit_is_built_anew(tmp_path: Path) -> None:
    compile = Counted()
    builder, directory = _builder(tmp_path, compile)
    assert "5–6 timmar" in render_text((await builder.build(serving=False)).answer(QUESTION))
    courses = directory / "courses.yaml"
    courses.write_text(
        courses.read_text(encoding="utf-8").replace('"Ca 5–6 timmar"', '"Ca sju timmar"'),
        encoding="utf-8",
    )
    assert "sju timmar" in render_text((await builder.build(serving=False)).answer(QUESTION))
    assert compile.builds == 2


async def test_a_corrupt_cache_file_is_rebuilt_not_trusted(tmp_path: Path) -> None:
    compile = Counted()
    await _builder(tmp_path, compile)[0].build(serving=False)
    (cached,) = (tmp_path / "cache").glob("engine-*.pickle")
    cached.write_bytes(cached.read_bytes()[:1000])  # a write cut short
    engine = await _builder(tmp_path, compile)[0].build(serving=False)
    assert compile.builds == 2 and "5–6 timmar" in render_text(engine.answer(QUESTION))
    await _builder(tmp_path, compile)[0].build(serving=False)  # the rebuilt engine was stored again
    assert compile.builds == 2


async def test_a_cache_directory_that_cannot_be_written_only_costs_speed(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the directory should be", encoding="utf-8")
    compile = Counted()
    engine = await _builder(tmp_path, compile)[0].build(serving=False)
    assert "5–6 timmar" in render_text(engine.answer(QUESTION))
