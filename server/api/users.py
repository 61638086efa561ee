"""UserService: customers and staff, their roles, and password resets."""

from __future__ import annotations

from typing import Any

import grpc

from backoffice.v1 import user_pb2
from backoffice.v1 import user_service_pb2 as pb
from backoffice.v1 import user_service_pb2_grpc as pb_grpc
from server.api import call, convert, idempotency, paging, step_up
from server.config import Settings
from server.crypto.fields import LiveKeyring
from server.domain import errors
from server.domain import user_fields as fields
from server.domain import user_queries as queries
from server.domain import users as rules
from server.services import contact_changes
from server.store import password_resets
from server.store import users as store


class UserServicer(pb_grpc.UserServiceServicer):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._keyring = LiveKeyring(settings.data_dir / "keys")

    def ListUsers(
        self, request: pb.ListUsersRequest, context: grpc.ServicerContext
    ) -> pb.ListUsersResponse:
        query = queries.list_query(
            request.search,
            _enum_name(user_pb2.UserRoleEnum.UserRole, request.role, "role"),
            _enum_name(user_pb2.UserStatusEnum.UserStatus, request.status, "status"),
            paging.sort_field(request.sort, request.sort_by, queries.SORT_FIELDS, "created_at"),
            paging.sort_order(request.order, request.sort_order),
        )
        fields = queries.parse_fields(request.fields)
        page = paging.page_request(request.page, request.limit, request.page_token, query.filters())
        queries.check_page_depth(page.page, page.limit, keyset=page.after is not None)
        result = store.list_users(
            call.current().principal,
            query,
            self._keyring,
            limit=page.limit,
            offset=page.offset,
            after=queries.keyset_after(query.sort, page.after),
        )
        token = (
            paging.encode_token(result.next_key, query.filters(), page=page.next_page)
            if result.next_key
            else ""
        )
        call.current().ok("Users retrieved successfully")
        return pb.ListUsersResponse(
            users=[_user(view, fields) for view in result.users],
            pagination=paging.pagination(page, result.total, token, bool(token)),
        )

    def CreateUser(
        self, request: pb.CreateUserRequest, context: grpc.ServicerContext
    ) -> pb.CreateUserResponse:
        form = rules.NewUserForm(
            email=request.email,
            name=request.name,
            password=request.password,
            phone=request.phone,
            date_of_birth=request.date_of_birth,
            tax_id=request.tax_id,
            address=_address(request.address) if request.HasField("address") else None,
            role=_enum_name(user_pb2.UserRoleEnum.UserRole, request.role, "role"),
        )
        view = store.create_user(call.current().principal, form, self._keyring, self._settings)
        call.current().created("User created successfully")
        return pb.CreateUserResponse(user=_user(view, None))

    def GetUser(
        self, request: pb.GetUserRequest, context: grpc.ServicerContext
    ) -> pb.GetUserResponse:
        fields = queries.parse_fields(request.fields)
        view = store.get_user(call.current().principal, request.user_id, self._keyring)
        call.current().ok("User retrieved successfully")
        return pb.GetUserResponse(user=_user(view, fields))

    def UpdateUser(
        self, request: pb.UpdateUserRequest, context: grpc.ServicerContext
    ) -> pb.UpdateUserResponse:
        form = change_form(request)
        principal = call.current().principal
        if contact_changes.needs_hold(principal, request.user_id, form, self._keyring):
            # A person's own email or phone: behind a challenge sent to the
            # contacts on file (server.services.contact_changes).
            facts = step_up.of(self._settings)
            made = contact_changes.hold(
                principal,
                request.SerializeToString(deterministic=True),
                idempotency_key=idempotency.key_from(context),
                sealer=facts.sealer,
                code_key=facts.code_key,
            )
            call.current().accepted(step_up.ACCEPTED_MESSAGE)
            return pb.UpdateUserResponse(challenge=step_up.challenge_message(made))
        view = store.update_user(principal, request.user_id, form, self._keyring)
        call.current().ok("User updated successfully")
        return pb.UpdateUserResponse(user=_user(view, None))

    def DeleteUser(
        self, request: pb.DeleteUserRequest, context: grpc.ServicerContext
    ) -> pb.DeleteUserResponse:
        view = store.deactivate_user(
            call.current().principal, request.user_id, request.reason, self._keyring
        )
        call.current().ok("User deactivated successfully")
        return pb.DeleteUserResponse(user=_user(view, None))

    def RequestPasswordReset(
        self, request: pb.RequestPasswordResetRequest, context: grpc.ServicerContext
    ) -> pb.RequestPasswordResetResponse:
        ticket = password_resets.request_password_reset(
            call.current().principal, request.email, sandbox=self._settings.sandbox
        )
        # The same answer whether or not the email belongs to anyone.
        call.current().accepted("If the email belongs to a user, a reset link has been sent")
        if ticket is None:
            return pb.RequestPasswordResetResponse()
        return pb.RequestPasswordResetResponse(
            reset_token=ticket.token,
            reset_token_expires_at=convert.timestamp(ticket.expires_at),
        )

    def ConfirmPasswordReset(
        self, request: pb.ConfirmPasswordResetRequest, context: grpc.ServicerContext
    ) -> pb.ConfirmPasswordResetResponse:
        password_resets.confirm_password_reset(request.token, request.new_password, self._settings)
        call.current().ok("Password has been reset")
        return pb.ConfirmPasswordResetResponse()


