import datetime

from backoffice.v1 import annotations_pb2 as _annotations_pb2
from backoffice.v1 import common_pb2 as _common_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NotificationChannelEnum(_message.Message):
    __slots__ = ()
    class NotificationChannel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        NOTIFICATION_CHANNEL_UNSPECIFIED: _ClassVar[NotificationChannelEnum.NotificationChannel]
        EMAIL: _ClassVar[NotificationChannelEnum.NotificationChannel]
        SMS: _ClassVar[NotificationChannelEnum.NotificationChannel]
    NOTIFICATION_CHANNEL_UNSPECIFIED: NotificationChannelEnum.NotificationChannel
    EMAIL: NotificationChannelEnum.NotificationChannel
    SMS: NotificationChannelEnum.NotificationChannel
    def __init__(self) -> None: ...

class NotificationKindEnum(_message.Message):
    __slots__ = ()
    class NotificationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        NOTIFICATION_KIND_UNSPECIFIED: _ClassVar[NotificationKindEnum.NotificationKind]
        TRANSACTION_CONFIRMATION: _ClassVar[NotificationKindEnum.NotificationKind]
        LARGE_AMOUNT: _ClassVar[NotificationKindEnum.NotificationKind]
        CHALLENGE_CODE: _ClassVar[NotificationKindEnum.NotificationKind]
        DISPUTE_UPDATE: _ClassVar[NotificationKindEnum.NotificationKind]
        SECURITY_ALERT: _ClassVar[NotificationKindEnum.NotificationKind]
    NOTIFICATION_KIND_UNSPECIFIED: NotificationKindEnum.NotificationKind
    TRANSACTION_CONFIRMATION: NotificationKindEnum.NotificationKind
    LARGE_AMOUNT: NotificationKindEnum.NotificationKind
    CHALLENGE_CODE: NotificationKindEnum.NotificationKind
    DISPUTE_UPDATE: NotificationKindEnum.NotificationKind
    SECURITY_ALERT: NotificationKindEnum.NotificationKind
    def __init__(self) -> None: ...

class NotificationStatusEnum(_message.Message):
    __slots__ = ()
    class NotificationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        NOTIFICATION_STATUS_UNSPECIFIED: _ClassVar[NotificationStatusEnum.NotificationStatus]
        PENDING: _ClassVar[NotificationStatusEnum.NotificationStatus]
        SENT: _ClassVar[NotificationStatusEnum.NotificationStatus]
        FAILED: _ClassVar[NotificationStatusEnum.NotificationStatus]
    NOTIFICATION_STATUS_UNSPECIFIED: NotificationStatusEnum.NotificationStatus
    PENDING: NotificationStatusEnum.NotificationStatus
    SENT: NotificationStatusEnum.NotificationStatus
    FAILED: NotificationStatusEnum.NotificationStatus
    def __init__(self) -> None: ...

class SandboxNotification(_message.Message):
    __slots__ = ("id", "user_id", "channel", "destination", "kind", "subject", "body", "code", "status", "attempts", "last_error", "transaction_id", "related_id", "created_at", "sent_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    RELATED_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    user_id: str
    channel: NotificationChannelEnum.NotificationChannel
    destination: str
    kind: NotificationKindEnum.NotificationKind
    subject: str
    body: str
    code: str
    status: NotificationStatusEnum.NotificationStatus
    attempts: int
    last_error: str
    transaction_id: str
    related_id: str
    created_at: _timestamp_pb2.Timestamp
    sent_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., user_id: _Optional[str] = ..., channel: _Optional[_Union[NotificationChannelEnum.NotificationChannel, str]] = ..., destination: _Optional[str] = ..., kind: _Optional[_Union[NotificationKindEnum.NotificationKind, str]] = ..., subject: _Optional[str] = ..., body: _Optional[str] = ..., code: _Optional[str] = ..., status: _Optional[_Union[NotificationStatusEnum.NotificationStatus, str]] = ..., attempts: _Optional[int] = ..., last_error: _Optional[str] = ..., transaction_id: _Optional[str] = ..., related_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListSandboxNotificationsRequest(_message.Message):
    __slots__ = ("user_id", "channel", "kind", "page", "limit", "page_token")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    channel: NotificationChannelEnum.NotificationChannel
    kind: NotificationKindEnum.NotificationKind
    page: int
    limit: int
    page_token: str
    def __init__(self, user_id: _Optional[str] = ..., channel: _Optional[_Union[NotificationChannelEnum.NotificationChannel, str]] = ..., kind: _Optional[_Union[NotificationKindEnum.NotificationKind, str]] = ..., page: _Optional[int] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSandboxNotificationsResponse(_message.Message):
    __slots__ = ("notifications", "pagination")
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    PAGINATION_FIELD_NUMBER: _ClassVar[int]
    notifications: _containers.RepeatedCompositeFieldContainer[SandboxNotification]
    pagination: _common_pb2.Pagination
    def __init__(self, notifications: _Optional[_Iterable[_Union[SandboxNotification, _Mapping]]] = ..., pagination: _Optional[_Union[_common_pb2.Pagination, _Mapping]] = ...) -> None: ...

class Clock(_message.Message):
    __slots__ = ("now", "offset_seconds")
    NOW_FIELD_NUMBER: _ClassVar[int]
    OFFSET_SECONDS_FIELD_NUMBER: _ClassVar[int]
    now: _timestamp_pb2.Timestamp
    offset_seconds: int
    def __init__(self, now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., offset_seconds: _Optional[int] = ...) -> None: ...

class GetClockRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetClockResponse(_message.Message):
    __slots__ = ("clock",)
    CLOCK_FIELD_NUMBER: _ClassVar[int]
    clock: Clock
    def __init__(self, clock: _Optional[_Union[Clock, _Mapping]] = ...) -> None: ...

class AdvanceClockRequest(_message.Message):
    __slots__ = ("seconds", "days")
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    seconds: int
    days: int
    def __init__(self, seconds: _Optional[int] = ..., days: _Optional[int] = ...) -> None: ...

class AdvanceClockResponse(_message.Message):
    __slots__ = ("clock",)
    CLOCK_FIELD_NUMBER: _ClassVar[int]
    clock: Clock
    def __init__(self, clock: _Optional[_Union[Clock, _Mapping]] = ...) -> None: ...
