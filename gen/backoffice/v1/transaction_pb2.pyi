import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Transaction(_message.Message):
    __slots__ = ("id", "transaction_number", "type", "status", "from_account", "to_account", "account_id", "beneficiary", "payee", "amount", "currency", "description", "reference", "fee", "method", "location", "purpose", "available_date", "estimated_completion", "scheduled_date", "estimated_delivery", "memo", "balance_after", "counterparty", "timestamp", "completed_at", "cancelled_at", "failure_reason", "failure_code", "original_transaction_id", "metadata", "hold_id", "rail", "atm_network", "card_number", "payee_account_number", "reversal_transaction_id", "refunded_amount", "recurring_transaction_id", "refund_request_id", "initiated_by")
    ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FROM_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    BENEFICIARY_FIELD_NUMBER: _ClassVar[int]
    PAYEE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_DATE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COMPLETION_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_DATE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_DELIVERY_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_FIELD_NUMBER: _ClassVar[int]
    COUNTERPARTY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_AT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    FAILURE_CODE_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    RAIL_FIELD_NUMBER: _ClassVar[int]
    ATM_NETWORK_FIELD_NUMBER: _ClassVar[int]
    CARD_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PAYEE_ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REVERSAL_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    RECURRING_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INITIATED_BY_FIELD_NUMBER: _ClassVar[int]
    id: str
    transaction_number: str
    type: TransactionTypeEnum.TransactionType
    status: TransactionStatusEnum.TransactionStatus
    from_account: AccountRef
    to_account: AccountRef
    account_id: str
    beneficiary: Beneficiary
    payee: PayeeRef
    amount: float
    currency: str
    description: str
    reference: str
    fee: float
    method: TransactionMethodEnum.TransactionMethod
    location: str
    purpose: TransferPurposeEnum.TransferPurpose
    available_date: _timestamp_pb2.Timestamp
    estimated_completion: _timestamp_pb2.Timestamp
    scheduled_date: str
    estimated_delivery: str
    memo: str
    balance_after: float
    counterparty: str
    timestamp: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    cancelled_at: _timestamp_pb2.Timestamp
    failure_reason: str
    failure_code: str
    original_transaction_id: str
    metadata: TransactionMetadata
    hold_id: str
    rail: TransferRailEnum.TransferRail
    atm_network: AtmNetworkEnum.AtmNetwork
    card_number: str
    payee_account_number: str
    reversal_transaction_id: str
    refunded_amount: float
    recurring_transaction_id: str
    refund_request_id: str
    initiated_by: str
    def __init__(self, id: _Optional[str] = ..., transaction_number: _Optional[str] = ..., type: _Optional[_Union[TransactionTypeEnum.TransactionType, str]] = ..., status: _Optional[_Union[TransactionStatusEnum.TransactionStatus, str]] = ..., from_account: _Optional[_Union[AccountRef, _Mapping]] = ..., to_account: _Optional[_Union[AccountRef, _Mapping]] = ..., account_id: _Optional[str] = ..., beneficiary: _Optional[_Union[Beneficiary, _Mapping]] = ..., payee: _Optional[_Union[PayeeRef, _Mapping]] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., description: _Optional[str] = ..., reference: _Optional[str] = ..., fee: _Optional[float] = ..., method: _Optional[_Union[TransactionMethodEnum.TransactionMethod, str]] = ..., location: _Optional[str] = ..., purpose: _Optional[_Union[TransferPurposeEnum.TransferPurpose, str]] = ..., available_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., estimated_completion: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scheduled_date: _Optional[str] = ..., estimated_delivery: _Optional[str] = ..., memo: _Optional[str] = ..., balance_after: _Optional[float] = ..., counterparty: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancelled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failure_reason: _Optional[str] = ..., failure_code: _Optional[str] = ..., original_transaction_id: _Optional[str] = ..., metadata: _Optional[_Union[TransactionMetadata, _Mapping]] = ..., hold_id: _Optional[str] = ..., rail: _Optional[_Union[TransferRailEnum.TransferRail, str]] = ..., atm_network: _Optional[_Union[AtmNetworkEnum.AtmNetwork, str]] = ..., card_number: _Optional[str] = ..., payee_account_number: _Optional[str] = ..., reversal_transaction_id: _Optional[str] = ..., refunded_amount: _Optional[float] = ..., recurring_transaction_id: _Optional[str] = ..., refund_request_id: _Optional[str] = ..., initiated_by: _Optional[str] = ...) -> None: ...

