import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Challenge(_message.Message):
    __slots__ = ("id", "methods", "expires_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    METHODS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    methods: _containers.RepeatedScalarFieldContainer[ChallengeMethodEnum.ChallengeMethod]
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., methods: _Optional[_Iterable[_Union[ChallengeMethodEnum.ChallengeMethod, str]]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ChallengeMethodEnum(_message.Message):
    __slots__ = ()
    class ChallengeMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CHALLENGE_METHOD_UNSPECIFIED: _ClassVar[ChallengeMethodEnum.ChallengeMethod]
        TOTP: _ClassVar[ChallengeMethodEnum.ChallengeMethod]
        EMAIL: _ClassVar[ChallengeMethodEnum.ChallengeMethod]
        SMS: _ClassVar[ChallengeMethodEnum.ChallengeMethod]
    CHALLENGE_METHOD_UNSPECIFIED: ChallengeMethodEnum.ChallengeMethod
    TOTP: ChallengeMethodEnum.ChallengeMethod
    EMAIL: ChallengeMethodEnum.ChallengeMethod
    SMS: ChallengeMethodEnum.ChallengeMethod
    def __init__(self) -> None: ...

class TotpEnrollment(_message.Message):
    __slots__ = ("secret", "otpauth_uri", "confirmed")
    SECRET_FIELD_NUMBER: _ClassVar[int]
    OTPAUTH_URI_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_FIELD_NUMBER: _ClassVar[int]
    secret: str
    otpauth_uri: str
    confirmed: bool
    def __init__(self, secret: _Optional[str] = ..., otpauth_uri: _Optional[str] = ..., confirmed: _Optional[bool] = ...) -> None: ...
