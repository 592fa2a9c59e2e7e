"""The whole generator as one visible chain: load -> validate -> IR -> render -> format.

:func:`generate` turns schema files into the exact bytes of every file of an output folder, or
into diagnostics. Writing and checking live in :mod:`synapsegen.output`.
"""

from __future__ import annotations

import keyword
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .codegen.build import build_module, build_package_init
from .codegen.render import TemplateOverrideError, render_module, render_package_init
from .diagnostics import Diagnostic
from .language.load import load_document
from .language.validate import validate
from .output.format import FormatError, format_sources
from .output.header import header_lines, stamp, templates_digest
from .output.layout import (
    INIT,
    PY_TYPED,
    display_path,
    module_inputs,
    module_name,
    package_inputs,
    py_typed_text,
)


@dataclass(frozen=True)
class Options:
    """Generation options that change the output bytes (part of the fingerprint).

    ``templates`` is a folder of template overrides (``--templates``); the fingerprint holds the
    hash of its files, not its path, so the output does not depend on where the folder is.
    """

    runtime: str = "synapsegen"
    templates: Path | None = None

    def as_dict(self) -> dict[str, str]:
        return {"runtime": self.runtime}


@dataclass(frozen=True)
class Source:
    """One schema file as the header names it."""

    path: Path
    display: str  # relative to the run's cwd when possible, posix
    module: str  # module stem, e.g. "chat"


@dataclass(frozen=True)
class Generated:
    """Result of :func:`generate`: the files (name -> text) or the diagnostics."""

    files: dict[str, str] = field(default_factory=dict)
    diagnostics: tuple[Diagnostic, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()  # with files: worth printing, not worth stopping for


def sources_for(paths: Sequence[Path], cwd: Path) -> tuple[list[Source], list[Diagnostic]]:
    """Name the module of each schema file; report unusable or clashing file names."""
    sources: list[Source] = []
    problems: list[Diagnostic] = []
    seen: dict[str, str] = {}
    for path in paths:
        display = display_path(path, cwd)
        name = module_name(path)
        if name is None:
            stem = path.stem.replace("-", "_")
            why = f", {stem!r} is a Python keyword" if keyword.iskeyword(stem) else ""
            problems.append(Diagnostic(display, 1, 1, "SG901",
                f"file name {path.name!r} does not give a Python module name{why}"))  # fmt: skip
        elif name in seen:
            problems.append(Diagnostic(display, 1, 1, "SG902",
                f"would generate module {name}.py, like {seen[name]}"))  # fmt: skip
        else:
            seen[name] = display
            sources.append(Source(path, display, name))
    return sources, problems


def generate(paths: Sequence[Path], options: Options, cwd: Path) -> Generated:
    """Generate every file of the output folder from ``paths`` (all diagnostics, or files)."""
    sources, diagnostics = sources_for(paths, cwd)
    validated = []
    warnings: list[Diagnostic] = []
    for source in sources:
        document = load_document(source.path)
        result = validate(document)
        diagnostics.extend(result.diagnostics)
        warnings.extend(result.warnings)
        validated.append((source, document.sha256, result.schema))
    if diagnostics:
        return Generated(diagnostics=tuple(sorted(diagnostics)))

    templates = templates_digest(options.templates)
    rendered: dict[str, str] = {}
    exports: dict[str, tuple[str, ...]] = {}
    synapses: dict[str, tuple[str, ...]] = {}
    streaming = False
    first_party: set[str] = set()  # packages of the `import:` classes
    for source, sha256, schema in validated:
        assert schema is not None  # no diagnostics
        header = header_lines(
            __version__,
            [(source.display, sha256)],
            module_inputs(source.display, sha256, options.as_dict(), templates),
        )
        module = build_module(
            schema, stem=source.module, source=source.display, header=header,
            runtime=options.runtime,
        )  # fmt: skip
        rendered[f"{source.module}.py"] = render_module(module, options.templates)
        exports[source.module] = module.all_names
        synapses[source.module] = tuple(synapse.name for synapse in module.synapses)
        streaming = streaming or any(synapse.stream for synapse in module.synapses)
        first_party.update(entry.module.split(".")[0] for entry in module.imports)
    clashes = _synapse_clashes(synapses, {source.module: source.display for source in sources})
    if clashes:
        return Generated(diagnostics=tuple(clashes))
    pairs = [(source.display, sha256) for source, sha256, _ in validated]
    init_inputs = package_inputs(pairs, options.as_dict(), templates)
    init_header = header_lines(__version__, pairs, init_inputs)
    rendered[INIT] = render_package_init(
        build_package_init(init_header, exports, synapses, streaming=streaming), options.templates
    )

    try:
        formatted = format_sources(rendered, tuple(sorted(first_party)))
    except FormatError as exc:
        if options.templates is None:
            raise
        # Shipped templates always render valid Python: an override made this.
        raise TemplateOverrideError(
            f"templates in {options.templates}: the rendered code is not valid Python:\n{exc}"
        ) from exc
    files = {name: stamp(text) for name, text in formatted.items()}
    files[PY_TYPED] = py_typed_text()
    return Generated(files=dict(sorted(files.items())), warnings=tuple(warnings))


def _synapse_clashes(
    synapses: dict[str, tuple[str, ...]], displays: dict[str, str]
) -> list[Diagnostic]:
    """Synapse names two schema files both define.

    A synapse's class name is its route on the axon (``POST /<name>``), so two synapses of one
    name cannot be served side by side. Nested models may share names: each module is its own
    namespace, and ``__init__.py`` leaves such names out (see ``build_package_init``).
    """
    first: dict[str, str] = {}
    problems = []
    for module, names in synapses.items():
        for name in names:
            if name in first:
                message = (
                    f"synapse {name!r} is also defined by {displays[first[name]]}; a synapse's "
                    "name is its route on the axon, so it must be unique (rename one)"
                )
                problems.append(Diagnostic(displays[module], 1, 1, "SG903", message))
            else:
                first[name] = module
    return problems
