import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class User(_message.Message):
    __slots__ = ("id", "email", "name", "phone", "date_of_birth", "tax_id", "address", "role", "status", "created_at", "updated_at", "last_login_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    TAX_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_LOGIN_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    email: str
    name: str
    phone: str
    date_of_birth: str
    tax_id: str
    address: PostalAddress
    role: UserRoleEnum.UserRole
    status: UserStatusEnum.UserStatus
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    last_login_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., email: _Optional[str] = ..., name: _Optional[str] = ..., phone: _Optional[str] = ..., date_of_birth: _Optional[str] = ..., tax_id: _Optional[str] = ..., address: _Optional[_Union[PostalAddress, _Mapping]] = ..., role: _Optional[_Union[UserRoleEnum.UserRole, str]] = ..., status: _Optional[_Union[UserStatusEnum.UserStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_login_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PostalAddress(_message.Message):
    __slots__ = ("line1", "line2", "city", "state", "postal_code", "country")
    LINE1_FIELD_NUMBER: _ClassVar[int]
    LINE2_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    line1: str
    line2: str
    city: str
    state: str
    postal_code: str
    country: str
    def __init__(self, line1: _Optional[str] = ..., line2: _Optional[str] = ..., city: _Optional[str] = ..., state: _Optional[str] = ..., postal_code: _Optional[str] = ..., country: _Optional[str] = ...) -> None: ...

class UserRoleEnum(_message.Message):
    __slots__ = ()
    class UserRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        USER_ROLE_UNSPECIFIED: _ClassVar[UserRoleEnum.UserRole]
        CUSTOMER: _ClassVar[UserRoleEnum.UserRole]
        TELLER: _ClassVar[UserRoleEnum.UserRole]
        OPERATIONS: _ClassVar[UserRoleEnum.UserRole]
        ADMIN: _ClassVar[UserRoleEnum.UserRole]
        AUDITOR: _ClassVar[UserRoleEnum.UserRole]
    USER_ROLE_UNSPECIFIED: UserRoleEnum.UserRole
    CUSTOMER: UserRoleEnum.UserRole
    TELLER: UserRoleEnum.UserRole
    OPERATIONS: UserRoleEnum.UserRole
    ADMIN: UserRoleEnum.UserRole
    AUDITOR: UserRoleEnum.UserRole
    def __init__(self) -> None: ...

class UserStatusEnum(_message.Message):
    __slots__ = ()
    class UserStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        USER_STATUS_UNSPECIFIED: _ClassVar[UserStatusEnum.UserStatus]
        ACTIVE: _ClassVar[UserStatusEnum.UserStatus]
        INACTIVE: _ClassVar[UserStatusEnum.UserStatus]
        LOCKED: _ClassVar[UserStatusEnum.UserStatus]
    USER_STATUS_UNSPECIFIED: UserStatusEnum.UserStatus
    ACTIVE: UserStatusEnum.UserStatus
    INACTIVE: UserStatusEnum.UserStatus
    LOCKED: UserStatusEnum.UserStatus
    def __init__(self) -> None: ...
