"""``backend.v1.UsersService``: sign up, your own account, and users by id for other services."""

from __future__ import annotations

import grpc

from app.api.grpc.context import current_caller
from app.api.grpc.generated.v1 import users_pb2, users_pb2_grpc
from app.api.grpc.messages import timestamp
from app.bootstrap import Runtime
from app.service.users.service import User

__all__ = ["UsersServicer", "user_message"]


def user_message(user: User) -> users_pb2.User:
    return users_pb2.User(
        id=str(user.id),
        email=user.email,
        display_name=user.display_name,
        created_at=timestamp(user.created_at),
        updated_at=timestamp(user.updated_at),
    )


class UsersServicer(users_pb2_grpc.UsersServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def SignUp(
        self, request: users_pb2.SignUpRequest, context: grpc.ServicerContext
    ) -> users_pb2.SignUpResponse:
        user = self._runtime.services().users.register(
            email=request.email, display_name=request.display_name, password=request.password
        )
        return users_pb2.SignUpResponse(user=user_message(user))

    def GetMe(
        self, request: users_pb2.GetMeRequest, context: grpc.ServicerContext
    ) -> users_pb2.GetMeResponse:
        user = self._runtime.services().users.get(current_caller().user_id)
        return users_pb2.GetMeResponse(user=user_message(user))

    def UpdateMe(
        self, request: users_pb2.UpdateMeRequest, context: grpc.ServicerContext
    ) -> users_pb2.UpdateMeResponse:
        users = self._runtime.services().users
        caller = current_caller()
        if request.HasField("display_name"):
            user = users.update_profile(caller.user_id, display_name=request.display_name)
        else:
            user = users.get(caller.user_id)
        return users_pb2.UpdateMeResponse(user=user_message(user))

    def ChangePassword(
        self, request: users_pb2.ChangePasswordRequest, context: grpc.ServicerContext
    ) -> users_pb2.ChangePasswordResponse:
        self._runtime.services().users.change_password(
            current_caller().user_id,
            current_password=request.current_password,
            new_password=request.new_password,
        )
        return users_pb2.ChangePasswordResponse()

    def DeleteMe(
        self, request: users_pb2.DeleteMeRequest, context: grpc.ServicerContext
    ) -> users_pb2.DeleteMeResponse:
        self._runtime.services().users.delete(current_caller().user_id)
        return users_pb2.DeleteMeResponse()

    def GetUser(
        self, request: users_pb2.GetUserRequest, context: grpc.ServicerContext
    ) -> users_pb2.GetUserResponse:
        user = self._runtime.services().users.get(request.user_id)
        return users_pb2.GetUserResponse(user=user_message(user))

    def UserExists(
        self, request: users_pb2.UserExistsRequest, context: grpc.ServicerContext
    ) -> users_pb2.UserExistsResponse:
        exists = self._runtime.services().users.exists(request.user_id)
        return users_pb2.UserExistsResponse(exists=exists)
