"""The audit log: every API call, append-only and hash-chained (audit.proto).

- `audit_events`: one row per call. `sequence` numbers events from 1 without
  gaps; `hash` chains each event to the previous one (server.domain.audit).
  `resource_ids` is a JSON array, in the order logged.
- `audit_event_resources`: (resource id, sequence), one row per resource id
  of an event, so that "every call that touched acc_..." reads an index. It
  is a lookup aid only: results are always read from `audit_events`.
- `audit_anchor`: exactly one row, the sequence and hash of the last pruned
  event (0 and 64 zeros until the first pruning). Verification of what
  remains starts from it; appends chain to it when every event was pruned.

What the database refuses, on both backends:
- any UPDATE of an event or a resource row, and any DELETE of one newer
  than the anchor: only a prefix of the log, up to the anchor, can go;
- moving the anchor backwards, or to a hash that is not the stored hash of
  the event at its sequence; deleting the anchor; a second anchor row;
- inserting an event that does not extend the chain: its sequence must be
  the last one + 1 and its previous_hash the last event's hash (or the
  anchor's). Together with the primary key on `sequence`, two writers can
  never fork the chain.

PostgreSQL also refuses TRUNCATE, and accepts the anchor move and the
deletions only inside a transaction that set `bank.audit_prune = 'on'`
(`SELECT set_config('bank.audit_prune', 'on', true)`): the pruning path of
`server.store.audit.prune` and nothing else in the code. SQLite has no
session settings: there, anyone who can write the file can move the anchor
forward and then delete the prefix, so pruning is enforced by the code only.

None of this stops the database owner (DROP TRIGGER, `session_replication_role
= replica`, editing the SQLite file). That is what the hash chain is for: such
a change is found by VerifyAuditLog, and an auditor who keeps the last hash it
reports can tell that events were removed from the end.
"""

from __future__ import annotations

_GENESIS = "0" * 64


def _tables(sequence_type: str) -> list[str]:
    return [
        f"""CREATE TABLE audit_events (
            sequence {sequence_type} PRIMARY KEY CHECK (sequence >= 1),
            id TEXT NOT NULL UNIQUE,
            actor_id TEXT NOT NULL DEFAULT '',
            client_id TEXT NOT NULL DEFAULT '',
            method TEXT NOT NULL,
            resource_ids TEXT NOT NULL DEFAULT '[]',
            outcome_code TEXT NOT NULL,
            request_id TEXT NOT NULL DEFAULT '',
            ip_address TEXT NOT NULL DEFAULT '',
            created_at TIMESTAMP NOT NULL,
            previous_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        "CREATE INDEX audit_events_created_idx ON audit_events (created_at)",
        "CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, sequence)",
        "CREATE INDEX audit_events_client_idx ON audit_events (client_id, sequence)",
        "CREATE INDEX audit_events_method_idx ON audit_events (method, sequence)",
        """CREATE TABLE audit_event_resources (
            resource_id TEXT NOT NULL,
            sequence BIGINT NOT NULL REFERENCES audit_events (sequence),
            PRIMARY KEY (resource_id, sequence)
        )""",
        "CREATE INDEX audit_event_resources_sequence_idx ON audit_event_resources (sequence)",
        """CREATE TABLE audit_anchor (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            pruned_sequence BIGINT NOT NULL CHECK (pruned_sequence >= 0),
            pruned_hash TEXT NOT NULL,
            pruned_at TIMESTAMP
        )""",
        (
            "INSERT INTO audit_anchor (id, pruned_sequence, pruned_hash)"
            f" VALUES (1, 0, '{_GENESIS}')"
        ),
    ]


_POSTGRES_GUARDS = [
    # The chain's head: the last event, or the anchor when every event is pruned.
    """CREATE FUNCTION audit_events_extend() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE head_sequence BIGINT; head_hash TEXT;
    BEGIN
        SELECT sequence, hash INTO head_sequence, head_hash
          FROM audit_events ORDER BY sequence DESC LIMIT 1;
        IF NOT FOUND THEN
            SELECT pruned_sequence, pruned_hash INTO head_sequence, head_hash
              FROM audit_anchor WHERE id = 1;
        END IF;
        IF NEW.sequence <> head_sequence + 1 OR NEW.previous_hash <> head_hash THEN
            RAISE EXCEPTION 'audit event %% does not extend the chain', NEW.sequence
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER audit_events_extend BEFORE INSERT ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_extend()""",
    """CREATE FUNCTION audit_prunable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE'
           AND current_setting('bank.audit_prune', true) = 'on'
           AND OLD.sequence <= (SELECT pruned_sequence FROM audit_anchor WHERE id = 1) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'restrict_violation';
    END $$""",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_prunable()""",
    """CREATE TRIGGER audit_event_resources_append_only
        BEFORE UPDATE OR DELETE ON audit_event_resources
        FOR EACH ROW EXECUTE FUNCTION audit_prunable()""",
    """CREATE FUNCTION audit_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'restrict_violation';
    END $$""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate()""",
    """CREATE TRIGGER audit_event_resources_no_truncate BEFORE TRUNCATE ON audit_event_resources
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate()""",
    """CREATE TRIGGER audit_anchor_no_truncate BEFORE TRUNCATE ON audit_anchor
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate()""",
    """CREATE FUNCTION audit_anchor_forward() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE'
           AND current_setting('bank.audit_prune', true) = 'on'
           AND NEW.id = OLD.id
           AND NEW.pruned_sequence > OLD.pruned_sequence
           AND NEW.pruned_hash = (SELECT hash FROM audit_events
                                   WHERE sequence = NEW.pruned_sequence) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'the audit anchor only moves forward, to a stored event'
            USING ERRCODE = 'restrict_violation';
    END $$""",
    """CREATE TRIGGER audit_anchor_forward BEFORE UPDATE OR DELETE ON audit_anchor
        FOR EACH ROW EXECUTE FUNCTION audit_anchor_forward()""",
]

