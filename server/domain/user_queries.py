"""Listing users: ListUsers' filters, sorts, page tokens and partial
responses (`fields`). Plain rules, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.domain import errors
from server.domain.users import STATUSES, validate_role

SEARCH_LENGTH_MAX = 100
FIELDS_LENGTH_MAX = 500
# Offset paging reads and skips every earlier row; deeper pages use page_token.
PAGE_DEPTH_MAX = 10_000

# The User resource's fields, in proto order (partial responses name these).
USER_FIELDS = (
    "id",
    "email",
    "name",
    "phone",
    "date_of_birth",
    "tax_id",
    "address",
    "role",
    "status",
    "created_at",
    "updated_at",
    "last_login_at",
)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


# Both spellings, compared case-insensitively: `date_of_birth`, `dateOfBirth`.
_FIELD_NAMES = {spelling.lower(): name for name in USER_FIELDS for spelling in (name, _camel(name))}

# Sort names a client may give (snake_case or lowerCamelCase, lower-cased by
# the caller) -> the canonical sort field.
SORT_FIELDS = {
    "created_at": "created_at",
    "createdat": "created_at",
    "name": "name",
    "email": "email",
    "last_login_at": "last_login_at",
    "lastloginat": "last_login_at",
}
DATETIME_SORTS = frozenset({"created_at", "last_login_at"})


@dataclass(frozen=True, slots=True)
class UserQuery:
    """A validated ListUsers filter and sort."""

    search: str = ""
    role: str | None = None
    status: str | None = None
    sort: str = "created_at"
    order: str = "desc"

    def filters(self) -> dict[str, Any]:
        """What a page token is bound to."""
        return {
            "search": self.search,
            "role": self.role,
            "status": self.status,
            "sort": self.sort,
            "order": self.order,
        }


def validate_search(value: str) -> str:
    text = value.strip()
    if len(text) > SEARCH_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"search must be at most {SEARCH_LENGTH_MAX} characters",
            field="search",
            metadata={"length_max": str(SEARCH_LENGTH_MAX)},
        )
    return text.lower()


def list_query(search: str, role: str, status: str, sort: str, order: str) -> UserQuery:
    """ListUsers' filters; empty role or status means any."""
    if status and status not in STATUSES:
        raise errors.ValidationFailed("status is not a user status", field="status")
    return UserQuery(
        search=validate_search(search),
        role=validate_role(role) if role else None,
        status=status or None,
        sort=sort,
        order=order,
    )


def check_page_depth(page: int, limit: int, keyset: bool) -> None:
    if not keyset and page * limit > PAGE_DEPTH_MAX:
        raise errors.ValidationFailed(
            f"page times limit may not exceed {PAGE_DEPTH_MAX}; use page_token",
            field="page",
            metadata={"depth_max": str(PAGE_DEPTH_MAX)},
        )


def keyset_after(sort: str, after: list[Any] | None) -> tuple[str | None, str] | None:
    """The (sort value, id) a page token resumes after, checked for shape.

    The token is client-held, so its values must be plausible before they
    reach SQL: a string for a timestamp column that is not a timestamp would
    make PostgreSQL fail.
    """
    if after is None:
        return None
    invalid = errors.ValidationFailed("page_token is not valid", field="page_token")
    if len(after) != 2 or not isinstance(after[1], str):
        raise invalid
    value, last_id = after
    if not isinstance(value, str):
        raise invalid
    if sort in DATETIME_SORTS:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise invalid from None
    return value, last_id


def parse_fields(text: str) -> frozenset[str] | None:
    """Partial response: the fields to keep (always `id`); None keeps all."""
    if not text.strip():
        return None
    if len(text) > FIELDS_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"fields must be at most {FIELDS_LENGTH_MAX} characters", field="fields"
        )
    selected = {"id"}
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            continue
        canonical = _FIELD_NAMES.get(name.lower())
        if canonical is None:
            raise errors.ValidationFailed(
                f"Unknown field {name[:50]!r} in fields",
                field="fields",
                metadata={"value": name[:50], "allowed": ",".join(USER_FIELDS)},
            )
        selected.add(canonical)
    return frozenset(selected)
