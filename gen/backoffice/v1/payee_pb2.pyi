import datetime

from backoffice.v1 import user_pb2 as _user_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Payee(_message.Message):
    __slots__ = ("id", "owner_id", "name", "type", "account_number", "address", "category", "nickname", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    owner_id: str
    name: str
    type: PayeeTypeEnum.PayeeType
    account_number: str
    address: _user_pb2.PostalAddress
    category: str
    nickname: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., owner_id: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[_Union[PayeeTypeEnum.PayeeType, str]] = ..., account_number: _Optional[str] = ..., address: _Optional[_Union[_user_pb2.PostalAddress, _Mapping]] = ..., category: _Optional[str] = ..., nickname: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PayeeTypeEnum(_message.Message):
    __slots__ = ()
    class PayeeType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        PAYEE_TYPE_UNSPECIFIED: _ClassVar[PayeeTypeEnum.PayeeType]
        UTILITY: _ClassVar[PayeeTypeEnum.PayeeType]
        CREDIT_CARD: _ClassVar[PayeeTypeEnum.PayeeType]
        MERCHANT: _ClassVar[PayeeTypeEnum.PayeeType]
        INDIVIDUAL: _ClassVar[PayeeTypeEnum.PayeeType]
        GOVERNMENT: _ClassVar[PayeeTypeEnum.PayeeType]
        OTHER: _ClassVar[PayeeTypeEnum.PayeeType]
    PAYEE_TYPE_UNSPECIFIED: PayeeTypeEnum.PayeeType
    UTILITY: PayeeTypeEnum.PayeeType
    CREDIT_CARD: PayeeTypeEnum.PayeeType
    MERCHANT: PayeeTypeEnum.PayeeType
    INDIVIDUAL: PayeeTypeEnum.PayeeType
    GOVERNMENT: PayeeTypeEnum.PayeeType
    OTHER: PayeeTypeEnum.PayeeType
    def __init__(self) -> None: ...
