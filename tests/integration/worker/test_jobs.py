"""Background jobs run for real: enqueued in the sign-up's transaction, run by a worker batch."""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.api.rest import create_app as create_rest_app
from app.bootstrap import Runtime, Services
from app.config import Settings
from app.db.models import TokenRow, UserRow
from app.service.notifications.service import SEND_WELCOME, welcome_message
from app.service.users.service import UserEvents, UsersService
from app.worker import tasks
from tests.conftest import TickingClock
from tests.factories import DEFAULT_PASSWORD, Factories
from tests.integration.worker.conftest import Queue

WELCOME = SEND_WELCOME.name


class MailServerDown(Exception):
    pass


class FailingMailer:
    def __init__(self) -> None:
        self.attempts = 0

    def send(self, *, to: str, subject: str, body: str) -> None:
        self.attempts += 1
        raise MailServerDown("connection refused")


def test_a_sign_up_commits_its_welcome_job_with_the_user(
    factories: Factories, queue: Queue
) -> None:
    user = factories.user()
    # Committed with the user, before any worker ran: a crash now loses nothing.
    [job] = queue.jobs(WELCOME)
    assert (job.queue_name, job.status, job.attempts) == ("mail", "todo", 0)
    assert job.args == {"user_id": str(user.id)}
    assert queue.mail_to(user.email) == []


def test_the_worker_delivers_the_welcome_message(factories: Factories, queue: Queue) -> None:
    user = factories.user(display_name="Ada Lovelace")
    queue.run_batch()
    [mail] = queue.mail_to(user.email)
    assert (mail.subject, mail.body) == welcome_message("Ada Lovelace")
    assert mail.sender == "no-reply@localhost"
    assert queue.jobs(WELCOME) == []  # succeeded, so removed
    queue.run_batch()
    assert len(queue.mail_to(user.email)) == 1  # delivered once


def test_a_rolled_back_sign_up_enqueues_nothing(
    runtime: Runtime, services: Services, session: Session, queue: Queue
) -> None:
    def fail_after_the_welcome_job(user_id: Any) -> None:
        assert len(queue.jobs(WELCOME)) == 1  # enqueued, inside the transaction
        raise RuntimeError("something later in the sign-up failed")

    events = UserEvents(
        registered=[services.notifications.user_registered, fail_after_the_welcome_job]
    )
    users = UsersService(
        session, runtime.passwords, clock=runtime.now, cursors=runtime.cursors, events=events
    )
    with pytest.raises(RuntimeError, match="later in the sign-up"):
        users.register(email="rolled.back@example.com", display_name="R", password=DEFAULT_PASSWORD)

    assert session.scalar(select(func.count()).select_from(UserRow)) == 0
    assert queue.jobs(WELCOME) == []
    queue.run_batch()
    assert queue.mail_to("rolled.back@example.com") == []


