"""Command line: `python -m app <command>`."""

from __future__ import annotations

import asyncio
import sys

import click

from app.billing import cli as billing_cli
from app.config import ConfigError, get_settings
from app.media import cli as storage_cli


def run(coro):
    return asyncio.run(coro)


@click.group()
def cli() -> None:
    """AdsVideo administration."""


@cli.command()
def migrate() -> None:
    """Apply every pending database migration."""
    from app.migrate import migrate as run_migrations

    run(run_migrations())


@cli.command()
@click.option("--quick", is_flag=True, help="Tiny one-second clips (for tests).")
def seed(quick: bool) -> None:
    """Create demo users, showcase videos and trial images (safe to run again)."""
    from app.showcase.seed import seed as run_seed

    added = run(run_seed(quick=quick))
    click.echo("Seeded: " + ", ".join(f"{n} new {what.replace('_', ' ')}" for what, n in added.items()))


@cli.command()
@click.option("--host", default=None, help="Default: HOST or 127.0.0.1.")
@click.option("--port", default=None, type=int, help="Default: PORT or 8000.")
@click.option("--reload", is_flag=True, help="Restart on code changes.")
def serve(host: str | None, port: int | None, reload: bool) -> None:
    """Run the web app (with the in-process worker when REDIS_URL is unset)."""
    import uvicorn

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    mode = "Redis broker (run the worker separately)" if settings.redis_url else "embedded worker, in-process broker"
    click.echo(f"AdsVideo on http://{host}:{port}  [{settings.app_env}; {settings.database_url}; {mode}]")
    uvicorn.run(
        "app.asgi:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        proxy_headers=True,
        forwarded_allow_ips="*",
        log_level="info",
    )


@cli.command("create-admin")
@click.argument("email")
def create_admin(email: str) -> None:
    """Make EMAIL an administrator (creating the account if it does not exist yet)."""
    from app.accounts.admins import make_admin

    created = run(make_admin(email))
    click.echo(f"{email} is an administrator{' (new account; it links on first Google sign-in)' if created else ''}.")


for _command in billing_cli.COMMANDS:  # set-plan, grant-credits, check-ledger
    cli.add_command(_command)


cli.add_command(storage_cli.storage)  # storage check, storage copy-local-to-s3


def main() -> None:
    try:
        cli(standalone_mode=True)
    except ConfigError as exc:
        click.echo(f"Configuration error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
