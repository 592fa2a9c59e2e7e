"""Render IR into Python source text with Jinja (formatting is a later stage).

The environment uses StrictUndefined (a misspelt IR attribute is an error, not an empty string),
no autoescaping (this is Python, not HTML), and a ChoiceLoader: an optional user override folder
(``--templates DIR``) first, then the templates shipped in the ``synapsegen.templates`` package.
The shipped templates are also reachable as ``synapsegen/<name>`` whatever the override folder
holds, so an override can include the original (see docs/customizing.md).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import jinja2

from . import escape
from .ir import ModuleIR, PackageInitIR

TEMPLATE_PACKAGE = "synapsegen.templates"
SHIPPED_PREFIX = "synapsegen"  # "synapsegen/synapse.py.jinja" is always the shipped template


class TemplateOverrideError(Exception):
    """A template from the ``--templates`` folder failed; the message names the folder."""


class _PackageLoader(jinja2.BaseLoader):
    """Load templates from a package's resources (works from wheels and zips as well)."""

    def __init__(self, package: str) -> None:
        self.package = package

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, None]:
        resource = resources.files(self.package).joinpath(template)
        if not resource.is_file():
            raise jinja2.TemplateNotFound(template)
        return resource.read_text(encoding="utf-8"), None, None


@functools.lru_cache(maxsize=4)
def environment(override_dir: Path | None = None) -> jinja2.Environment:
    """The Jinja environment; templates in ``override_dir`` (if given) win over ours."""
    shipped = _PackageLoader(TEMPLATE_PACKAGE)
    # "synapsegen/<name>" first: it must reach the shipped template even if the override folder
    # has a subfolder of that name. A name without the prefix falls through to the next loader.
    loaders: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({SHIPPED_PREFIX: shipped})]
    if override_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(override_dir)))
    loaders.append(shipped)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.do"],
        bytecode_cache=_bytecode_cache(),
    )
    # The one way schema text enters the code (synapsegen.codegen.escape).
    env.filters["py"] = escape.literal
    env.filters["pyrepr"] = escape.literal  # the name user template overrides may still use
    env.filters["number"] = escape.number
    env.filters["docstring"] = escape.docstring
    env.filters["doc_text"] = escape.doc_text
    env.filters["comment"] = escape.comment
    env.filters["digits"] = _digits
    return env


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs (compiling them is most of a cold run's work).

    Jinja checks each entry against the template's source, so an edited or overriding template
    is compiled afresh. No cache where the user cache folder cannot be written.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "synapsegen", f"jinja-{jinja2.__version__}")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(folder)


def _digits(value: int | None) -> str:
    """A limit as source, digits grouped: ``1_048_576``."""
    return "None" if value is None else f"{value:_}"


def render_module(module: ModuleIR, override_dir: Path | None = None) -> str:
    """Source of one generated module (unformatted)."""
    with _blame_override(override_dir):
        return environment(override_dir).get_template("module.py.jinja").render(module=module)


def render_package_init(package: PackageInitIR, override_dir: Path | None = None) -> str:
    """Source of the output folder's ``__init__.py`` (unformatted)."""
    with _blame_override(override_dir):
        template = environment(override_dir).get_template("package_init.py.jinja")
        return template.render(package=package)


@contextlib.contextmanager
def _blame_override(override_dir: Path | None) -> Iterator[None]:
    """With an override folder, a template error is the user's: say so, not "internal error"."""
    try:
        yield
    except jinja2.TemplateError as exc:
        if override_dir is None:
            raise
        where = (
            f"{exc.filename}:{exc.lineno}: " if isinstance(exc, jinja2.TemplateSyntaxError) else ""
        )
        raise TemplateOverrideError(
            f"templates in {override_dir}: {where}{type(exc).__name__}: {exc}"
        ) from exc