class AccountRef(_message.Message):
    __slots__ = ("id", "account_number", "balance", "holder")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    id: str
    account_number: str
    balance: float
    holder: str
    def __init__(self, id: _Optional[str] = ..., account_number: _Optional[str] = ..., balance: _Optional[float] = ..., holder: _Optional[str] = ...) -> None: ...

class PayeeRef(_message.Message):
    __slots__ = ("id", "name", "type")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    type: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class Beneficiary(_message.Message):
    __slots__ = ("name", "account_number", "routing_number", "bank_name", "account_type", "bank_country", "swift_code", "iban", "address")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ROUTING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    BANK_NAME_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_TYPE_FIELD_NUMBER: _ClassVar[int]
    BANK_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    SWIFT_CODE_FIELD_NUMBER: _ClassVar[int]
    IBAN_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    name: str
    account_number: str
    routing_number: str
    bank_name: str
    account_type: BeneficiaryAccountTypeEnum.BeneficiaryAccountType
    bank_country: str
    swift_code: str
    iban: str
    address: str
    def __init__(self, name: _Optional[str] = ..., account_number: _Optional[str] = ..., routing_number: _Optional[str] = ..., bank_name: _Optional[str] = ..., account_type: _Optional[_Union[BeneficiaryAccountTypeEnum.BeneficiaryAccountType, str]] = ..., bank_country: _Optional[str] = ..., swift_code: _Optional[str] = ..., iban: _Optional[str] = ..., address: _Optional[str] = ...) -> None: ...

class TransactionMetadata(_message.Message):
    __slots__ = ("ip_address", "device", "location")
    IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    ip_address: str
    device: str
    location: str
    def __init__(self, ip_address: _Optional[str] = ..., device: _Optional[str] = ..., location: _Optional[str] = ...) -> None: ...

