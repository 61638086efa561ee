"""An API call's audit event, written in the transaction of the work it did.

The audit interceptor appends one event per call once the call has finished
(server.api.audit_interceptor), in a transaction of its own. A call whose
work is posted by a micro-batch (an immediate transfer on PostgreSQL,
server.services.transfer_queue) can instead have its event appended in that
batch's own transaction, just before its COMMIT: one transaction and one
commit fewer per batch, and the event is committed exactly when the work is.
The call carries an `AuditDraft` (everything the event says but its outcome
and the ids of what it made); the batch completes it (`entry`) once the
outcome is known and, after the commit, marks it `written` with that
outcome. The interceptor then appends nothing, unless the call answered
otherwise in the end (its own event then records what the caller got).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from server.domain.audit import AuditEntry, resource_ids
from server.domain.ids import new_id


@dataclass(eq=False)
class AuditDraft:
    """The audit event of one call, but its outcome and its response's ids."""

    actor_id: str
    client_id: str
    method: str
    request_id: str
    ip_address: str
    # (field name, value) of the request's string fields, as the interceptor reads them.
    request_fields: tuple[tuple[str, str], ...]
    # The outcome code committed with the call's work; None until its commit.
    written: str | None = field(default=None)

    def entry(
        self, outcome: str, response_fields: Iterable[tuple[str, str]], now: datetime
    ) -> AuditEntry:
        return AuditEntry(
            id=new_id("aud"),
            actor_id=self.actor_id,
            client_id=self.client_id,
            method=self.method,
            resource_ids=resource_ids([*self.request_fields, *response_fields]),
            outcome_code=outcome,
            request_id=self.request_id,
            ip_address=self.ip_address,
            created_at=now,
        )