_SQLITE_HEAD_SEQUENCE = (
    "COALESCE((SELECT MAX(sequence) FROM audit_events),"
    " (SELECT pruned_sequence FROM audit_anchor WHERE id = 1))"
)
_SQLITE_HEAD_HASH = (
    "COALESCE((SELECT hash FROM audit_events ORDER BY sequence DESC LIMIT 1),"
    " (SELECT pruned_hash FROM audit_anchor WHERE id = 1))"
)
_SQLITE_PRUNED = "(SELECT pruned_sequence FROM audit_anchor WHERE id = 1)"

_SQLITE_GUARDS = [
    f"""CREATE TRIGGER audit_events_extend BEFORE INSERT ON audit_events
        WHEN NEW.sequence <> {_SQLITE_HEAD_SEQUENCE} + 1
          OR NEW.previous_hash IS NOT {_SQLITE_HEAD_HASH}
        BEGIN SELECT RAISE(ABORT, 'audit event does not extend the chain'); END""",
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    f"""CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        WHEN OLD.sequence > {_SQLITE_PRUNED}
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_event_resources_no_update BEFORE UPDATE ON audit_event_resources
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    f"""CREATE TRIGGER audit_event_resources_no_delete BEFORE DELETE ON audit_event_resources
        WHEN OLD.sequence > {_SQLITE_PRUNED}
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_anchor_forward BEFORE UPDATE ON audit_anchor
        WHEN NEW.id <> OLD.id
          OR NEW.pruned_sequence <= OLD.pruned_sequence
          OR NEW.pruned_hash IS NOT (SELECT hash FROM audit_events
                                      WHERE sequence = NEW.pruned_sequence)
        BEGIN SELECT RAISE(ABORT, 'the audit anchor only moves forward, to a stored event'); END""",
    """CREATE TRIGGER audit_anchor_no_delete BEFORE DELETE ON audit_anchor
        BEGIN SELECT RAISE(ABORT, 'the audit anchor cannot be deleted'); END""",
]


def statements(dialect: str) -> list[str]:
    if dialect == "postgres":
        return _tables("BIGINT") + _POSTGRES_GUARDS
    # INTEGER PRIMARY KEY: on SQLite the sequence is the rowid itself.
    return _tables("INTEGER") + _SQLITE_GUARDS
