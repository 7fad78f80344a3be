"""The service's settings: the shared base plus what its features need."""

from __future__ import annotations

from typing import ClassVar, Literal, Self

from pydantic import Field, SecretStr, model_validator

from common.config import BaseServiceSettings, load_settings

__all__ = ["Settings", "load"]

#: host:port (or a gRPC target such as dns:///host:port); empty for none.
_ADDRESS = r"^[A-Za-z0-9._:/\-\[\]]*$"


class Settings(BaseServiceSettings):
    """Read from the environment (and ``.env`` when not deployed); see ``.env.example``."""

    secret_fields: ClassVar[tuple[str, ...]] = ("secret_key",)

    # auth: argon2id cost. The defaults follow RFC 9106's second recommendation; tests lower them.
    password_time_cost: int = Field(default=3, ge=1, le=20)
    password_memory_cost_kib: int = Field(default=64 * 1024, ge=8, le=4 * 1024 * 1024)
    password_parallelism: int = Field(default=4, ge=1, le=64)
    #: the shortest password a sign-up or a change accepts (NIST SP 800-63B asks for 8 at least).
    password_min_length: int = Field(default=12, ge=8, le=128)
    token_ttl_seconds: int = Field(default=24 * 3600, ge=60, le=90 * 24 * 3600)
    #: failed log-ins allowed per account, and per client address, in one throttle window;
    #: past them, log-ins are refused (429 / RESOURCE_EXHAUSTED) until the window ends.
    login_max_failures_per_account: int = Field(default=10, ge=1, le=10_000)
    login_max_failures_per_address: int = Field(default=100, ge=1, le=100_000)
    login_throttle_window_seconds: int = Field(default=900, ge=1, le=24 * 3600)

    # REST server (python -m app.api.rest). Loopback by default; containers set 0.0.0.0.
    rest_host: str = Field(default="127.0.0.1", pattern=r"^[A-Za-z0-9.:\-\[\]]+$")
    rest_port: int = Field(default=8000, ge=0, le=65535)
    #: worker processes (the name Heroku-style platforms already set).
    web_concurrency: int = Field(default=2, ge=1, le=64)
    #: threads answering requests per worker: 1 answers them in the event loop's thread, one
    #: at a time (a synchronous worker's way, and the fastest where the database is near).
    rest_threads: int = Field(default=1, ge=1, le=64)
    #: seconds a worker has to finish in-flight requests after SIGTERM.
    rest_graceful_timeout: int = Field(default=30, ge=1, le=600)
    #: seconds a client has to send a whole request, head and body (408 after them).
    rest_read_timeout_seconds: float = Field(default=10, gt=0, le=600)
    #: largest request body accepted (413 above it); fits a note at its maximum in any encoding.
    rest_max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    #: largest request line and headers together (431, or 414 for the URI, above it).
    rest_max_header_bytes: int = Field(default=64 * 1024, ge=4096, le=1024 * 1024)
    #: proxies whose X-Forwarded-For/-Proto are believed (comma-separated addresses or
    #: networks, ``*`` for any): the client address the log-in throttle counts comes from them.
    rest_forwarded_allow_ips: str = Field(default="127.0.0.1", pattern=r"^[0-9A-Fa-f.:/*, ]*$")
    #: origins allowed to call the API from a browser (comma-separated); empty: no CORS.
    cors_allowed_origins: str = Field(default="", pattern=r"^[A-Za-z0-9.:/*, \-]*$")

    # gRPC server (python -m app.api.grpc). Loopback by default; containers set 0.0.0.0.
    grpc_host: str = Field(default="127.0.0.1", pattern=r"^[A-Za-z0-9.:\-\[\]]+$")
    #: 0 picks a free port (the server prints the one it got).
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    #: threads serving RPCs per process. The threads of one process take turns on one core,
    #: so beyond what covers its waits on the database more only queue for the interpreter and
    #: lengthen the slowest calls (docs/benchmarks.md). An open health Watch stream holds one;
    #: raise it where RPCs wait on other services (notes run on their own ask users about
    #: every token).
    grpc_max_workers: int = Field(default=4, ge=1, le=256)
    #: server processes sharing the port, each with its own threads and pool (Linux; one
    #: elsewhere). One process of Python runs on about one core, whatever its threads.
    grpc_processes: int = Field(default=2, ge=1, le=64)
    #: seconds in-flight RPCs have to finish after SIGTERM before they are cancelled.
    grpc_grace_seconds: float = Field(default=30, ge=0, le=600)
    #: seconds before the server closes a client's connection, gracefully, so that it
    #: connects again and client-side load balancing reaches new replicas (0: never).
    grpc_max_connection_age_seconds: float = Field(default=300, ge=0, le=86400)
    #: the gRPC server's Prometheus metrics, on METRICS_HOST (0 picks a free port).
    grpc_metrics_port: int = Field(default=9464, ge=0, le=65535)
    #: the worker's Prometheus metrics, on METRICS_HOST (0 picks a free port).
    worker_metrics_port: int = Field(default=9465, ge=0, le=65535)

    # Features that run as services of their own (empty: in this process, the default).
    #: host:port of the users service's gRPC API. Set where notes runs on its own: notes then
    #: asks that service who a token's caller is and whether a user exists.
    users_service_addr: str = Field(default="", pattern=_ADDRESS)
    #: host:port of the notes service's gRPC API. Set where users runs without notes: deleting
    #: a user then enqueues a job that tells notes (UserEventsService), retried until it does.
    notes_service_addr: str = Field(default="", pattern=_ADDRESS)
    #: seconds one call to another service may take (its deadline).
    remote_timeout_seconds: float = Field(default=2, gt=0, le=60)
    #: tries of a read-only call that the other service answers UNAVAILABLE, the first included.
    remote_attempts: int = Field(default=3, ge=1, le=10)

    # Worker (python -m app.worker): background jobs from the PostgreSQL queue.
    #: jobs run at the same time (each in a thread of its own, with its own session).
    worker_concurrency: int = Field(default=1, ge=1, le=64)
    #: wake on PostgreSQL's notifications as jobs are committed (and poll besides); false:
    #: poll only, every WORKER_POLLING_SECONDS, as behind a pooler in transaction mode, where
    #: LISTEN does not hold (PgBouncer).
    worker_listen_notify: bool = True
    worker_polling_seconds: float = Field(default=5.0, gt=0, le=300)

    # Mail: `outbox` writes messages to the mail_outbox table, `log` to the log, `smtp` sends.
    mail_backend: Literal["outbox", "log", "smtp"] = "log"
    mail_from: str = Field(default="no-reply@localhost", min_length=3, max_length=320)
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    #: upgrade the connection with STARTTLS before logging in (port 587); off for local relays.
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(default=10, gt=0, le=300)

    @model_validator(mode="after")
    def _smtp_needs_a_host(self) -> Self:
        if self.mail_backend == "smtp" and not self.smtp_host:
            raise ValueError("SMTP_HOST is required when MAIL_BACKEND is smtp")
        return self


def load(**overrides: object) -> Settings:
    """Settings from the environment; raises ``ConfigurationError`` naming each bad variable."""
    return load_settings(Settings, **overrides)
