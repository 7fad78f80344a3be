"""The reliability tier: the servers as a hostile client and an unlucky operator try them.

Quick tests run with the rest of the suite; those that take minutes are marked ``long`` and
run with ``invoke test --tier long`` (CI runs them too).
"""

from __future__ import annotations

from tests.api.grpc.conftest import channel, grpc_channel, grpc_target, stubs

__all__ = ["channel", "grpc_channel", "grpc_target", "stubs"]
