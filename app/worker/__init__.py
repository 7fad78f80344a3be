"""The worker: background jobs from the PostgreSQL job queue, a third adapter beside REST and gRPC.

A task is a thin function that calls one service function. ``app.worker.app`` builds the
procrastinate app (connector, tasks, how a worker runs them); every task runs inside the
lifecycle's unit of work, so the teardown hooks run after each job even when it fails.
``python -m app.worker`` runs a worker configured by the environment.
"""