def _enum_name(enum: Any, value: int, field: str) -> str:
    """The enum word of `value`; "" for 0 (not set). Unknown numbers are refused."""
    if value == 0:
        return ""
    try:
        return str(enum.Name(value))
    except ValueError:
        raise errors.ValidationFailed(
            f"{field} is not a known value", field=field, metadata={"value": str(value)}
        ) from None


def _given_enum(request: pb.UpdateUserRequest, field: str, enum: Any) -> str | None:
    """An optional enum of UpdateUser: None when absent; unset (0) is refused."""
    if not request.HasField(field):  # type: ignore[arg-type]
        return None
    value = int(getattr(request, field))
    if value == 0:
        raise errors.ValidationFailed(f"{field} must be set to a value", field=field)
    return _enum_name(enum, value, field)


def _address(message: user_pb2.PostalAddress) -> fields.Address:
    return fields.Address(
        line1=message.line1,
        line2=message.line2,
        city=message.city,
        state=message.state,
        postal_code=message.postal_code,
        country=message.country,
    )


def change_form(request: pb.UpdateUserRequest) -> rules.UserChangeForm:
    def given(name: str) -> Any:
        return getattr(request, name) if request.HasField(name) else None

    return rules.UserChangeForm(
        email=given("email"),
        name=given("name"),
        phone=given("phone"),
        date_of_birth=given("date_of_birth"),
        tax_id=given("tax_id"),
        address=_address(request.address) if request.HasField("address") else None,
        role=_given_enum(request, "role", user_pb2.UserRoleEnum.UserRole),
        status=_given_enum(request, "status", user_pb2.UserStatusEnum.UserStatus),
    )


def verified_update(request: pb.UpdateUserRequest, keyring: LiveKeyring) -> user_pb2.User:
    """A verified challenge's UpdateUser (the person's own email or phone)."""
    principal = call.current().principal
    user_id = rules.resolve_user_id(principal, request.user_id)
    view = contact_changes.apply(
        user_id,
        keyring,
        lambda: store.update_user(principal, request.user_id, change_form(request), keyring),
    )
    call.current().ok("User updated successfully")
    return _user(view, None)


def _user(view: rules.UserView, fields: frozenset[str] | None) -> user_pb2.User:
    """The User message; with `fields`, every other field is cleared."""
    message = user_pb2.User(
        id=view.id,
        email=view.email,
        name=view.name,
        phone=view.phone or None,
        date_of_birth=view.date_of_birth or None,
        tax_id=view.tax_id or None,
        role=view.role,  # type: ignore[arg-type]
        status=view.status,  # type: ignore[arg-type]
        created_at=convert.timestamp(view.created_at),
        updated_at=convert.timestamp(view.updated_at),
        last_login_at=convert.timestamp(view.last_login_at),
    )
    if view.address is not None:
        parts = {name: value for name, value in view.address.to_dict().items() if value}
        message.address.CopyFrom(user_pb2.PostalAddress(**parts))
    if fields is not None:
        for descriptor in message.DESCRIPTOR.fields:
            if descriptor.name not in fields:
                message.ClearField(descriptor.name)  # type: ignore[arg-type]
    return message


SERVICES = {"UserService": UserServicer}
