"""Options shared by every verb, defined once."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path

import click

F = Callable[..., object]


def _vault_password_file(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """The inventory loader reads the vault password file's *path* from the environment (a value
    is never passed around, and never reaches a command line)."""
    import os

    if value is not None:
        os.environ["FLEETOPS_VAULT_PASSWORD_FILE"] = str(Path(value).resolve())


vault_password_option = click.option(
    "--vault-password-file",
    metavar="FILE",
    expose_value=False,
    callback=_vault_password_file,
    help="Ansible Vault password file for an Ansible inventory (mode 0600).",
)


def inventory_options(func: F) -> F:
    """``-i/--inventory``, ``--limit`` and ``--exclude`` (repeatable), ``--parallel``,
    ``--vault-password-file``."""
    options = [
        click.option(
            "-i",
            "--inventory",
            "inventory",
            metavar="FILE",
            help="pyinfra inventory file, or an Ansible inventory (INI, YAML, folder); default: the running lab.",
        ),
        click.option(
            "--limit",
            multiple=True,
            metavar="GROUP|HOST",
            help="Only these groups/hosts (repeatable, shell patterns allowed).",
        ),
        click.option("--exclude", multiple=True, metavar="GROUP|HOST", help="Skip these groups/hosts (repeatable)."),
        click.option(
            "--parallel",
            type=click.IntRange(1, 500),
            default=None,
            metavar="N",
            help="Hosts worked on at once (default: all, up to 100).",
        ),
        vault_password_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def output_options(func: F) -> F:
    """``-v/-q`` and ``--json``; configures logging to stderr (data goes to stdout)."""

    @click.option("-v", "--verbose", count=True, help="More detail (repeat for more).")
    @click.option("-q", "--quiet", is_flag=True, help="Only errors and the result.")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
    @functools.wraps(func)
    def wrapper(*args: object, verbose: int, quiet: bool, as_json: bool, **kwargs: object) -> object:
        setup_logging(verbose, quiet)
        return func(*args, verbose=verbose, quiet=quiet, as_json=as_json, **kwargs)

    return wrapper


def setup_logging(verbose: int, quiet: bool) -> None:
    """Log to stderr through the secret-redacting filter."""
    from fleetops.secrets import RedactingFilter

    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    handler = logging.StreamHandler()
    handler.setLevel(level)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("paramiko").setLevel(max(level, logging.WARNING))


def output_path(value: str | None, option: str) -> Path | None:
    """An output file option's path, refused (InputError) when its directory does not exist;
    ``None`` and ``-`` (stdout) give ``None``."""
    from fleetops.errors import InputError

    if value is None or str(value) == "-":
        return None
    path = Path(value)
    if not path.parent.is_dir():
        raise InputError(f"{option}: directory does not exist: {path.parent}")
    return path
