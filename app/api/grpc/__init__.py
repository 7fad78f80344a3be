"""The gRPC adapter: ``backend.v1`` Users, Auth and Notes services over the service layer.

The messages and stubs are generated from ``proto/`` into :mod:`app.api.grpc.generated`
(``invoke proto``); :func:`create_grpc_server` serves them with health checking and
reflection; ``python -m app.api.grpc`` runs it as a process configured by the environment.
"""

from __future__ import annotations

from app.api.grpc.server import create_grpc_server

__all__ = ["create_grpc_server"]
