"""Delivers due reminders: claim a batch under a lease, send, commit — state lives only in the DB.

Guarantees and their limits (see docs/reminders.md):
- A delivery is claimed by one scheduler at a time (row lease; SKIP LOCKED on PostgreSQL); a
  replica that dies mid-delivery loses its claims when the lease runs out, and another takes over.
- "sent" is committed right after the platform accepts the message; a crash in that window (after
  the platform's answer, before our commit) can still cause one duplicate after the lease expires.
- A delivery whose time passed while no scheduler ran is sent once, marked late; the next one is the
  first meeting after now, so a long outage never floods the user.
- 429/5xx (DeliveryError permanent=False) are retried through the DB with exponential backoff and
  jitter, never sooner than Retry-After; a permanent error pauses the reminder and is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.ports import Clock, DeliveryError, Sender
from bot.reminders.due import next_meeting
from bot.reminders.model import Claim
from bot.reminders.render import Knowledge, delivered
from bot.reminders.store import ReminderStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    batch: int = 50
    concurrency: int = 10
    lease: timedelta = timedelta(minutes=5)
    send_timeout: float = 20.0
    poll_interval: float = 5.0
    late_after: timedelta = timedelta(minutes=10)
    max_attempts: int = 12
    backoff_base: float = 2.0
    backoff_max: float = 900.0

    def check(self) -> None:
        worst = math.ceil(self.batch / self.concurrency) * self.send_timeout
        if self.lease.total_seconds() <= worst:
            raise ValueError(
                f"lease {self.lease.total_seconds()}s must exceed the worst batch time {worst}s "
                "(batch / concurrency * send_timeout), or two replicas could send the same reminder"
            )


class Scheduler:
    def __init__(
        self,
        *,
        store: ReminderStore,
        senders: Mapping[str, Sender],
        clock: Clock,
        knowledge: Knowledge,
        config: SchedulerConfig | None = None,
        name: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._senders = senders
        self._clock = clock
        self._knowledge = knowledge
        self._config = config or SchedulerConfig()
        self._config.check()
        self._name = name or uuid.uuid4().hex[:12]
        self._rng = rng or random.Random()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Claim one batch of due deliveries and deliver them; returns how many were claimed."""
        now = self._clock.now()
        token = f"{self._name}:{uuid.uuid4().hex}"
        claims = await self._store.claim(
            token, now=now, lease_until=now + self._config.lease, limit=self._config.batch
        )
        gate = asyncio.Semaphore(self._config.concurrency)

        async def one(claim: Claim) -> None:
            async with gate:
                await self._deliver(claim)

        await asyncio.gather(*(one(c) for c in claims))
        return len(claims)

    async def run(self) -> None:
        """Deliver until `stop()`; a full batch is followed at once by the next one."""
        while not self._stop.is_set():
            try:
                claimed = await self.run_once()
            except Exception:
                log.exception("reminder scheduler: claiming failed; trying again")
                claimed = 0
            if claimed < self._config.batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._config.poll_interval)

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self.run(), name=f"reminders-{self._name}")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _deliver(self, claim: Claim) -> None:
        reminder = claim.reminder
        now = self._clock.now()
        late = now - claim.scheduled_at > self._config.late_after
        reply = delivered(
            self._knowledge,
            reminder,
            claim.occurrence,
            claim.seq,
            late_since=claim.scheduled_at if late else None,
        )
        sender = self._senders.get(reminder.owner.platform)
        if sender is None:
            await self._give_up(claim, f"no sender for platform {reminder.owner.platform!r}")
            return
        try:
            await asyncio.wait_for(sender.send(reminder.address, reply), self._config.send_timeout)
        except DeliveryError as error:
            if error.permanent:
                await self._give_up(claim, str(error))
            else:
                await self._retry(claim, error.retry_after, str(error))
            return
        except Exception as error:  # timeouts, connection errors: the outcome is unknown
            await self._retry(claim, None, repr(error))
            return
        following = next_meeting(reminder, max(self._clock.now(), claim.occurrence))
        await self._store.complete(
            claim, now=self._clock.now(), late=late, next_occurrence=following
        )

    async def _retry(self, claim: Claim, retry_after: float | None, why: str) -> None:
        attempts = claim.attempts + 1
        if attempts >= self._config.max_attempts:
            await self._give_up(claim, f"gave up after {attempts} attempts: {why}")
            return
        delay = self.backoff(attempts, retry_after)
        log.info("reminder %s: delivery failed (%s); retry in %.1fs", claim.reminder.id, why, delay)
        await self._store.retry(claim, due=self._clock.now() + timedelta(seconds=delay))

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        """Full-jitter exponential backoff; never sooner than the platform's Retry-After."""
        if retry_after is not None:
            return retry_after * self._rng.uniform(1.0, 1.2)
        cap = min(self._config.backoff_max, self._config.backoff_base * 2**attempts)
        return self._rng.uniform(cap / 2, cap)

    async def _give_up(self, claim: Claim, reason: str) -> None:
        log.error(
            "reminder %s (%s:%s) paused: %s",
            claim.reminder.id,
            claim.reminder.owner.platform,
            claim.reminder.owner.user_id,
            reason,
        )
        await self._store.fail(claim, reason=reason)
