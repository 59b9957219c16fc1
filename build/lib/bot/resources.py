"""Files shipped inside the package: the text templates, the sandbox page and the example
configs and lead files. Found with `importlib.resources`, so an installed `handoff` (a
wheel, not the checkout) finds them as well as `make demo` does.

In the checkout they live at the top level (`templates/`, `examples/`,
`handoff.example.toml`); `pyproject.toml` maps them into the package as `bot.templates`
and `bot.examples`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, Environment, StrictUndefined, TemplateNotFound

TEMPLATES = "bot.templates"
EXAMPLES = "bot.examples"


def template_file(name: str) -> Traversable:
    """Gets a file of templates/ (a Jinja2 template or the sandbox page)."""
    return resources.files(TEMPLATES).joinpath(name)


def example_file(name: str) -> Traversable:
    """Gets a file of examples/ (`olist.toml`, `leads.csv`, `handoff.example.toml`…)."""
    return resources.files(EXAMPLES).joinpath(name)


@contextmanager
def example_path(name: str) -> Iterator[Path]:
    """A real path to an example file for as long as the block runs (a zipped install
    extracts it to a temporary file)."""
    with resources.as_file(example_file(name)) as path:
        yield path


class _PackageLoader(BaseLoader):
    """Loads templates from the package's `bot.templates` resources."""

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        found = template_file(template)
        if not found.is_file():
            raise TemplateNotFound(template)
        return found.read_text(encoding="utf-8"), None, lambda: True


def environment(finalize: Callable[[Any], Any]) -> Environment:
    """Gets a Jinja2 environment over the shipped templates: undefined names are errors,
    and `finalize` decides how every value is written (escaped for Slack, or not)."""
    return Environment(
        loader=_PackageLoader(),
        undefined=StrictUndefined,
        finalize=finalize,
        autoescape=False,  # HTML escaping is wrong for Slack; `finalize` does mrkdwn's
        trim_blocks=True,
        lstrip_blocks=True,
    )
