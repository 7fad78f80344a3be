"""The tasks: each calls one service function inside the job's unit of work.

Tasks are plain functions here; :func:`register` declares them on an app, with their names,
queues and retry strategy, so every app (the worker's, a test's) gets task objects of its
own. A failure is retried with exponential backoff (5 s, 25 s, about 2, 10 and 52 minutes)
and then kept as ``failed`` in ``procrastinate_jobs``.
"""

from __future__ import annotations

import logging

from procrastinate import App, JobContext, RetryStrategy

from app.service.notifications.service import SEND_WELCOME
from app.service.users.relay import RELAY_USER_DELETED
from app.worker.context import services_of

__all__ = [
    "PURGE_EXPIRED_TOKENS",
    "PURGE_EXPIRED_TOKENS_CRON",
    "RELAY_RETRY",
    "RETRY",
    "RETRY_STALLED_JOBS",
    "RETRY_STALLED_JOBS_CRON",
    "purge_expired_tokens",
    "register",
    "relay_user_deleted",
    "retry_stalled_jobs",
    "send_welcome",
]

logger = logging.getLogger(__name__)

#: Up to 5 retries after the first attempt, waiting 5 ** attempt seconds before each.
RETRY = RetryStrategy(max_attempts=5, exponential_wait=5)
#: Another service may be down for a while: up to 8 retries, the last about 22 hours on.
RELAY_RETRY = RetryStrategy(max_attempts=8, exponential_wait=5)

PURGE_EXPIRED_TOKENS = "auth.purge_expired_tokens"
PURGE_EXPIRED_TOKENS_CRON = "0 * * * *"  # hourly
RETRY_STALLED_JOBS = "jobs.retry_stalled"
#: Every 15 seconds (croniter's sixth field is the second): with a worker presumed dead
#: after STALLED_AFTER_SECONDS, a job whose worker died runs again within a minute.
RETRY_STALLED_JOBS_CRON = "* * * * * */15"
MAINTENANCE_QUEUE = "maintenance"
#: A worker silent for this long is presumed dead (it beats every 10 s; procrastinate's
#: own ``stalled_worker_timeout`` is the same).
STALLED_AFTER_SECONDS = 30


def send_welcome(context: JobContext, user_id: str) -> None:
    services_of(context).notifications.send_welcome(user_id)


def relay_user_deleted(context: JobContext, user_id: str) -> None:
    services_of(context).user_events.deliver_user_deleted(user_id)


def purge_expired_tokens(context: JobContext, timestamp: int) -> int:
    purged = services_of(context).auth.purge_expired()
    logger.info("purged %d expired or revoked tokens", purged)
    return purged


async def retry_stalled_jobs(context: JobContext, timestamp: int) -> int:
    """Put back in the queue the jobs of workers that died mid-job (killed, out of memory).

    Touches only procrastinate's tables, through its own job manager: no unit of work.
    """
    manager = context.app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS))
    for job in stalled:
        logger.warning("retrying job %s of a worker that stopped beating", job.id)
        await manager.retry_job(job)
    return len(stalled)


def register(app: App, *, periodic: bool = True) -> None:
    """Declare the tasks on ``app``; ``periodic=False`` leaves them off the schedule."""
    app.task(name=SEND_WELCOME.name, queue=SEND_WELCOME.queue, retry=RETRY, pass_context=True)(
        send_welcome
    )
    app.task(
        name=RELAY_USER_DELETED.name,
        queue=RELAY_USER_DELETED.queue,
        retry=RELAY_RETRY,
        pass_context=True,
    )(relay_user_deleted)
    purge = app.task(
        name=PURGE_EXPIRED_TOKENS,
        queue=MAINTENANCE_QUEUE,
        retry=RETRY,
        pass_context=True,
        # At most one waiting: hours missed while no worker ran do not pile up.
        queueing_lock=PURGE_EXPIRED_TOKENS,
    )(purge_expired_tokens)
    stalled = app.task(
        name=RETRY_STALLED_JOBS,
        queue=MAINTENANCE_QUEUE,
        pass_context=True,
        queueing_lock=RETRY_STALLED_JOBS,
    )(retry_stalled_jobs)
    if periodic:
        app.periodic(cron=PURGE_EXPIRED_TOKENS_CRON)(purge)
        app.periodic(cron=RETRY_STALLED_JOBS_CRON)(stalled)
