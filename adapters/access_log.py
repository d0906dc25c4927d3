"""The access log of `serve` (`HANDLEDARBOT_ACCESS_LOG`): off, sampled, or every request.

Off by default: formatting and emitting a line per request cost about a tenth of the server's
throughput (issue 15), and a reverse proxy in front usually keeps its own. `sampled` writes every
`SAMPLE`-th request and every response with status 500 or above, so a running server still shows
its traffic and its failures in the log; `all` is aiohttp's own access log, one line per request.
"""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp.log import access_logger
from aiohttp.web_log import AccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

SAMPLE = 100


class SampledAccessLogger(AccessLogger):
    """aiohttp's access log for one request in `SAMPLE` and for every server error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._count = itertools.count()

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if next(self._count) % SAMPLE == 0 or response.status >= 500:
            super().log(request, response, time)


def runner_options(mode: str) -> dict[str, Any]:
    """The `web.AppRunner` keyword arguments for access-log `mode` (off, sampled, all)."""
    if mode == "off":
        return {"access_log": None}
    if mode == "sampled":
        return {"access_log": access_logger, "access_log_class": SampledAccessLogger}
    return {"access_log": access_logger}
