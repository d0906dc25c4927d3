"""A cache of built engines on disk, so that start-up and a reload of an unchanged knowledge base
only unpickle what an earlier run built.

An entry is keyed by the bytes of every `*.yaml` file in the knowledge directory, the source of
the `bot` package (a new release never reads an old engine) and the settings the engine is built
with. A cache file that cannot be read (truncated, written by another Python) is ignored and
rebuilt; a cache directory that cannot be written only costs the next start-up its speed.
Only files this process or its build child wrote are unpickled: the directory is the operator's
(`HANDLEDARBOT_CACHE_DIR`), like the knowledge directory itself. A file holds the engine pickled
in pieces (`bot.enginepickle`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from bot import enginepickle
from bot.answering.engine import Engine

log = logging.getLogger(__name__)

_PACKAGE = Path(__file__).resolve().parent
_KEEP = 4  # cache files kept per directory: the current base and a few edits back


@cache
def code_version() -> str:
    """A digest of the `bot` package's source: pickles of another version's classes are stale."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(_PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(directory: Path, options: Iterable[object] = ()) -> str:
    """The key of the engine built from `directory` with `options` (contact texts, region)."""
    digest = hashlib.sha256(code_version().encode())
    digest.update(repr(tuple(options)).encode())
    for path in sorted(directory.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


class EngineCache:
    def __init__(self, *, directory: Path) -> None:
        self._directory = directory

    def path(self, key: str) -> Path:
        return self._directory / f"engine-{key}.pickle"

    def read(self, key: str) -> bytes | None:
        """The pickled engine stored under `key`, if any."""
        try:
            return self.path(key).read_bytes()
        except OSError:
            return None

    async def unpickle(self, key: str, data: bytes, *, serving: bool = True) -> Engine | None:
        """The engine in `data` (as `store` wrote it), or None (logged) if it is unreadable.
        Runs on the event loop, pausing for it while `serving` (`enginepickle.load`)."""
        try:
            engine = await enginepickle.load(data, serving=serving)
        except Exception as error:  # truncated, or classes that changed: rebuild instead
            log.warning("engine cache %s unreadable (%s): rebuilding", self.path(key), error)
            return None
        return engine if isinstance(engine, Engine) else None

    def store(self, key: str, engine: Engine) -> None:
        self.write(key, enginepickle.dumps(engine))

    def write(self, key: str, data: bytes) -> None:
        """Store atomically (a reader never sees half a file); a failure is logged, not raised."""
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self._directory, delete=False) as file:
                file.write(data)
            os.replace(file.name, self.path(key))
            self._prune()
        except OSError as error:
            log.warning(
                "engine cache not written to %s (%s): start-up will build the engine; set "
                "HANDLEDARBOT_CACHE_DIR to a writable directory", self._directory, error
            )

    def _prune(self) -> None:
        files = sorted(
            self._directory.glob("engine-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for old in files[_KEEP:]:
            old.unlink(missing_ok=True)
