"""Start-up checks that turn an environment problem into one line telling the operator what to fix.

`StartupError` carries that line; the command line prints it and exits with status 2 (the same as
a configuration error), never with a traceback. The checks here run before the bot opens its
store or binds its port, and `describe_store_error` / `describe_bind_error` translate what the
database driver or the socket raised when the check could not foresee it.
"""

from __future__ import annotations

import errno
import socket
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

from bot.settings import Settings

EXIT_CONFIGURATION = 2


class StartupError(Exception):
    """The bot cannot start; `str(error)` is one line naming the setting and what to do."""


def knowledge_variable(settings: Settings, *, from_option: bool = False) -> str:
    """What pointed at the knowledge folder: `--knowledge` or `HANDLEDARBOT_KNOWLEDGE_DIR`."""
    return "--knowledge" if from_option else "HANDLEDARBOT_KNOWLEDGE_DIR"


def check_knowledge_dir(settings: Settings, *, from_option: bool = False) -> None:
    """Raise `StartupError` unless the knowledge folder exists and holds `*.yaml` files."""
    directory = settings.knowledge_dir
    named = knowledge_variable(settings, from_option=from_option)
    if from_option or "knowledge_dir" in settings.model_fields_set:
        where = f"{named}={directory}:"
        fix = f"point {named} at the knowledge base folder (the project's knowledge/)"
    else:
        where = f"HANDLEDARBOT_KNOWLEDGE_DIR is not set and the default {directory}:"
        fix = ("set HANDLEDARBOT_KNOWLEDGE_DIR to the knowledge base folder (the project's "
               "knowledge/; an installed package does not include it)")
    if not directory.is_dir():
        raise StartupError(f"{where} no such folder; {fix}.")
    if not any(directory.glob("*.yaml")):
        raise StartupError(f"{where} the folder has no *.yaml files; {fix}.")


def check_sqlite(path: Path) -> None:
    """Raise `StartupError` unless the SQLite file at `path` can be created and written.

    Run before the store opens it: a write lock is taken and a table made and rolled back, which
    fails on a read-only file, a read-only folder (SQLite needs its -wal and -shm files beside
    it) or a missing folder.
    """
    fix = "make the file and its folder writable by this user, or set HANDLEDARBOT_SQLITE_PATH"
    try:
        folder_exists = path.parent.is_dir()
    except OSError as error:
        raise StartupError(
            f"HANDLEDARBOT_SQLITE_PATH={path}: cannot reach the folder {path.parent} "
            f"({error.strerror}); {fix}."
        ) from None
    if not folder_exists:
        raise StartupError(
            f"HANDLEDARBOT_SQLITE_PATH={path}: the folder {path.parent} does not exist; create it "
            "or set HANDLEDARBOT_SQLITE_PATH to a file in a writable folder."
        )
    try:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    except sqlite3.Error as error:
        raise StartupError(f"HANDLEDARBOT_SQLITE_PATH={path}: cannot open ({error}); {fix}.") from None
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("CREATE TABLE handledarbot_write_check (x INTEGER)")
        connection.execute("ROLLBACK")
    except sqlite3.DatabaseError as error:
        raise StartupError(
            f"HANDLEDARBOT_SQLITE_PATH={path}: cannot write ({error}); {fix}."
        ) from None
    finally:
        connection.close()


def describe_store_error(error: BaseException, settings: Settings) -> str | None:
    """One line for an error raised while opening the store, or None when it is not one we know.

    Recognised: PostgreSQL unreachable (refused, unknown host, timeout), database missing,
    authentication refused, missing privileges; SQLite cannot open or write.
    """
    if settings.database_url:
        where = postgres_location(settings.database_url)
        name = type(error).__name__
        if name == "InvalidCatalogNameError":
            return (f"DATABASE_URL: the database does not exist on {where} ({error}); create it "
                    "(createdb, see docs/deploy.md) or fix the database name in DATABASE_URL.")
        if name in ("InvalidPasswordError", "InvalidAuthorizationSpecificationError"):
            return (f"DATABASE_URL: PostgreSQL on {where} refused the login ({error}); fix the "
                    "user or password in DATABASE_URL.")
        if name == "InsufficientPrivilegeError":
            return (f"DATABASE_URL: the user lacks a privilege on {where} ({error}); grant it "
                    "as docs/deploy.md shows.")
        if isinstance(error, OSError | TimeoutError):
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            return (f"DATABASE_URL: cannot reach PostgreSQL on {where} ({reason}); start the "
                    "database or fix the host and port in DATABASE_URL.")
        return None
    if isinstance(error, sqlite3.Error):
        return (f"HANDLEDARBOT_SQLITE_PATH={settings.sqlite_path}: {error}; make the file and its "
                "folder writable, or set HANDLEDARBOT_SQLITE_PATH.")
    return None


def describe_bind_error(error: OSError, settings: Settings, port: int) -> str:
    """One line for a failure to listen on `settings.host`:`port`."""
    if error.errno == errno.EADDRINUSE:
        return (f"HANDLEDARBOT_PORT={port}: the port is already in use on {settings.host}; stop "
                "the other program or set HANDLEDARBOT_PORT (or PORT) to a free port.")
    if error.errno in (errno.EACCES, errno.EPERM):
        return (f"HANDLEDARBOT_PORT={port}: not allowed to listen on it (ports below 1024 need "
                "privileges); use a port of 1024 or more behind a reverse proxy.")
    if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
        return (f"HANDLEDARBOT_HOST={settings.host}: not an address of this machine; use "
                "127.0.0.1 (local only) or 0.0.0.0 (all interfaces, in a container).")
    return (f"cannot listen on {settings.host}:{port} ({error.strerror or error}); check "
            "HANDLEDARBOT_HOST and HANDLEDARBOT_PORT.")


def postgres_location(url: str) -> str:
    """`host:port/database` of a PostgreSQL URL, without user or password."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"{host}:{parts.port or 5432}{parts.path or '/'}"


def store_description(settings: Settings) -> str:
    """Which store is in use, for the start-up log line (never a password)."""
    if settings.database_url:
        return f"PostgreSQL {postgres_location(settings.database_url)}"
    return f"SQLite {settings.sqlite_path.resolve()}"