class TransactionListItem(_message.Message):
    __slots__ = ("id", "transaction_number", "type", "status", "direction", "account_id", "amount", "currency", "fee", "description", "reference", "counterparty", "balance_after", "scheduled_date", "timestamp", "completed_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    COUNTERPARTY_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_DATE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    transaction_number: str
    type: TransactionTypeEnum.TransactionType
    status: TransactionStatusEnum.TransactionStatus
    direction: TransactionDirectionEnum.TransactionDirection
    account_id: str
    amount: float
    currency: str
    fee: float
    description: str
    reference: str
    counterparty: str
    balance_after: float
    scheduled_date: str
    timestamp: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., transaction_number: _Optional[str] = ..., type: _Optional[_Union[TransactionTypeEnum.TransactionType, str]] = ..., status: _Optional[_Union[TransactionStatusEnum.TransactionStatus, str]] = ..., direction: _Optional[_Union[TransactionDirectionEnum.TransactionDirection, str]] = ..., account_id: _Optional[str] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., fee: _Optional[float] = ..., description: _Optional[str] = ..., reference: _Optional[str] = ..., counterparty: _Optional[str] = ..., balance_after: _Optional[float] = ..., scheduled_date: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TransactionTotals(_message.Message):
    __slots__ = ("total_debits", "total_credits", "net_change", "currency")
    TOTAL_DEBITS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CREDITS_FIELD_NUMBER: _ClassVar[int]
    NET_CHANGE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    total_debits: float
    total_credits: float
    net_change: float
    currency: str
    def __init__(self, total_debits: _Optional[float] = ..., total_credits: _Optional[float] = ..., net_change: _Optional[float] = ..., currency: _Optional[str] = ...) -> None: ...

class RecurringTransaction(_message.Message):
    __slots__ = ("id", "type", "from_account_id", "to_account_id", "payee_id", "amount", "currency", "description", "frequency", "start_date", "end_date", "day_of_month", "next_execution", "last_execution", "last_transaction_id", "status", "execution_count", "consecutive_failure_count", "payee_account_number", "created_at", "cancelled_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PAYEE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    DAY_OF_MONTH_FIELD_NUMBER: _ClassVar[int]
    NEXT_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    LAST_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    LAST_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURE_COUNT_FIELD_NUMBER: _ClassVar[int]
    PAYEE_ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: RecurringTransactionTypeEnum.RecurringTransactionType
    from_account_id: str
    to_account_id: str
    payee_id: str
    amount: float
    currency: str
    description: str
    frequency: RecurringFrequencyEnum.RecurringFrequency
    start_date: str
    end_date: str
    day_of_month: int
    next_execution: _timestamp_pb2.Timestamp
    last_execution: _timestamp_pb2.Timestamp
    last_transaction_id: str
    status: RecurringTransactionStatusEnum.RecurringTransactionStatus
    execution_count: int
    consecutive_failure_count: int
    payee_account_number: str
    created_at: _timestamp_pb2.Timestamp
    cancelled_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., type: _Optional[_Union[RecurringTransactionTypeEnum.RecurringTransactionType, str]] = ..., from_account_id: _Optional[str] = ..., to_account_id: _Optional[str] = ..., payee_id: _Optional[str] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., description: _Optional[str] = ..., frequency: _Optional[_Union[RecurringFrequencyEnum.RecurringFrequency, str]] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., day_of_month: _Optional[int] = ..., next_execution: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_execution: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_transaction_id: _Optional[str] = ..., status: _Optional[_Union[RecurringTransactionStatusEnum.RecurringTransactionStatus, str]] = ..., execution_count: _Optional[int] = ..., consecutive_failure_count: _Optional[int] = ..., payee_account_number: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancelled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TransactionTypeEnum(_message.Message):
    __slots__ = ()
    class TransactionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TRANSACTION_TYPE_UNSPECIFIED: _ClassVar[TransactionTypeEnum.TransactionType]
        TRANSFER: _ClassVar[TransactionTypeEnum.TransactionType]
        EXTERNAL_TRANSFER: _ClassVar[TransactionTypeEnum.TransactionType]
        DEPOSIT: _ClassVar[TransactionTypeEnum.TransactionType]
        WITHDRAWAL: _ClassVar[TransactionTypeEnum.TransactionType]
        PAYMENT: _ClassVar[TransactionTypeEnum.TransactionType]
        REFUND: _ClassVar[TransactionTypeEnum.TransactionType]
        FEE: _ClassVar[TransactionTypeEnum.TransactionType]
        INTEREST: _ClassVar[TransactionTypeEnum.TransactionType]
        REVERSAL: _ClassVar[TransactionTypeEnum.TransactionType]
        ADJUSTMENT: _ClassVar[TransactionTypeEnum.TransactionType]
    TRANSACTION_TYPE_UNSPECIFIED: TransactionTypeEnum.TransactionType
    TRANSFER: TransactionTypeEnum.TransactionType
    EXTERNAL_TRANSFER: TransactionTypeEnum.TransactionType
    DEPOSIT: TransactionTypeEnum.TransactionType
    WITHDRAWAL: TransactionTypeEnum.TransactionType
    PAYMENT: TransactionTypeEnum.TransactionType
    REFUND: TransactionTypeEnum.TransactionType
    FEE: TransactionTypeEnum.TransactionType
    INTEREST: TransactionTypeEnum.TransactionType
    REVERSAL: TransactionTypeEnum.TransactionType
    ADJUSTMENT: TransactionTypeEnum.TransactionType
    def __init__(self) -> None: ...

class TransactionStatusEnum(_message.Message):
    __slots__ = ()
    class TransactionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TRANSACTION_STATUS_UNSPECIFIED: _ClassVar[TransactionStatusEnum.TransactionStatus]
        INITIATED: _ClassVar[TransactionStatusEnum.TransactionStatus]
        PENDING: _ClassVar[TransactionStatusEnum.TransactionStatus]
        SCHEDULED: _ClassVar[TransactionStatusEnum.TransactionStatus]
        PROCESSING: _ClassVar[TransactionStatusEnum.TransactionStatus]
        COMPLETED: _ClassVar[TransactionStatusEnum.TransactionStatus]
        FAILED: _ClassVar[TransactionStatusEnum.TransactionStatus]
        CANCELLED: _ClassVar[TransactionStatusEnum.TransactionStatus]
        REFUNDED: _ClassVar[TransactionStatusEnum.TransactionStatus]
        REVERSED: _ClassVar[TransactionStatusEnum.TransactionStatus]
        PENDING_REVIEW: _ClassVar[TransactionStatusEnum.TransactionStatus]
    TRANSACTION_STATUS_UNSPECIFIED: TransactionStatusEnum.TransactionStatus
    INITIATED: TransactionStatusEnum.TransactionStatus
    PENDING: TransactionStatusEnum.TransactionStatus
    SCHEDULED: TransactionStatusEnum.TransactionStatus
    PROCESSING: TransactionStatusEnum.TransactionStatus
    COMPLETED: TransactionStatusEnum.TransactionStatus
    FAILED: TransactionStatusEnum.TransactionStatus
    CANCELLED: TransactionStatusEnum.TransactionStatus
    REFUNDED: TransactionStatusEnum.TransactionStatus
    REVERSED: TransactionStatusEnum.TransactionStatus
    PENDING_REVIEW: TransactionStatusEnum.TransactionStatus
    def __init__(self) -> None: ...

class TransactionDirectionEnum(_message.Message):
    __slots__ = ()
    class TransactionDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TRANSACTION_DIRECTION_UNSPECIFIED: _ClassVar[TransactionDirectionEnum.TransactionDirection]
        DEBIT: _ClassVar[TransactionDirectionEnum.TransactionDirection]
        CREDIT: _ClassVar[TransactionDirectionEnum.TransactionDirection]
    TRANSACTION_DIRECTION_UNSPECIFIED: TransactionDirectionEnum.TransactionDirection
    DEBIT: TransactionDirectionEnum.TransactionDirection
    CREDIT: TransactionDirectionEnum.TransactionDirection
    def __init__(self) -> None: ...

class TransactionMethodEnum(_message.Message):
    __slots__ = ()
    class TransactionMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TRANSACTION_METHOD_UNSPECIFIED: _ClassVar[TransactionMethodEnum.TransactionMethod]
        CASH: _ClassVar[TransactionMethodEnum.TransactionMethod]
        CHECK: _ClassVar[TransactionMethodEnum.TransactionMethod]
        MOBILE_CHECK: _ClassVar[TransactionMethodEnum.TransactionMethod]
        WIRE: _ClassVar[TransactionMethodEnum.TransactionMethod]
        DIRECT_DEPOSIT: _ClassVar[TransactionMethodEnum.TransactionMethod]
        ATM: _ClassVar[TransactionMethodEnum.TransactionMethod]
        BRANCH: _ClassVar[TransactionMethodEnum.TransactionMethod]
        DEBIT_CARD: _ClassVar[TransactionMethodEnum.TransactionMethod]
    TRANSACTION_METHOD_UNSPECIFIED: TransactionMethodEnum.TransactionMethod
    CASH: TransactionMethodEnum.TransactionMethod
    CHECK: TransactionMethodEnum.TransactionMethod
    MOBILE_CHECK: TransactionMethodEnum.TransactionMethod
    WIRE: TransactionMethodEnum.TransactionMethod
    DIRECT_DEPOSIT: TransactionMethodEnum.TransactionMethod
    ATM: TransactionMethodEnum.TransactionMethod
    BRANCH: TransactionMethodEnum.TransactionMethod
    DEBIT_CARD: TransactionMethodEnum.TransactionMethod
    def __init__(self) -> None: ...

class DepositMethodEnum(_message.Message):
    __slots__ = ()
    class DepositMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        DEPOSIT_METHOD_UNSPECIFIED: _ClassVar[DepositMethodEnum.DepositMethod]
        CASH: _ClassVar[DepositMethodEnum.DepositMethod]
        CHECK: _ClassVar[DepositMethodEnum.DepositMethod]
        MOBILE_CHECK: _ClassVar[DepositMethodEnum.DepositMethod]
        WIRE: _ClassVar[DepositMethodEnum.DepositMethod]
        DIRECT_DEPOSIT: _ClassVar[DepositMethodEnum.DepositMethod]
    DEPOSIT_METHOD_UNSPECIFIED: DepositMethodEnum.DepositMethod
    CASH: DepositMethodEnum.DepositMethod
    CHECK: DepositMethodEnum.DepositMethod
    MOBILE_CHECK: DepositMethodEnum.DepositMethod
    WIRE: DepositMethodEnum.DepositMethod
    DIRECT_DEPOSIT: DepositMethodEnum.DepositMethod
    def __init__(self) -> None: ...

class WithdrawalMethodEnum(_message.Message):
    __slots__ = ()
    class WithdrawalMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        WITHDRAWAL_METHOD_UNSPECIFIED: _ClassVar[WithdrawalMethodEnum.WithdrawalMethod]
        ATM: _ClassVar[WithdrawalMethodEnum.WithdrawalMethod]
        BRANCH: _ClassVar[WithdrawalMethodEnum.WithdrawalMethod]
        CHECK: _ClassVar[WithdrawalMethodEnum.WithdrawalMethod]
        DEBIT_CARD: _ClassVar[WithdrawalMethodEnum.WithdrawalMethod]
    WITHDRAWAL_METHOD_UNSPECIFIED: WithdrawalMethodEnum.WithdrawalMethod
    ATM: WithdrawalMethodEnum.WithdrawalMethod
    BRANCH: WithdrawalMethodEnum.WithdrawalMethod
    CHECK: WithdrawalMethodEnum.WithdrawalMethod
    DEBIT_CARD: WithdrawalMethodEnum.WithdrawalMethod
    def __init__(self) -> None: ...

class TransferRailEnum(_message.Message):
    __slots__ = ()
    class TransferRail(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TRANSFER_RAIL_UNSPECIFIED: _ClassVar[TransferRailEnum.TransferRail]
        ACH: _ClassVar[TransferRailEnum.TransferRail]
        WIRE: _ClassVar[TransferRailEnum.TransferRail]
        INTERNATIONAL_WIRE: _ClassVar[TransferRailEnum.TransferRail]
    TRANSFER_RAIL_UNSPECIFIED: TransferRailEnum.TransferRail
    ACH: TransferRailEnum.TransferRail
    WIRE: TransferRailEnum.TransferRail
    INTERNATIONAL_WIRE: TransferRailEnum.TransferRail
    def __init__(self) -> None: ...

class TransferPurposeEnum(_message.Message):
    __slots__ = ()
    class TransferPurpose(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TRANSFER_PURPOSE_UNSPECIFIED: _ClassVar[TransferPurposeEnum.TransferPurpose]
        PERSONAL_TRANSFER: _ClassVar[TransferPurposeEnum.TransferPurpose]
        FAMILY_SUPPORT: _ClassVar[TransferPurposeEnum.TransferPurpose]
        GIFT: _ClassVar[TransferPurposeEnum.TransferPurpose]
        BILL_PAYMENT: _ClassVar[TransferPurposeEnum.TransferPurpose]
        RENT: _ClassVar[TransferPurposeEnum.TransferPurpose]
        SALARY: _ClassVar[TransferPurposeEnum.TransferPurpose]
        PURCHASE: _ClassVar[TransferPurposeEnum.TransferPurpose]
        BUSINESS_PAYMENT: _ClassVar[TransferPurposeEnum.TransferPurpose]
        INVESTMENT: _ClassVar[TransferPurposeEnum.TransferPurpose]
        LOAN_REPAYMENT: _ClassVar[TransferPurposeEnum.TransferPurpose]
        EDUCATION: _ClassVar[TransferPurposeEnum.TransferPurpose]
        MEDICAL: _ClassVar[TransferPurposeEnum.TransferPurpose]
        TAX_PAYMENT: _ClassVar[TransferPurposeEnum.TransferPurpose]
        CHARITY: _ClassVar[TransferPurposeEnum.TransferPurpose]
        OTHER: _ClassVar[TransferPurposeEnum.TransferPurpose]
    TRANSFER_PURPOSE_UNSPECIFIED: TransferPurposeEnum.TransferPurpose
    PERSONAL_TRANSFER: TransferPurposeEnum.TransferPurpose
    FAMILY_SUPPORT: TransferPurposeEnum.TransferPurpose
    GIFT: TransferPurposeEnum.TransferPurpose
    BILL_PAYMENT: TransferPurposeEnum.TransferPurpose
    RENT: TransferPurposeEnum.TransferPurpose
    SALARY: TransferPurposeEnum.TransferPurpose
    PURCHASE: TransferPurposeEnum.TransferPurpose
    BUSINESS_PAYMENT: TransferPurposeEnum.TransferPurpose
    INVESTMENT: TransferPurposeEnum.TransferPurpose
    LOAN_REPAYMENT: TransferPurposeEnum.TransferPurpose
    EDUCATION: TransferPurposeEnum.TransferPurpose
    MEDICAL: TransferPurposeEnum.TransferPurpose
    TAX_PAYMENT: TransferPurposeEnum.TransferPurpose
    CHARITY: TransferPurposeEnum.TransferPurpose
    OTHER: TransferPurposeEnum.TransferPurpose
    def __init__(self) -> None: ...

class BeneficiaryAccountTypeEnum(_message.Message):
    __slots__ = ()
    class BeneficiaryAccountType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        BENEFICIARY_ACCOUNT_TYPE_UNSPECIFIED: _ClassVar[BeneficiaryAccountTypeEnum.BeneficiaryAccountType]
        CHECKING: _ClassVar[BeneficiaryAccountTypeEnum.BeneficiaryAccountType]
        SAVINGS: _ClassVar[BeneficiaryAccountTypeEnum.BeneficiaryAccountType]
    BENEFICIARY_ACCOUNT_TYPE_UNSPECIFIED: BeneficiaryAccountTypeEnum.BeneficiaryAccountType
    CHECKING: BeneficiaryAccountTypeEnum.BeneficiaryAccountType
    SAVINGS: BeneficiaryAccountTypeEnum.BeneficiaryAccountType
    def __init__(self) -> None: ...

class AtmNetworkEnum(_message.Message):
    __slots__ = ()
    class AtmNetwork(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ATM_NETWORK_UNSPECIFIED: _ClassVar[AtmNetworkEnum.AtmNetwork]
        IN_NETWORK: _ClassVar[AtmNetworkEnum.AtmNetwork]
        OUT_OF_NETWORK: _ClassVar[AtmNetworkEnum.AtmNetwork]
        INTERNATIONAL: _ClassVar[AtmNetworkEnum.AtmNetwork]
    ATM_NETWORK_UNSPECIFIED: AtmNetworkEnum.AtmNetwork
    IN_NETWORK: AtmNetworkEnum.AtmNetwork
    OUT_OF_NETWORK: AtmNetworkEnum.AtmNetwork
    INTERNATIONAL: AtmNetworkEnum.AtmNetwork
    def __init__(self) -> None: ...

class RecurringTransactionTypeEnum(_message.Message):
    __slots__ = ()
    class RecurringTransactionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        RECURRING_TRANSACTION_TYPE_UNSPECIFIED: _ClassVar[RecurringTransactionTypeEnum.RecurringTransactionType]
        RECURRING_TRANSFER: _ClassVar[RecurringTransactionTypeEnum.RecurringTransactionType]
        RECURRING_PAYMENT: _ClassVar[RecurringTransactionTypeEnum.RecurringTransactionType]
    RECURRING_TRANSACTION_TYPE_UNSPECIFIED: RecurringTransactionTypeEnum.RecurringTransactionType
    RECURRING_TRANSFER: RecurringTransactionTypeEnum.RecurringTransactionType
    RECURRING_PAYMENT: RecurringTransactionTypeEnum.RecurringTransactionType
    def __init__(self) -> None: ...

class RecurringTransactionStatusEnum(_message.Message):
    __slots__ = ()
    class RecurringTransactionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        RECURRING_TRANSACTION_STATUS_UNSPECIFIED: _ClassVar[RecurringTransactionStatusEnum.RecurringTransactionStatus]
        ACTIVE: _ClassVar[RecurringTransactionStatusEnum.RecurringTransactionStatus]
        PAUSED: _ClassVar[RecurringTransactionStatusEnum.RecurringTransactionStatus]
        CANCELLED: _ClassVar[RecurringTransactionStatusEnum.RecurringTransactionStatus]
        COMPLETED: _ClassVar[RecurringTransactionStatusEnum.RecurringTransactionStatus]
    RECURRING_TRANSACTION_STATUS_UNSPECIFIED: RecurringTransactionStatusEnum.RecurringTransactionStatus
    ACTIVE: RecurringTransactionStatusEnum.RecurringTransactionStatus
    PAUSED: RecurringTransactionStatusEnum.RecurringTransactionStatus
    CANCELLED: RecurringTransactionStatusEnum.RecurringTransactionStatus
    COMPLETED: RecurringTransactionStatusEnum.RecurringTransactionStatus
    def __init__(self) -> None: ...

class RecurringFrequencyEnum(_message.Message):
    __slots__ = ()
    class RecurringFrequency(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        RECURRING_FREQUENCY_UNSPECIFIED: _ClassVar[RecurringFrequencyEnum.RecurringFrequency]
        DAILY: _ClassVar[RecurringFrequencyEnum.RecurringFrequency]
        WEEKLY: _ClassVar[RecurringFrequencyEnum.RecurringFrequency]
        BIWEEKLY: _ClassVar[RecurringFrequencyEnum.RecurringFrequency]
        MONTHLY: _ClassVar[RecurringFrequencyEnum.RecurringFrequency]
        QUARTERLY: _ClassVar[RecurringFrequencyEnum.RecurringFrequency]
        ANNUALLY: _ClassVar[RecurringFrequencyEnum.RecurringFrequency]
    RECURRING_FREQUENCY_UNSPECIFIED: RecurringFrequencyEnum.RecurringFrequency
    DAILY: RecurringFrequencyEnum.RecurringFrequency
    WEEKLY: RecurringFrequencyEnum.RecurringFrequency
    BIWEEKLY: RecurringFrequencyEnum.RecurringFrequency
    MONTHLY: RecurringFrequencyEnum.RecurringFrequency
    QUARTERLY: RecurringFrequencyEnum.RecurringFrequency
    ANNUALLY: RecurringFrequencyEnum.RecurringFrequency
    def __init__(self) -> None: ...

class TransactionCancelReasonEnum(_message.Message):
    __slots__ = ()
    class TransactionCancelReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TRANSACTION_CANCEL_REASON_UNSPECIFIED: _ClassVar[TransactionCancelReasonEnum.TransactionCancelReason]
        INCORRECT_AMOUNT: _ClassVar[TransactionCancelReasonEnum.TransactionCancelReason]
        INCORRECT_RECIPIENT: _ClassVar[TransactionCancelReasonEnum.TransactionCancelReason]
        INCORRECT_DATE: _ClassVar[TransactionCancelReasonEnum.TransactionCancelReason]
        DUPLICATE_TRANSACTION: _ClassVar[TransactionCancelReasonEnum.TransactionCancelReason]
        NO_LONGER_NEEDED: _ClassVar[TransactionCancelReasonEnum.TransactionCancelReason]
        SUSPECTED_FRAUD: _ClassVar[TransactionCancelReasonEnum.TransactionCancelReason]
        OTHER: _ClassVar[TransactionCancelReasonEnum.TransactionCancelReason]
    TRANSACTION_CANCEL_REASON_UNSPECIFIED: TransactionCancelReasonEnum.TransactionCancelReason
    INCORRECT_AMOUNT: TransactionCancelReasonEnum.TransactionCancelReason
    INCORRECT_RECIPIENT: TransactionCancelReasonEnum.TransactionCancelReason
    INCORRECT_DATE: TransactionCancelReasonEnum.TransactionCancelReason
    DUPLICATE_TRANSACTION: TransactionCancelReasonEnum.TransactionCancelReason
    NO_LONGER_NEEDED: TransactionCancelReasonEnum.TransactionCancelReason
    SUSPECTED_FRAUD: TransactionCancelReasonEnum.TransactionCancelReason
    OTHER: TransactionCancelReasonEnum.TransactionCancelReason
    def __init__(self) -> None: ...

class TransactionReversalReasonEnum(_message.Message):
    __slots__ = ()
    class TransactionReversalReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TRANSACTION_REVERSAL_REASON_UNSPECIFIED: _ClassVar[TransactionReversalReasonEnum.TransactionReversalReason]
        POSTING_ERROR: _ClassVar[TransactionReversalReasonEnum.TransactionReversalReason]
        DUPLICATE_TRANSACTION: _ClassVar[TransactionReversalReasonEnum.TransactionReversalReason]
        INCORRECT_AMOUNT: _ClassVar[TransactionReversalReasonEnum.TransactionReversalReason]
        INCORRECT_ACCOUNT: _ClassVar[TransactionReversalReasonEnum.TransactionReversalReason]
        RETURNED_ITEM: _ClassVar[TransactionReversalReasonEnum.TransactionReversalReason]
        FRAUD: _ClassVar[TransactionReversalReasonEnum.TransactionReversalReason]
        OTHER: _ClassVar[TransactionReversalReasonEnum.TransactionReversalReason]
    TRANSACTION_REVERSAL_REASON_UNSPECIFIED: TransactionReversalReasonEnum.TransactionReversalReason
    POSTING_ERROR: TransactionReversalReasonEnum.TransactionReversalReason
    DUPLICATE_TRANSACTION: TransactionReversalReasonEnum.TransactionReversalReason
    INCORRECT_AMOUNT: TransactionReversalReasonEnum.TransactionReversalReason
    INCORRECT_ACCOUNT: TransactionReversalReasonEnum.TransactionReversalReason
    RETURNED_ITEM: TransactionReversalReasonEnum.TransactionReversalReason
    FRAUD: TransactionReversalReasonEnum.TransactionReversalReason
    OTHER: TransactionReversalReasonEnum.TransactionReversalReason
    def __init__(self) -> None: ...
