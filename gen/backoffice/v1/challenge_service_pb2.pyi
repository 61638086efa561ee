from backoffice.v1 import annotations_pb2 as _annotations_pb2
from backoffice.v1 import challenge_pb2 as _challenge_pb2
from backoffice.v1 import transaction_pb2 as _transaction_pb2
from backoffice.v1 import user_pb2 as _user_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VerifyChallengeRequest(_message.Message):
    __slots__ = ("challenge_id", "code", "method")
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    challenge_id: str
    code: str
    method: _challenge_pb2.ChallengeMethodEnum.ChallengeMethod
    def __init__(self, challenge_id: _Optional[str] = ..., code: _Optional[str] = ..., method: _Optional[_Union[_challenge_pb2.ChallengeMethodEnum.ChallengeMethod, str]] = ...) -> None: ...

class VerifyChallengeResponse(_message.Message):
    __slots__ = ("transaction", "recurring_transaction", "enrollment", "user")
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    RECURRING_TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    transaction: _transaction_pb2.Transaction
    recurring_transaction: _transaction_pb2.RecurringTransaction
    enrollment: _challenge_pb2.TotpEnrollment
    user: _user_pb2.User
    def __init__(self, transaction: _Optional[_Union[_transaction_pb2.Transaction, _Mapping]] = ..., recurring_transaction: _Optional[_Union[_transaction_pb2.RecurringTransaction, _Mapping]] = ..., enrollment: _Optional[_Union[_challenge_pb2.TotpEnrollment, _Mapping]] = ..., user: _Optional[_Union[_user_pb2.User, _Mapping]] = ...) -> None: ...

class EnrollTotpRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class EnrollTotpResponse(_message.Message):
    __slots__ = ("enrollment", "challenge")
    ENROLLMENT_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    enrollment: _challenge_pb2.TotpEnrollment
    challenge: _challenge_pb2.Challenge
    def __init__(self, enrollment: _Optional[_Union[_challenge_pb2.TotpEnrollment, _Mapping]] = ..., challenge: _Optional[_Union[_challenge_pb2.Challenge, _Mapping]] = ...) -> None: ...

class ConfirmTotpRequest(_message.Message):
    __slots__ = ("user_id", "code")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    code: str
    def __init__(self, user_id: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class ConfirmTotpResponse(_message.Message):
    __slots__ = ("enrollment",)
    ENROLLMENT_FIELD_NUMBER: _ClassVar[int]
    enrollment: _challenge_pb2.TotpEnrollment
    def __init__(self, enrollment: _Optional[_Union[_challenge_pb2.TotpEnrollment, _Mapping]] = ...) -> None: ...
