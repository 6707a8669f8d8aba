"""Command line: `python -m app <command>`."""

from __future__ import annotations

import asyncio
import logging
import sys

import click

from app.billing import cli as billing_cli
from app.config import ConfigError, get_settings
from app.media import cli as storage_cli
from app.ops import redact


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
    banner = f"AdsVideo on http://{host}:{port}  [{settings.app_env}; {settings.database_url}; {mode}]"
    _setup_logs(settings)
    if settings.log_format == "json":
        logging.getLogger("adsvideo").info(banner)
    else:
        click.echo(redact.text(banner))
    uvicorn.run(
        "app.asgi:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        proxy_headers=True,
        forwarded_allow_ips="*",
        log_level="info",
        log_config=None,  # the app's own set-up (LOG_FORMAT) formats uvicorn's lines too
    )


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("dramatiq_args", nargs=-1, type=click.UNPROCESSED)
def worker(dramatiq_args: tuple[str, ...]) -> None:
    """Run the job worker (`dramatiq tasks` with the app's log format); options go to dramatiq,
    e.g. `--processes 1 --threads 4 --worker-shutdown-timeout 25000`."""
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    # Only logs here: the worker processes set up error tracking themselves (a client started before
    # the fork would lose its sending thread).
    _setup_logs(get_settings())
    sys.exit(dramatiq_main(make_argument_parser().parse_args(["tasks", *dramatiq_args])))


def _setup_logs(settings) -> None:
    from app.ops.logs import setup_logging

    setup_logging(settings.log_format, settings.log_level, secrets=[settings.secret_key, settings.jwt_secret_key])


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
