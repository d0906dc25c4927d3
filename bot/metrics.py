"""Counters for `/metrics`, rendered in the Prometheus text exposition format (version 0.0.4).

A few counters and one histogram do not need a client library: `Metrics.render()` writes them.
Reminder deliveries are counted by wrapping each platform's `Sender` in `CountingSender`, so the
reminder scheduler needs no hook of its own.
"""

from __future__ import annotations

import bisect
from collections import Counter

from bot.messages import Reply
from bot.ports import DeliveryError, Sender

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.questions: Counter[str] = Counter()
        self._latency = [0] * (len(LATENCY_BUCKETS) + 1)
        self._latency_sum = 0.0
        self.reminders_sent = 0
        self.reminders_failed: Counter[str] = Counter()
        self.knowledge_version = ""
        self.knowledge_reloads = 0
        self.knowledge_load_errors = 0

    def question(self, outcome: str, seconds: float) -> None:
        """One message handled: its outcome (answer, clarify, no_match, refused …) and time."""
        self.questions[outcome] += 1
        self._latency[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self._latency_sum += seconds

    def knowledge_loaded(self, version: str, *, reload: bool) -> None:
        self.knowledge_version = version
        self.knowledge_reloads += reload

    def knowledge_failed(self) -> None:
        self.knowledge_load_errors += 1

    def render(self) -> str:
        lines = [
            "# HELP handledarbot_questions_total Messages handled, by outcome.",
            "# TYPE handledarbot_questions_total counter",
            *(
                f'handledarbot_questions_total{{outcome="{_label(o)}"}} {n}'
                for o, n in sorted(self.questions.items())
            ),
            *self._histogram(),
            "# HELP handledarbot_reminders_sent_total Reminders the platforms accepted.",
            "# TYPE handledarbot_reminders_sent_total counter",
            f"handledarbot_reminders_sent_total {self.reminders_sent}",
            "# HELP handledarbot_reminders_failed_total Reminder deliveries refused or failed.",
            "# TYPE handledarbot_reminders_failed_total counter",
            *(
                f'handledarbot_reminders_failed_total{{kind="{k}"}} {self.reminders_failed[k]}'
                for k in ("temporary", "permanent")
            ),
            "# HELP handledarbot_knowledge_info The knowledge base in use (version label).",
            "# TYPE handledarbot_knowledge_info gauge",
            f'handledarbot_knowledge_info{{version="{_label(self.knowledge_version)}"}} 1',
            "# HELP handledarbot_knowledge_reloads_total Knowledge base reloads that succeeded.",
            "# TYPE handledarbot_knowledge_reloads_total counter",
            f"handledarbot_knowledge_reloads_total {self.knowledge_reloads}",
            "# HELP handledarbot_knowledge_load_errors_total Reloads refused as invalid.",
            "# TYPE handledarbot_knowledge_load_errors_total counter",
            f"handledarbot_knowledge_load_errors_total {self.knowledge_load_errors}",
        ]
        return "\n".join(lines) + "\n"

    def _histogram(self) -> list[str]:
        name = "handledarbot_question_seconds"
        lines = [
            f"# HELP {name} Time from a message to its reply.",
            f"# TYPE {name} histogram",
        ]
        total = 0
        for bound, count in zip((*LATENCY_BUCKETS, None), self._latency, strict=True):
            total += count
            le = "+Inf" if bound is None else repr(bound)
            lines.append(f'{name}_bucket{{le="{le}"}} {total}')
        lines += [f"{name}_sum {self._latency_sum}", f"{name}_count {total}"]
        return lines


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class CountingSender:
    """A `Sender` that counts what the wrapped sender delivered or failed to deliver."""

    def __init__(self, inner: Sender, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def send(self, address: str, reply: Reply) -> None:
        try:
            await self._inner.send(address, reply)
        except DeliveryError as error:
            self._metrics.reminders_failed["permanent" if error.permanent else "temporary"] += 1
            raise
        except Exception:
            self._metrics.reminders_failed["temporary"] += 1
            raise
        self._metrics.reminders_sent += 1
