"""Delivers due reminders: claim a batch under a lease, send, commit — state lives only in the DB.

One batch is three steps: claim it (one transaction), post every delivery concurrently, and
record the outcomes (`ReminderStore.settle`, one transaction for all that arrived within
`write_delay` of each other), so the database sees a few statements per batch, not per delivery.

Guarantees and their limits (see docs/reminders.md):
- A delivery is claimed by one scheduler at a time (row lease; SKIP LOCKED on PostgreSQL); a
  replica that dies mid-delivery loses its claims when the lease runs out, and another takes over.
  Nothing claimed is lost: a delivery not settled as sent stays pending and is claimed again.
- "sent" is committed within `write_delay` (plus one transaction) of the platform accepting the
  message; a crash in that window (after the platform's answer, before our commit) can still
  cause one duplicate after the lease expires. Once committed it is never sent again.
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
from datetime import datetime, timedelta

from bot.ports import Clock, DeliveryError, Sender
from bot.reminders.due import next_meeting
from bot.reminders.model import Claim, Failed, Outcome, Retry, Sent
from bot.reminders.render import Agendas, Knowledge, delivered
from bot.reminders.store import ReminderStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    batch: int = 50
    concurrency: int = 10
    lease: timedelta = timedelta(minutes=5)
    send_timeout: float = 20.0
    poll_interval: float = 5.0
    write_delay: float = 0.5
    late_after: timedelta = timedelta(minutes=10)
    max_attempts: int = 12
    backoff_base: float = 2.0
    backoff_max: float = 900.0

    def check(self) -> None:
        worst = math.ceil(self.batch / self.concurrency) * self.send_timeout + self.write_delay
        if self.lease.total_seconds() <= worst:
            raise ValueError(
                f"lease {self.lease.total_seconds()}s must exceed the worst batch time {worst}s "
                "(batch / concurrency * send_timeout + write_delay), or two replicas could send "
                "the same reminder"
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
        self._agendas = Agendas(knowledge)
        self._config = config or SchedulerConfig()
        self._config.check()
        self._name = name or uuid.uuid4().hex[:12]
        self._rng = rng or random.Random()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Claim one batch of due deliveries, deliver and settle them; returns how many were
        claimed."""
        now = self._clock.now()
        token = f"{self._name}:{uuid.uuid4().hex}"
        claims = await self._store.claim(
            token, now=now, lease_until=now + self._config.lease, limit=self._config.batch
        )
        if claims:
            await self._deliver(claims)
        return len(claims)

    async def _deliver(self, claims: list[Claim]) -> None:
        """Post concurrently; settle what has arrived once all are in or `write_delay` after the
        first unsettled one, whichever comes first (a slow send never holds the others back)."""
        gate = asyncio.Semaphore(self._config.concurrency)
        ready: list[Outcome] = []
        arrived, finished = asyncio.Event(), asyncio.Event()
        left = len(claims)

        async def one(claim: Claim) -> None:
            nonlocal left
            async with gate:
                outcome = await self._attempt(claim)
            ready.append(outcome)
            arrived.set()
            left -= 1
            if not left:
                finished.set()

        tasks = [asyncio.create_task(one(claim)) for claim in claims]
        try:
            settled = 0
            while settled < len(claims):
                await arrived.wait()
                if not finished.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(finished.wait(), self._config.write_delay)
                batch = ready.copy()
                ready.clear()
                arrived.clear()
                await self._store.settle(batch, now=self._clock.now())
                settled += len(batch)
        finally:  # on a failed settle the unsettled stay leased and are claimed again later
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

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

    async def _attempt(self, claim: Claim) -> Outcome:
        """Send one delivery; never raises (an unexpected error is retried like a timeout)."""
        try:
            return await self._send(claim)
        except Exception as error:
            log.exception("reminder %s: delivery failed unexpectedly", claim.reminder.id)
            return self._retry(claim, None, repr(error))

    async def _send(self, claim: Claim) -> Outcome:
        reminder = claim.reminder
        late = self._clock.now() - claim.scheduled_at > self._config.late_after
        sender = self._senders.get(reminder.owner.platform)
        if sender is None:
            return self._give_up(claim, f"no sender for platform {reminder.owner.platform!r}")
        agenda = self._agendas.agenda(reminder, claim.occurrence)
        reply = delivered(
            agenda,
            reminder,
            claim.occurrence,
            claim.seq,
            late_since=claim.scheduled_at if late else None,
        )
        try:
            async with asyncio.timeout(self._config.send_timeout):
                await sender.send(reminder.address, reply)
        except DeliveryError as error:
            if error.permanent:
                return self._give_up(claim, str(error))
            return self._retry(claim, error.retry_after, str(error))
        except Exception as error:  # timeouts, connection errors: the outcome is unknown
            return self._retry(claim, None, repr(error))
        return Sent(claim, late, self._following(claim, agenda.following))

    def _following(self, claim: Claim, after_occurrence: datetime | None) -> datetime | None:
        """The meeting to queue after a sent delivery: the first one not skipped after both
        the occurrence and now (a late delivery is not followed by meetings already past)."""
        if claim.seq:
            return None
        now = self._clock.now()
        if after_occurrence is not None and after_occurrence <= now:
            return next_meeting(claim.reminder, now)
        return after_occurrence

    def _retry(self, claim: Claim, retry_after: float | None, why: str) -> Outcome:
        attempts = claim.attempts + 1
        if attempts >= self._config.max_attempts:
            return self._give_up(claim, f"gave up after {attempts} attempts: {why}")
        delay = self.backoff(attempts, retry_after)
        log.info("reminder %s: delivery failed (%s); retry in %.1fs", claim.reminder.id, why, delay)
        return Retry(claim, self._clock.now() + timedelta(seconds=delay))

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        """Full-jitter exponential backoff; never sooner than the platform's Retry-After."""
        if retry_after is not None:
            return retry_after * self._rng.uniform(1.0, 1.2)
        cap = min(self._config.backoff_max, self._config.backoff_base * 2**attempts)
        return self._rng.uniform(cap / 2, cap)

    def _give_up(self, claim: Claim, reason: str) -> Outcome:
        log.error(
            "reminder %s (%s:%s) paused: %s",
            claim.reminder.id,
            claim.reminder.owner.platform,
            claim.reminder.owner.user_id,
            reason,
        )
        return Failed(claim, reason)
