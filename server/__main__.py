"""Command line: `python -m server <command>` (`--help` lists them)."""

from __future__ import annotations

import argparse
import json
import sys

from server import logs
from server.config import ConfigError, Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the gRPC server (no Envoy)")
    sub.add_parser("migrate", help="apply pending database migrations")
    sub.add_parser("load-sandbox", help="load the sandbox data (idempotent)")
    sub.add_parser(
        "setup", help="migrate, create internal accounts, load sandbox data in sandbox mode"
    )
    sub.add_parser("webhooks", help="run the webhook delivery worker until SIGTERM")
    sub.add_parser("run", help="setup, then run the gRPC server and Envoy until Ctrl-C")
    sub.add_parser(
        "reset-sandbox",
        help="drop the sandbox database (SQLite) and load it again: the clock back to now,"
        " the sandbox data as documented (stop the server first)",
    )
    create = sub.add_parser(
        "create-client", help="create an API client (how production gets its first admin client)"
    )
    create.add_argument("--name", required=True)
    create.add_argument("--scopes", default="banking.read banking.write backoffice.admin")
    sub.add_parser("rotate-signing-key", help="make a new JWT signing key the active one")
    signing = sub.add_parser(
        "issue-signing-secret",
        help="issue (or replace) a client's request-signing secret; printed once",
    )
    signing.add_argument("--client-id", required=True)
    rotate = sub.add_parser(
        "rotate-keys",
        help="make a new field-encryption key and re-encrypt every sealed value under it"
        " (a re-run after a crash resumes the same rotation)",
    )
    rotate.add_argument(
        "--retire",
        action="store_true",
        help="then delete every old key that no stored value needs any more",
    )
    rotate.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
    prune = sub.add_parser("prune-audit", help="remove audit events older than the retention")
    prune.add_argument(
        "--older-than-days",
        type=int,
        default=None,
        help="instead of BANK_AUDIT_RETENTION_DAYS (at least 1; 2555 in production mode)",
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)

    if args.command in ("serve", "run", "webhooks"):
        return _serve_command(settings, args.command)
    if args.command in ("create-client", "rotate-signing-key", "issue-signing-secret"):
        return _credentials_command(settings, args)
    if args.command in ("rotate-keys", "prune-audit"):
        return _data_command(settings, args)
    if args.command == "reset-sandbox":
        return reset_sandbox(settings)
    print(json.dumps(setup(settings, load_sandbox=args.command != "migrate")))
    return 0


def _serve_command(settings: Settings, command: str) -> int:
    from server.app import serve
    from server.run import run
    from server.tls import TlsError

    try:
        if command == "webhooks":
            from server.workers import webhooks

            return webhooks.main(settings)
        if command == "run":
            return run(settings)
        serve(settings)
    except TlsError as exc:  # BANK_GRPC_TLS files that cannot be used
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


def _credentials_command(settings: Settings, args: argparse.Namespace) -> int:
    from server.app import open_store
    from server.store import clients, oauth
    from server.store.db import database

    if args.command == "issue-signing-secret":
        return issue_signing_secret(settings, args.client_id)
    open_store(settings)
    with database.connection_context():
        if args.command == "rotate-signing-key":
            print(json.dumps({"active_kid": oauth.authority(settings).rotate_signing_key()}))
            return 0
        client, secret = clients.create(
            clients.NewClient(name=args.name, scopes=tuple(args.scopes.split()))
        )
    # The secret is shown here once; only its hash is stored.
    print(json.dumps({"client_id": client.id, "client_secret": secret, "scopes": client.scopes}))
    return 0


def issue_signing_secret(settings: Settings, client_id: str) -> int:
    """`issue-signing-secret`: prints the new secret once (JSON); 1 for an unknown client."""
    from server.app import open_store
    from server.domain import errors
    from server.store import signing_secrets
    from server.store.db import database

    open_store(settings)
    with database.connection_context():
        try:
            secret = signing_secrets.issue(
                client_id, signing_secrets.keyring(settings.data_dir / "keys")
            )
        except errors.NotFound:
            print(f"no client {client_id!r}", file=sys.stderr)
            return 1
    print(json.dumps({"client_id": client_id, "signing_secret": secret}))
    return 0


def setup(settings: Settings, *, load_sandbox: bool = True) -> dict[str, object]:
    """Migrations, internal accounts and (sandbox mode only) sandbox data."""
    from server.app import open_store
    from server.crypto.fields import load_keyring
    from server.store import bootstrap, migrations, sandbox, sealed
    from server.store.db import database

    open_store(settings)
    result: dict[str, object] = {"migrations_applied": migrations.migrate(database.obj)}
    with database.connection_context():
        result["internal_accounts_created"] = bootstrap.ensure_internal_accounts()
        if load_sandbox and settings.sandbox:
            result["sandbox_created"] = sandbox.load()
        # Values stored before field encryption (plaintext, legacy tax ids), and
        # the sandbox billers' account numbers, loaded in plaintext just above.
        legacy = sealed.reseal(load_keyring(settings.data_dir / "keys"), legacy_only=True)
        result["values_sealed"] = legacy.resealed_total
    return result


def reset_sandbox(settings: Settings) -> int:
    """`reset-sandbox`: 0 and what was done (JSON), or 2 and why it was refused."""
    from server import sandbox_reset

    try:
        removed = sandbox_reset.drop(settings)
        print(json.dumps({"removed": removed, **setup(settings)}))
    except sandbox_reset.ResetRefused as exc:
        print(f"reset-sandbox refused: {exc}", file=sys.stderr)
        return 2
    return 0


def _data_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "rotate-keys":
        return rotate_keys(settings, retire=args.retire, batch_size=args.batch_size)
    return prune_audit(settings, args.older_than_days)


def rotate_keys(settings: Settings, *, retire: bool, batch_size: int) -> int:
    """`rotate-keys`: prints what it did as JSON; 1 when values remain to look at."""
    from server.app import open_store
    from server.store import sealed
    from server.store.db import database

    if not 1 <= batch_size <= sealed.BATCH_SIZE_MAX:
        print(f"--batch-size must be between 1 and {sealed.BATCH_SIZE_MAX}", file=sys.stderr)
        return 2
    open_store(settings)
    with database.connection_context():
        result = sealed.rotate(settings.data_dir / "keys", retire=retire, batch_size=batch_size)
    print(json.dumps(result.to_dict()))
    return 0 if result.complete else 1


def prune_audit(settings: Settings, older_than_days: int | None) -> int:
    """`prune-audit`: removes audit events older than the retention; prints the count."""
    from datetime import timedelta

    from server.app import open_store
    from server.store import audit, audit_log
    from server.store.db import database

    floor = 1 if settings.sandbox else audit_log.RETENTION_DAYS_DEFAULT
    try:
        days = audit_log.retention_days() if older_than_days is None else older_than_days
        if not floor <= days <= audit_log.RETENTION_DAYS_MAX:
            raise ConfigError(
                f"the retention must be between {floor} and {audit_log.RETENTION_DAYS_MAX} days"
            )
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    open_store(settings)
    with database.connection_context():
        removed = audit_log.prune(audit.now() - timedelta(days=days))
    print(json.dumps({"audit_events_pruned": removed, "retention_days": days}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
