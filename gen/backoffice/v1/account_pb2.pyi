import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Account(_message.Message):
    __slots__ = ("id", "account_number", "type", "status", "currency", "owner_id", "holder", "nickname", "balance", "available_balance", "held_amount", "pending_debits", "overdraft_limit", "freeze_reason", "frozen_at", "limits", "created_at", "updated_at", "closed_at", "close_reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_BALANCE_FIELD_NUMBER: _ClassVar[int]
    HELD_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PENDING_DEBITS_FIELD_NUMBER: _ClassVar[int]
    OVERDRAFT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    FREEZE_REASON_FIELD_NUMBER: _ClassVar[int]
    FROZEN_AT_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSE_REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    account_number: str
    type: AccountTypeEnum.AccountType
    status: AccountStatusEnum.AccountStatus
    currency: str
    owner_id: str
    holder: str
    nickname: str
    balance: float
    available_balance: float
    held_amount: float
    pending_debits: float
    overdraft_limit: float
    freeze_reason: str
    frozen_at: _timestamp_pb2.Timestamp
    limits: AccountLimits
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    closed_at: _timestamp_pb2.Timestamp
    close_reason: str
    def __init__(self, id: _Optional[str] = ..., account_number: _Optional[str] = ..., type: _Optional[_Union[AccountTypeEnum.AccountType, str]] = ..., status: _Optional[_Union[AccountStatusEnum.AccountStatus, str]] = ..., currency: _Optional[str] = ..., owner_id: _Optional[str] = ..., holder: _Optional[str] = ..., nickname: _Optional[str] = ..., balance: _Optional[float] = ..., available_balance: _Optional[float] = ..., held_amount: _Optional[float] = ..., pending_debits: _Optional[float] = ..., overdraft_limit: _Optional[float] = ..., freeze_reason: _Optional[str] = ..., frozen_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limits: _Optional[_Union[AccountLimits, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., close_reason: _Optional[str] = ...) -> None: ...

class AccountLimits(_message.Message):
    __slots__ = ("daily_atm_withdrawal", "daily_transfer", "daily_bill_payment", "monthly_transfer", "monthly_external_transfer", "per_transaction_internal_transfer_max", "per_transaction_external_transfer_max", "per_transaction_atm_withdrawal_max", "per_transaction_min", "per_transaction_internal_transfer_max_overridden", "daily_reset_at", "monthly_reset_at")
    DAILY_ATM_WITHDRAWAL_FIELD_NUMBER: _ClassVar[int]
    DAILY_TRANSFER_FIELD_NUMBER: _ClassVar[int]
    DAILY_BILL_PAYMENT_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_TRANSFER_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_EXTERNAL_TRANSFER_FIELD_NUMBER: _ClassVar[int]
    PER_TRANSACTION_INTERNAL_TRANSFER_MAX_FIELD_NUMBER: _ClassVar[int]
    PER_TRANSACTION_EXTERNAL_TRANSFER_MAX_FIELD_NUMBER: _ClassVar[int]
    PER_TRANSACTION_ATM_WITHDRAWAL_MAX_FIELD_NUMBER: _ClassVar[int]
    PER_TRANSACTION_MIN_FIELD_NUMBER: _ClassVar[int]
    PER_TRANSACTION_INTERNAL_TRANSFER_MAX_OVERRIDDEN_FIELD_NUMBER: _ClassVar[int]
    DAILY_RESET_AT_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_RESET_AT_FIELD_NUMBER: _ClassVar[int]
    daily_atm_withdrawal: AccountLimitUsage
    daily_transfer: AccountLimitUsage
    daily_bill_payment: AccountLimitUsage
    monthly_transfer: AccountLimitUsage
    monthly_external_transfer: AccountLimitUsage
    per_transaction_internal_transfer_max: float
    per_transaction_external_transfer_max: float
    per_transaction_atm_withdrawal_max: float
    per_transaction_min: float
    per_transaction_internal_transfer_max_overridden: bool
    daily_reset_at: _timestamp_pb2.Timestamp
    monthly_reset_at: _timestamp_pb2.Timestamp
    def __init__(self, daily_atm_withdrawal: _Optional[_Union[AccountLimitUsage, _Mapping]] = ..., daily_transfer: _Optional[_Union[AccountLimitUsage, _Mapping]] = ..., daily_bill_payment: _Optional[_Union[AccountLimitUsage, _Mapping]] = ..., monthly_transfer: _Optional[_Union[AccountLimitUsage, _Mapping]] = ..., monthly_external_transfer: _Optional[_Union[AccountLimitUsage, _Mapping]] = ..., per_transaction_internal_transfer_max: _Optional[float] = ..., per_transaction_external_transfer_max: _Optional[float] = ..., per_transaction_atm_withdrawal_max: _Optional[float] = ..., per_transaction_min: _Optional[float] = ..., per_transaction_internal_transfer_max_overridden: _Optional[bool] = ..., daily_reset_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., monthly_reset_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AccountLimitUsage(_message.Message):
    __slots__ = ("limit", "used", "remaining", "overridden", "default_limit")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    OVERRIDDEN_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: float
    used: float
    remaining: float
    overridden: bool
    default_limit: float
    def __init__(self, limit: _Optional[float] = ..., used: _Optional[float] = ..., remaining: _Optional[float] = ..., overridden: _Optional[bool] = ..., default_limit: _Optional[float] = ...) -> None: ...

class AccountBalance(_message.Message):
    __slots__ = ("account_id", "currency", "balance", "available_balance", "held_amount", "pending_debits", "pending_credits", "overdraft_limit", "spendable_amount", "as_of")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_BALANCE_FIELD_NUMBER: _ClassVar[int]
    HELD_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PENDING_DEBITS_FIELD_NUMBER: _ClassVar[int]
    PENDING_CREDITS_FIELD_NUMBER: _ClassVar[int]
    OVERDRAFT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    SPENDABLE_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    currency: str
    balance: float
    available_balance: float
    held_amount: float
    pending_debits: float
    pending_credits: float
    overdraft_limit: float
    spendable_amount: float
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., currency: _Optional[str] = ..., balance: _Optional[float] = ..., available_balance: _Optional[float] = ..., held_amount: _Optional[float] = ..., pending_debits: _Optional[float] = ..., pending_credits: _Optional[float] = ..., overdraft_limit: _Optional[float] = ..., spendable_amount: _Optional[float] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AccountHold(_message.Message):
    __slots__ = ("id", "account_id", "amount", "currency", "reason", "description", "transaction_id", "status", "release_date", "created_at", "resolved_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RELEASE_DATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    account_id: str
    amount: float
    currency: str
    reason: AccountHoldReasonEnum.AccountHoldReason
    description: str
    transaction_id: str
    status: AccountHoldStatusEnum.AccountHoldStatus
    release_date: str
    created_at: _timestamp_pb2.Timestamp
    resolved_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., account_id: _Optional[str] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., reason: _Optional[_Union[AccountHoldReasonEnum.AccountHoldReason, str]] = ..., description: _Optional[str] = ..., transaction_id: _Optional[str] = ..., status: _Optional[_Union[AccountHoldStatusEnum.AccountHoldStatus, str]] = ..., release_date: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AccountTypeEnum(_message.Message):
    __slots__ = ()
    class AccountType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ACCOUNT_TYPE_UNSPECIFIED: _ClassVar[AccountTypeEnum.AccountType]
        SAVINGS: _ClassVar[AccountTypeEnum.AccountType]
        CHECKING: _ClassVar[AccountTypeEnum.AccountType]
        BUSINESS: _ClassVar[AccountTypeEnum.AccountType]
    ACCOUNT_TYPE_UNSPECIFIED: AccountTypeEnum.AccountType
    SAVINGS: AccountTypeEnum.AccountType
    CHECKING: AccountTypeEnum.AccountType
    BUSINESS: AccountTypeEnum.AccountType
    def __init__(self) -> None: ...

class AccountStatusEnum(_message.Message):
    __slots__ = ()
    class AccountStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ACCOUNT_STATUS_UNSPECIFIED: _ClassVar[AccountStatusEnum.AccountStatus]
        ACTIVE: _ClassVar[AccountStatusEnum.AccountStatus]
        FROZEN: _ClassVar[AccountStatusEnum.AccountStatus]
        INACTIVE: _ClassVar[AccountStatusEnum.AccountStatus]
        CLOSED: _ClassVar[AccountStatusEnum.AccountStatus]
    ACCOUNT_STATUS_UNSPECIFIED: AccountStatusEnum.AccountStatus
    ACTIVE: AccountStatusEnum.AccountStatus
    FROZEN: AccountStatusEnum.AccountStatus
    INACTIVE: AccountStatusEnum.AccountStatus
    CLOSED: AccountStatusEnum.AccountStatus
    def __init__(self) -> None: ...

class AccountHoldReasonEnum(_message.Message):
    __slots__ = ()
    class AccountHoldReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ACCOUNT_HOLD_REASON_UNSPECIFIED: _ClassVar[AccountHoldReasonEnum.AccountHoldReason]
        CHECK_DEPOSIT: _ClassVar[AccountHoldReasonEnum.AccountHoldReason]
        MOBILE_CHECK_DEPOSIT: _ClassVar[AccountHoldReasonEnum.AccountHoldReason]
        WIRE_DEPOSIT: _ClassVar[AccountHoldReasonEnum.AccountHoldReason]
        LEGAL_ORDER: _ClassVar[AccountHoldReasonEnum.AccountHoldReason]
        FRAUD_REVIEW: _ClassVar[AccountHoldReasonEnum.AccountHoldReason]
        OTHER: _ClassVar[AccountHoldReasonEnum.AccountHoldReason]
    ACCOUNT_HOLD_REASON_UNSPECIFIED: AccountHoldReasonEnum.AccountHoldReason
    CHECK_DEPOSIT: AccountHoldReasonEnum.AccountHoldReason
    MOBILE_CHECK_DEPOSIT: AccountHoldReasonEnum.AccountHoldReason
    WIRE_DEPOSIT: AccountHoldReasonEnum.AccountHoldReason
    LEGAL_ORDER: AccountHoldReasonEnum.AccountHoldReason
    FRAUD_REVIEW: AccountHoldReasonEnum.AccountHoldReason
    OTHER: AccountHoldReasonEnum.AccountHoldReason
    def __init__(self) -> None: ...

class AccountHoldStatusEnum(_message.Message):
    __slots__ = ()
    class AccountHoldStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ACCOUNT_HOLD_STATUS_UNSPECIFIED: _ClassVar[AccountHoldStatusEnum.AccountHoldStatus]
        PENDING: _ClassVar[AccountHoldStatusEnum.AccountHoldStatus]
        RELEASED: _ClassVar[AccountHoldStatusEnum.AccountHoldStatus]
        VOIDED: _ClassVar[AccountHoldStatusEnum.AccountHoldStatus]
        EXPIRED: _ClassVar[AccountHoldStatusEnum.AccountHoldStatus]
    ACCOUNT_HOLD_STATUS_UNSPECIFIED: AccountHoldStatusEnum.AccountHoldStatus
    PENDING: AccountHoldStatusEnum.AccountHoldStatus
    RELEASED: AccountHoldStatusEnum.AccountHoldStatus
    VOIDED: AccountHoldStatusEnum.AccountHoldStatus
    EXPIRED: AccountHoldStatusEnum.AccountHoldStatus
    def __init__(self) -> None: ...

class AccountLimitKindEnum(_message.Message):
    __slots__ = ()
    class AccountLimitKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ACCOUNT_LIMIT_KIND_UNSPECIFIED: _ClassVar[AccountLimitKindEnum.AccountLimitKind]
        DAILY_ATM_WITHDRAWAL: _ClassVar[AccountLimitKindEnum.AccountLimitKind]
        DAILY_TRANSFER: _ClassVar[AccountLimitKindEnum.AccountLimitKind]
        DAILY_BILL_PAYMENT: _ClassVar[AccountLimitKindEnum.AccountLimitKind]
        MONTHLY_TRANSFER: _ClassVar[AccountLimitKindEnum.AccountLimitKind]
        MONTHLY_EXTERNAL_TRANSFER: _ClassVar[AccountLimitKindEnum.AccountLimitKind]
        PER_TRANSACTION_INTERNAL_TRANSFER_MAX: _ClassVar[AccountLimitKindEnum.AccountLimitKind]
    ACCOUNT_LIMIT_KIND_UNSPECIFIED: AccountLimitKindEnum.AccountLimitKind
    DAILY_ATM_WITHDRAWAL: AccountLimitKindEnum.AccountLimitKind
    DAILY_TRANSFER: AccountLimitKindEnum.AccountLimitKind
    DAILY_BILL_PAYMENT: AccountLimitKindEnum.AccountLimitKind
    MONTHLY_TRANSFER: AccountLimitKindEnum.AccountLimitKind
    MONTHLY_EXTERNAL_TRANSFER: AccountLimitKindEnum.AccountLimitKind
    PER_TRANSACTION_INTERNAL_TRANSFER_MAX: AccountLimitKindEnum.AccountLimitKind
    def __init__(self) -> None: ...
