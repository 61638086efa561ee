from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Pagination(_message.Message):
    __slots__ = ("current_page", "per_page", "items_per_page", "total_pages", "total_count", "total_items", "has_next", "has_previous", "next_page_token")
    CURRENT_PAGE_FIELD_NUMBER: _ClassVar[int]
    PER_PAGE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_PER_PAGE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAGES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ITEMS_FIELD_NUMBER: _ClassVar[int]
    HAS_NEXT_FIELD_NUMBER: _ClassVar[int]
    HAS_PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    current_page: int
    per_page: int
    items_per_page: int
    total_pages: int
    total_count: int
    total_items: int
    has_next: bool
    has_previous: bool
    next_page_token: str
    def __init__(self, current_page: _Optional[int] = ..., per_page: _Optional[int] = ..., items_per_page: _Optional[int] = ..., total_pages: _Optional[int] = ..., total_count: _Optional[int] = ..., total_items: _Optional[int] = ..., has_next: _Optional[bool] = ..., has_previous: _Optional[bool] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DateRange(_message.Message):
    __slots__ = ("to",)
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    to: str
    def __init__(self, to: _Optional[str] = ..., **kwargs) -> None: ...

class AmountRange(_message.Message):
    __slots__ = ("min", "max")
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    min: float
    max: float
    def __init__(self, min: _Optional[float] = ..., max: _Optional[float] = ...) -> None: ...
