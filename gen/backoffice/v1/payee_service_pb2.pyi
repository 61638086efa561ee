from backoffice.v1 import annotations_pb2 as _annotations_pb2
from backoffice.v1 import common_pb2 as _common_pb2
from backoffice.v1 import payee_pb2 as _payee_pb2
from backoffice.v1 import user_pb2 as _user_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListPayeesRequest(_message.Message):
    __slots__ = ("owner_id", "type", "category", "search", "page", "limit", "page_token")
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    SEARCH_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    owner_id: str
    type: _payee_pb2.PayeeTypeEnum.PayeeType
    category: str
    search: str
    page: int
    limit: int
    page_token: str
    def __init__(self, owner_id: _Optional[str] = ..., type: _Optional[_Union[_payee_pb2.PayeeTypeEnum.PayeeType, str]] = ..., category: _Optional[str] = ..., search: _Optional[str] = ..., page: _Optional[int] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPayeesResponse(_message.Message):
    __slots__ = ("payees", "pagination")
    PAYEES_FIELD_NUMBER: _ClassVar[int]
    PAGINATION_FIELD_NUMBER: _ClassVar[int]
    payees: _containers.RepeatedCompositeFieldContainer[_payee_pb2.Payee]
    pagination: _common_pb2.Pagination
    def __init__(self, payees: _Optional[_Iterable[_Union[_payee_pb2.Payee, _Mapping]]] = ..., pagination: _Optional[_Union[_common_pb2.Pagination, _Mapping]] = ...) -> None: ...

class CreatePayeeRequest(_message.Message):
    __slots__ = ("owner_id", "name", "type", "account_number", "address", "category", "nickname")
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    owner_id: str
    name: str
    type: _payee_pb2.PayeeTypeEnum.PayeeType
    account_number: str
    address: _user_pb2.PostalAddress
    category: str
    nickname: str
    def __init__(self, owner_id: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[_Union[_payee_pb2.PayeeTypeEnum.PayeeType, str]] = ..., account_number: _Optional[str] = ..., address: _Optional[_Union[_user_pb2.PostalAddress, _Mapping]] = ..., category: _Optional[str] = ..., nickname: _Optional[str] = ...) -> None: ...

class CreatePayeeResponse(_message.Message):
    __slots__ = ("payee",)
    PAYEE_FIELD_NUMBER: _ClassVar[int]
    payee: _payee_pb2.Payee
    def __init__(self, payee: _Optional[_Union[_payee_pb2.Payee, _Mapping]] = ...) -> None: ...

class GetPayeeRequest(_message.Message):
    __slots__ = ("payee_id",)
    PAYEE_ID_FIELD_NUMBER: _ClassVar[int]
    payee_id: str
    def __init__(self, payee_id: _Optional[str] = ...) -> None: ...

class GetPayeeResponse(_message.Message):
    __slots__ = ("payee",)
    PAYEE_FIELD_NUMBER: _ClassVar[int]
    payee: _payee_pb2.Payee
    def __init__(self, payee: _Optional[_Union[_payee_pb2.Payee, _Mapping]] = ...) -> None: ...

class DeletePayeeRequest(_message.Message):
    __slots__ = ("payee_id",)
    PAYEE_ID_FIELD_NUMBER: _ClassVar[int]
    payee_id: str
    def __init__(self, payee_id: _Optional[str] = ...) -> None: ...

class DeletePayeeResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
