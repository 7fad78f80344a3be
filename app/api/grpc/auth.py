"""``backend.v1.AuthService``: log in and out, and resolve tokens for other services."""

from __future__ import annotations

import grpc

from app.api.grpc.context import client_address, current_caller
from app.api.grpc.generated.v1 import auth_pb2, auth_pb2_grpc
from app.api.grpc.messages import timestamp
from app.api.grpc.users import user_message
from app.bootstrap import Runtime

__all__ = ["AuthServicer"]


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def LogIn(
        self, request: auth_pb2.LogInRequest, context: grpc.ServicerContext
    ) -> auth_pb2.LogInResponse:
        issued = self._runtime.services().auth.login(
            email=request.email,
            password=request.password,
            client_address=client_address(context.peer()),
        )
        return auth_pb2.LogInResponse(token=issued.token, expires_at=timestamp(issued.expires_at))

    def LogOut(
        self, request: auth_pb2.LogOutRequest, context: grpc.ServicerContext
    ) -> auth_pb2.LogOutResponse:
        self._runtime.services().auth.revoke(current_caller().token)
        return auth_pb2.LogOutResponse()

    def ResolveToken(
        self, request: auth_pb2.ResolveTokenRequest, context: grpc.ServicerContext
    ) -> auth_pb2.ResolveTokenResponse:
        user = self._runtime.services().auth.resolve(request.token)
        return auth_pb2.ResolveTokenResponse(user=user_message(user))
