import datetime

from backoffice.v1 import account_pb2 as _account_pb2
from backoffice.v1 import annotations_pb2 as _annotations_pb2
from backoffice.v1 import common_pb2 as _common_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListAccountsRequest(_message.Message):
    __slots__ = ("owner_id", "type", "status", "currency", "page", "limit", "sort", "order", "sort_by", "sort_order", "page_token")
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    SORT_BY_FIELD_NUMBER: _ClassVar[int]
    SORT_ORDER_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    owner_id: str
    type: _account_pb2.AccountTypeEnum.AccountType
    status: _account_pb2.AccountStatusEnum.AccountStatus
    currency: str
    page: int
    limit: int
    sort: str
    order: str
    sort_by: str
    sort_order: str
    page_token: str
    def __init__(self, owner_id: _Optional[str] = ..., type: _Optional[_Union[_account_pb2.AccountTypeEnum.AccountType, str]] = ..., status: _Optional[_Union[_account_pb2.AccountStatusEnum.AccountStatus, str]] = ..., currency: _Optional[str] = ..., page: _Optional[int] = ..., limit: _Optional[int] = ..., sort: _Optional[str] = ..., order: _Optional[str] = ..., sort_by: _Optional[str] = ..., sort_order: _Optional[str] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAccountsResponse(_message.Message):
    __slots__ = ("accounts", "pagination")
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    PAGINATION_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[_account_pb2.Account]
    pagination: _common_pb2.Pagination
    def __init__(self, accounts: _Optional[_Iterable[_Union[_account_pb2.Account, _Mapping]]] = ..., pagination: _Optional[_Union[_common_pb2.Pagination, _Mapping]] = ...) -> None: ...

class CreateAccountRequest(_message.Message):
    __slots__ = ("type", "currency", "owner_id", "nickname", "overdraft_limit")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    OVERDRAFT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    type: _account_pb2.AccountTypeEnum.AccountType
    currency: str
    owner_id: str
    nickname: str
    overdraft_limit: float
    def __init__(self, type: _Optional[_Union[_account_pb2.AccountTypeEnum.AccountType, str]] = ..., currency: _Optional[str] = ..., owner_id: _Optional[str] = ..., nickname: _Optional[str] = ..., overdraft_limit: _Optional[float] = ...) -> None: ...

class CreateAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: _account_pb2.Account
    def __init__(self, account: _Optional[_Union[_account_pb2.Account, _Mapping]] = ...) -> None: ...

class GetAccountRequest(_message.Message):
    __slots__ = ("account_id",)
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    def __init__(self, account_id: _Optional[str] = ...) -> None: ...

class GetAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: _account_pb2.Account
    def __init__(self, account: _Optional[_Union[_account_pb2.Account, _Mapping]] = ...) -> None: ...

class UpdateAccountRequest(_message.Message):
    __slots__ = ("account_id", "nickname", "overdraft_limit")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    OVERDRAFT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    nickname: str
    overdraft_limit: float
    def __init__(self, account_id: _Optional[str] = ..., nickname: _Optional[str] = ..., overdraft_limit: _Optional[float] = ...) -> None: ...

class UpdateAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: _account_pb2.Account
    def __init__(self, account: _Optional[_Union[_account_pb2.Account, _Mapping]] = ...) -> None: ...

class CloseAccountRequest(_message.Message):
    __slots__ = ("account_id", "reason")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    reason: str
    def __init__(self, account_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CloseAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: _account_pb2.Account
    def __init__(self, account: _Optional[_Union[_account_pb2.Account, _Mapping]] = ...) -> None: ...

class FreezeAccountRequest(_message.Message):
    __slots__ = ("account_id", "reason")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    reason: str
    def __init__(self, account_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class FreezeAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: _account_pb2.Account
    def __init__(self, account: _Optional[_Union[_account_pb2.Account, _Mapping]] = ...) -> None: ...

class UnfreezeAccountRequest(_message.Message):
    __slots__ = ("account_id", "reason")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    reason: str
    def __init__(self, account_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class UnfreezeAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: _account_pb2.Account
    def __init__(self, account: _Optional[_Union[_account_pb2.Account, _Mapping]] = ...) -> None: ...

class GetAccountBalanceRequest(_message.Message):
    __slots__ = ("account_id", "as_of")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetAccountBalanceResponse(_message.Message):
    __slots__ = ("balance",)
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    balance: _account_pb2.AccountBalance
    def __init__(self, balance: _Optional[_Union[_account_pb2.AccountBalance, _Mapping]] = ...) -> None: ...

class ListAccountHoldsRequest(_message.Message):
    __slots__ = ("account_id", "status", "page", "limit", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    status: _account_pb2.AccountHoldStatusEnum.AccountHoldStatus
    page: int
    limit: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., status: _Optional[_Union[_account_pb2.AccountHoldStatusEnum.AccountHoldStatus, str]] = ..., page: _Optional[int] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAccountHoldsResponse(_message.Message):
    __slots__ = ("holds", "pagination")
    HOLDS_FIELD_NUMBER: _ClassVar[int]
    PAGINATION_FIELD_NUMBER: _ClassVar[int]
    holds: _containers.RepeatedCompositeFieldContainer[_account_pb2.AccountHold]
    pagination: _common_pb2.Pagination
    def __init__(self, holds: _Optional[_Iterable[_Union[_account_pb2.AccountHold, _Mapping]]] = ..., pagination: _Optional[_Union[_common_pb2.Pagination, _Mapping]] = ...) -> None: ...

class UpdateAccountLimitsRequest(_message.Message):
    __slots__ = ("account_id", "daily_atm_withdrawal_limit", "daily_transfer_limit", "daily_bill_payment_limit", "monthly_transfer_limit", "monthly_external_transfer_limit", "per_transaction_internal_transfer_max", "reset_to_default", "reason")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    DAILY_ATM_WITHDRAWAL_LIMIT_FIELD_NUMBER: _ClassVar[int]
    DAILY_TRANSFER_LIMIT_FIELD_NUMBER: _ClassVar[int]
    DAILY_BILL_PAYMENT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_TRANSFER_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_EXTERNAL_TRANSFER_LIMIT_FIELD_NUMBER: _ClassVar[int]
    PER_TRANSACTION_INTERNAL_TRANSFER_MAX_FIELD_NUMBER: _ClassVar[int]
    RESET_TO_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    daily_atm_withdrawal_limit: float
    daily_transfer_limit: float
    daily_bill_payment_limit: float
    monthly_transfer_limit: float
    monthly_external_transfer_limit: float
    per_transaction_internal_transfer_max: float
    reset_to_default: _containers.RepeatedScalarFieldContainer[_account_pb2.AccountLimitKindEnum.AccountLimitKind]
    reason: str
    def __init__(self, account_id: _Optional[str] = ..., daily_atm_withdrawal_limit: _Optional[float] = ..., daily_transfer_limit: _Optional[float] = ..., daily_bill_payment_limit: _Optional[float] = ..., monthly_transfer_limit: _Optional[float] = ..., monthly_external_transfer_limit: _Optional[float] = ..., per_transaction_internal_transfer_max: _Optional[float] = ..., reset_to_default: _Optional[_Iterable[_Union[_account_pb2.AccountLimitKindEnum.AccountLimitKind, str]]] = ..., reason: _Optional[str] = ...) -> None: ...

class UpdateAccountLimitsResponse(_message.Message):
    __slots__ = ("limits",)
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    limits: _account_pb2.AccountLimits
    def __init__(self, limits: _Optional[_Union[_account_pb2.AccountLimits, _Mapping]] = ...) -> None: ...
