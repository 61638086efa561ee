import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuditEvent(_message.Message):
    __slots__ = ("id", "sequence", "actor_id", "client_id", "method", "resource_ids", "outcome_code", "request_id", "ip_address", "created_at", "hash", "previous_hash")
    ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_IDS_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_CODE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_HASH_FIELD_NUMBER: _ClassVar[int]
    id: str
    sequence: int
    actor_id: str
    client_id: str
    method: str
    resource_ids: _containers.RepeatedScalarFieldContainer[str]
    outcome_code: str
    request_id: str
    ip_address: str
    created_at: _timestamp_pb2.Timestamp
    hash: str
    previous_hash: str
    def __init__(self, id: _Optional[str] = ..., sequence: _Optional[int] = ..., actor_id: _Optional[str] = ..., client_id: _Optional[str] = ..., method: _Optional[str] = ..., resource_ids: _Optional[_Iterable[str]] = ..., outcome_code: _Optional[str] = ..., request_id: _Optional[str] = ..., ip_address: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., hash: _Optional[str] = ..., previous_hash: _Optional[str] = ...) -> None: ...
