"""Per-user rate limit: at most `limit` messages in any `window` seconds (a sliding window).

Refused messages do not count, so a user who waits a moment gets through again. The clock is a
monotonic seconds function, injected so that tests move time by hand.

`RateLimiter` counts in this process; `bot.sharedstate.SqlRateLimiter` counts over every replica
on one database. Both are `Limiter`s.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Protocol

MAX_USERS = 50_000  # users remembered; the least recently seen are forgotten first


class Limiter(Protocol):
    async def admit(self, user: str) -> float | None:
        """Count one message of `user`: None when admitted, else seconds until they may send."""
        ...


class RateLimiter:
    def __init__(
        self, *, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window > 0")
        self._limit = limit
        self._window = window
        self._clock = clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, user: str) -> bool:
        """Count one message of `user`; False when it is over the limit (and is not counted)."""
        now = self._clock()
        times = self._seen.pop(user, None) or deque()
        while times and times[0] <= now - self._window:
            times.popleft()
        allowed = len(times) < self._limit
        if allowed:
            times.append(now)
        self._seen[user] = times
        while len(self._seen) > MAX_USERS:
            self._seen.popitem(last=False)
        return allowed

    async def admit(self, user: str) -> float | None:
        """`Limiter.admit`: `allow`, and the wait when refused."""
        return None if self.allow(user) else self.retry_after(user)

    def retry_after(self, user: str) -> float:
        """Seconds until `user` may send again (0 when they may now)."""
        times = self._seen.get(user)
        if not times or len(times) < self._limit:
            return 0.0
        return max(0.0, times[0] + self._window - self._clock())
