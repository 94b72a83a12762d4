"""Amazon EventBridge Scheduler: schedule groups (with ``default`` always there, tags),
schedules with one-time ``at()``, ``rate()`` and ``cron()`` expressions evaluated in an
IANA time zone, start and end dates, flexible time windows, and templated (SQS, SNS,
EventBridge bus, Lambda) or universal (``aws-sdk:<service>:<action>``) targets with a
retry policy and an SQS dead-letter queue, all on the cloudlet clock.

Module map: handlers in ``groups`` (schedule groups), ``schedules``, ``tags``. Behind
them: ``expressions`` (parsing and the next occurrence, pure), ``timers`` (a schedule's
next firing booked with the core scheduler), ``invoke`` (calling a target, retries,
dead letters), ``jobs`` (what the scheduler runs), ``storage``, ``errors``.
"""

from __future__ import annotations

from typing import Any

MODULES = ["groups", "schedules", "tags"]


def register_jobs(scheduler: Any) -> None:
    """Called by the scheduler the first time a Scheduler job is due (e.g. after a restart)."""
    from cloudlet.services.scheduler import jobs

    jobs.register(scheduler)
