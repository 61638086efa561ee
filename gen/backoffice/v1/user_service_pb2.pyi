import datetime

from backoffice.v1 import annotations_pb2 as _annotations_pb2
from backoffice.v1 import challenge_pb2 as _challenge_pb2
from backoffice.v1 import common_pb2 as _common_pb2
from backoffice.v1 import user_pb2 as _user_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListUsersRequest(_message.Message):
    __slots__ = ("search", "fields", "role", "status", "page", "limit", "sort", "order", "sort_by", "sort_order", "page_token")
    SEARCH_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    SORT_BY_FIELD_NUMBER: _ClassVar[int]
    SORT_ORDER_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    search: str
    fields: str
    role: _user_pb2.UserRoleEnum.UserRole
    status: _user_pb2.UserStatusEnum.UserStatus
    page: int
    limit: int
    sort: str
    order: str
    sort_by: str
    sort_order: str
    page_token: str
    def __init__(self, search: _Optional[str] = ..., fields: _Optional[str] = ..., role: _Optional[_Union[_user_pb2.UserRoleEnum.UserRole, str]] = ..., status: _Optional[_Union[_user_pb2.UserStatusEnum.UserStatus, str]] = ..., page: _Optional[int] = ..., limit: _Optional[int] = ..., sort: _Optional[str] = ..., order: _Optional[str] = ..., sort_by: _Optional[str] = ..., sort_order: _Optional[str] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListUsersResponse(_message.Message):
    __slots__ = ("users", "pagination")
    USERS_FIELD_NUMBER: _ClassVar[int]
    PAGINATION_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[_user_pb2.User]
    pagination: _common_pb2.Pagination
    def __init__(self, users: _Optional[_Iterable[_Union[_user_pb2.User, _Mapping]]] = ..., pagination: _Optional[_Union[_common_pb2.Pagination, _Mapping]] = ...) -> None: ...

class CreateUserRequest(_message.Message):
    __slots__ = ("email", "name", "password", "phone", "date_of_birth", "tax_id", "address", "role")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    TAX_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    email: str
    name: str
    password: str
    phone: str
    date_of_birth: str
    tax_id: str
    address: _user_pb2.PostalAddress
    role: _user_pb2.UserRoleEnum.UserRole
    def __init__(self, email: _Optional[str] = ..., name: _Optional[str] = ..., password: _Optional[str] = ..., phone: _Optional[str] = ..., date_of_birth: _Optional[str] = ..., tax_id: _Optional[str] = ..., address: _Optional[_Union[_user_pb2.PostalAddress, _Mapping]] = ..., role: _Optional[_Union[_user_pb2.UserRoleEnum.UserRole, str]] = ...) -> None: ...

class CreateUserResponse(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: _user_pb2.User
    def __init__(self, user: _Optional[_Union[_user_pb2.User, _Mapping]] = ...) -> None: ...

class GetUserRequest(_message.Message):
    __slots__ = ("user_id", "fields")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    fields: str
    def __init__(self, user_id: _Optional[str] = ..., fields: _Optional[str] = ...) -> None: ...

class GetUserResponse(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: _user_pb2.User
    def __init__(self, user: _Optional[_Union[_user_pb2.User, _Mapping]] = ...) -> None: ...

class UpdateUserRequest(_message.Message):
    __slots__ = ("user_id", "email", "name", "phone", "date_of_birth", "tax_id", "address", "role", "status")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    TAX_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    email: str
    name: str
    phone: str
    date_of_birth: str
    tax_id: str
    address: _user_pb2.PostalAddress
    role: _user_pb2.UserRoleEnum.UserRole
    status: _user_pb2.UserStatusEnum.UserStatus
    def __init__(self, user_id: _Optional[str] = ..., email: _Optional[str] = ..., name: _Optional[str] = ..., phone: _Optional[str] = ..., date_of_birth: _Optional[str] = ..., tax_id: _Optional[str] = ..., address: _Optional[_Union[_user_pb2.PostalAddress, _Mapping]] = ..., role: _Optional[_Union[_user_pb2.UserRoleEnum.UserRole, str]] = ..., status: _Optional[_Union[_user_pb2.UserStatusEnum.UserStatus, str]] = ...) -> None: ...

class UpdateUserResponse(_message.Message):
    __slots__ = ("user", "challenge")
    USER_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    user: _user_pb2.User
    challenge: _challenge_pb2.Challenge
    def __init__(self, user: _Optional[_Union[_user_pb2.User, _Mapping]] = ..., challenge: _Optional[_Union[_challenge_pb2.Challenge, _Mapping]] = ...) -> None: ...

class DeleteUserRequest(_message.Message):
    __slots__ = ("user_id", "reason")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    reason: str
    def __init__(self, user_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DeleteUserResponse(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: _user_pb2.User
    def __init__(self, user: _Optional[_Union[_user_pb2.User, _Mapping]] = ...) -> None: ...

class RequestPasswordResetRequest(_message.Message):
    __slots__ = ("email",)
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    email: str
    def __init__(self, email: _Optional[str] = ...) -> None: ...

class RequestPasswordResetResponse(_message.Message):
    __slots__ = ("reset_token", "reset_token_expires_at")
    RESET_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RESET_TOKEN_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    reset_token: str
    reset_token_expires_at: _timestamp_pb2.Timestamp
    def __init__(self, reset_token: _Optional[str] = ..., reset_token_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConfirmPasswordResetRequest(_message.Message):
    __slots__ = ("token", "new_password")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    NEW_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    token: str
    new_password: str
    def __init__(self, token: _Optional[str] = ..., new_password: _Optional[str] = ...) -> None: ...

class ConfirmPasswordResetResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