def test_a_failing_job_is_retried_with_backoff_then_kept_as_failed(
    runtime: Runtime, factories: Factories, queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailer = FailingMailer()
    monkeypatch.setattr(runtime, "mailer", lambda session: mailer)
    user = factories.user()
    waits = []
    for attempt in range(1, 6):
        started = dt.datetime.now(dt.UTC)
        queue.run_batch()
        [job] = queue.jobs(WELCOME)
        assert (job.status, job.attempts) == ("todo", attempt)
        waits.append((job.scheduled_at - started).total_seconds())
        queue.run_batch()  # not due yet: nothing runs
        assert mailer.attempts == attempt
        queue.make_due()
    # 5 ** attempt seconds: 5 s, 25 s, about 2, 10 and 52 minutes.
    for waited, expected in zip(waits, (5, 25, 125, 625, 3125), strict=True):
        assert expected <= waited < expected + 5, waits

    queue.run_batch()
    [job] = queue.jobs(WELCOME)
    assert (job.status, job.attempts) == ("failed", 6)  # parked: kept, never run again
    queue.make_due()
    queue.run_batch()
    assert mailer.attempts == 6
    assert queue.mail_to(user.email) == []


def test_a_failing_task_still_runs_the_teardown_hooks(
    runtime: Runtime, factories: Factories, queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailer = FailingMailer()
    monkeypatch.setattr(runtime, "mailer", lambda session: mailer)
    teardown = runtime.lifecycle.teardown
    seen: list[tuple[int, bool]] = []

    def watched_teardown() -> None:
        # Whether the job's session was still open when the hooks started, then run them.
        seen.append((mailer.attempts, runtime.database.sessions.registry.has()))
        teardown()
        assert not runtime.database.sessions.registry.has()

    monkeypatch.setattr(runtime.lifecycle, "teardown", watched_teardown)
    factories.user()
    queue.run_batch()
    assert mailer.attempts == 1
    assert seen == [(1, True)]  # after the failure, with the job's session, which it removed


def test_no_message_for_a_user_deleted_before_the_job_ran(
    services: Services, factories: Factories, queue: Queue
) -> None:
    user = factories.user()
    services.users.delete(user.id)
    queue.run_batch()
    assert queue.mail_to(user.email) == []
    assert queue.jobs(WELCOME) == []  # succeeded: nothing to retry


def test_the_hourly_purge_removes_expired_and_revoked_tokens(
    runtime: Runtime,
    services: Services,
    factories: Factories,
    queue: Queue,
    session: Session,
    clock: TickingClock,
) -> None:
    user = factories.user()
    factories.token(user)  # expires below
    revoked = factories.token(user)
    services.auth.revoke(revoked)
    clock.advance(seconds=runtime.settings.token_ttl_seconds + 1)
    fresh = factories.token(user)

    top_of_the_hour = int(dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC).timestamp())
    assert queue.schedule(tasks.PURGE_EXPIRED_TOKENS, top_of_the_hour) == "0 * * * *"
    queue.schedule(tasks.PURGE_EXPIRED_TOKENS, top_of_the_hour)  # once an hour, whoever asks
    assert [job.args for job in queue.jobs(tasks.PURGE_EXPIRED_TOKENS)] == [
        {"timestamp": top_of_the_hour}
    ]

    queue.run_batch()
    assert session.scalar(select(func.count()).select_from(TokenRow)) == 1
    assert services.auth.resolve(fresh).id == user.id
    assert queue.jobs(tasks.PURGE_EXPIRED_TOKENS) == []


def test_jobs_of_a_worker_that_died_are_run_again(
    factories: Factories, queue: Queue, session: Session
) -> None:
    user = factories.user()
    # A worker took the job, then was killed: no heartbeat for five minutes.
    dead = session.execute(
        text(
            "INSERT INTO procrastinate_workers (last_heartbeat) "
            "VALUES (now() - interval '5 minutes') RETURNING id"
        )
    ).scalar_one()
    session.execute(
        text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = :worker"),
        {"worker": dead},
    )
    queue.run_batch()
    assert queue.mail_to(user.email) == []  # a job in progress is not taken twice

    assert queue.schedule(tasks.RETRY_STALLED_JOBS, int(time.time())) == "* * * * * */15"
    queue.run_batch()
    [job] = queue.jobs(WELCOME)
    assert (job.status, job.attempts) == ("todo", 1)
    queue.make_due()
    queue.run_batch()
    assert len(queue.mail_to(user.email)) == 1


def test_a_welcome_job_run_again_after_it_sent_its_mail_sends_nothing(
    factories: Factories, queue: Queue, session: Session
) -> None:
    user = factories.user()
    queue.run_batch()
    assert len(queue.mail_to(user.email)) == 1
    # As if the worker had died after sending, before the queue recorded the job as done:
    # the stalled-job sweep puts the same job back.
    session.execute(
        text(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status) "
            "VALUES ('mail', :task, CAST(:args AS jsonb), 'todo')"
        ),
        {"task": WELCOME, "args": f'{{"user_id": "{user.id}"}}'},
    )
    queue.run_batch()
    assert len(queue.mail_to(user.email)) == 1  # at most once per sign-up


def test_sigterm_lets_the_running_job_finish_then_stops_the_worker(
    runtime: Runtime, factories: Factories, queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.name == "nt" or threading.current_thread() is not threading.main_thread():
        pytest.skip("the worker's signal handlers need POSIX signals and the main thread")
    outbox = runtime.mailer

    class StoppedMidJobMailer:
        def __init__(self, session: Session) -> None:
            self._outbox = outbox(session)

        def send(self, *, to: str, subject: str, body: str) -> None:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)  # still working when the worker hears the signal
            self._outbox.send(to=to, subject=subject, body=body)

    monkeypatch.setattr(runtime, "mailer", StoppedMidJobMailer)
    first, second = factories.user(), factories.user()
    # wait=True: only the signal ends this worker.
    queue.run_batch(wait=True, install_signal_handlers=True)
    assert len(queue.mail_to(first.email)) == 1  # finished, and marked succeeded
    assert [job.status for job in queue.jobs(WELCOME)] == ["todo"]  # not started
    assert queue.mail_to(second.email) == []


def test_a_sign_up_through_rest_gets_its_welcome_message_from_the_worker(
    settings: Settings, queue: Queue
) -> None:
    client = create_rest_app(settings).test_client()
    response = client.post(
        "/v1/users",
        json={
            "email": "Rest.User@Example.com",
            "display_name": "Rest",
            "password": DEFAULT_PASSWORD,
        },
    )
    assert response.status_code == 201, response.json
    assert queue.mail_to("rest.user@example.com") == []  # not sent by the request
    queue.run_batch()
    [mail] = queue.mail_to("rest.user@example.com")
    assert mail.subject == welcome_message("Rest")[0]
