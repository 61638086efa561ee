"""Command line: `python -m server {serve,migrate,load-sandbox,setup,run}`."""

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
    sub.add_parser("run", help="setup, then run the gRPC server and Envoy until Ctrl-C")
    create = sub.add_parser(
        "create-client", help="create an API client (how production gets its first admin client)"
    )
    create.add_argument("--name", required=True)
    create.add_argument("--scopes", default="banking.read banking.write backoffice.admin")
    sub.add_parser("rotate-signing-key", help="make a new JWT signing key the active one")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)

    if args.command == "serve":
        from server.app import serve

        serve(settings)
        return 0
    if args.command == "run":
        from server.run import run

        return run(settings)
    if args.command in ("create-client", "rotate-signing-key"):
        return _credentials_command(settings, args)
    print(json.dumps(setup(settings, load_sandbox=args.command != "migrate")))
    return 0


def _credentials_command(settings: Settings, args: argparse.Namespace) -> int:
    from server.app import open_store
    from server.store import clients, oauth
    from server.store.db import database

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


def setup(settings: Settings, *, load_sandbox: bool = True) -> dict[str, object]:
    """Migrations, internal accounts and (sandbox mode only) sandbox data."""
    from server.app import open_store
    from server.store import bootstrap, migrations, sandbox
    from server.store.db import database

    open_store(settings)
    result: dict[str, object] = {"migrations_applied": migrations.migrate(database.obj)}
    with database.connection_context():
        result["internal_accounts_created"] = bootstrap.ensure_internal_accounts()
        if load_sandbox and settings.sandbox:
            result["sandbox_created"] = sandbox.load()
    return result


if __name__ == "__main__":
    sys.exit(main())
