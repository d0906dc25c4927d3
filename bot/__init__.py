"""Handledarbot's platform-free core: knowledge base, matching, replies, reminders."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("handledarbot")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "unknown"
