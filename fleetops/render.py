"""Render the repository's Jinja2 templates, strictly.

Templates come from the installed ``fleetops.templates`` package only (never from remote output)
and render with StrictUndefined: a missing value is an error, not an empty string in a config.
"""

from __future__ import annotations

import shlex
from functools import lru_cache
from pathlib import Path

import jinja2

from fleetops.errors import InputError


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    import fleetops.templates

    root = Path(fleetops.templates.__file__).parent
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # HTML reports escape every value (host output ends up in them); configs are plain text.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
    )
    # bash templates quote every value with a real shell quoter (never tojson: JSON is not bash)
    env.filters["shquote"] = lambda value: shlex.quote(str(value))
    return env


def render(name: str, **context: object) -> str:
    """Render template ``name`` (e.g. ``sshd/hardening.conf.j2``) with ``context``."""
    try:
        return environment().get_template(name).render(**context)
    except jinja2.UndefinedError as error:
        raise InputError(f"template {name}: {error.message}") from None
    except jinja2.TemplateNotFound:
        raise InputError(f"template not found: {name}") from None
