"""Schema text cannot leave its string: the U+2028 injection and its relatives, deterministically.

The old nested-model step split generated source with ``str.splitlines()`` (which honours
U+2028, U+2029, U+0085, ``\\f``, ``\\v``) while the tokenizer does not, so a crafted ``$defs``
description became a top-level statement. Every text position now goes through
``synapsegen.codegen.escape``; this test puts a payload in each and runs the module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from synapsegen.codegen import escape
from synapsegen.pipeline import Options, generate

SEPARATORS = ["\u2028", "\u2029", "\x85", "\f", "\v", "\x1c", "\r", "\n", "\r\n"]
RUN = "__import__('builtins').__dict__.__setitem__('SYNAPSEGEN_INJECTED', True)"


def _payloads() -> list[str]:
    payloads = []
    for sep in SEPARATORS:
        payloads += [
            f"Innocent{sep}{sep}{RUN}{sep}",
            f'"""{sep}{RUN}{sep}"""',
            f"'{sep}{RUN}{sep}#",
            f"\\{sep}{RUN}",
        ]
    return payloads + ["\u202e{{ x }}{% if %}\x00", "tail\\"]


def _schema(payload: str) -> dict[str, object]:
    return {
        "version": 1,
        "description": payload,
        "synapses": {
            "Probe": {
                "description": payload,
                "request": {
                    "note": {"$ref": "#/$defs/Note", "default": {}},
                    "word": {"type": "string", "default": payload, "description": payload,
                             "title": payload, "examples": [payload]},
                    "pick": {"enum": [payload, "b"], "default": "b"},
                },
                "response": {"out": {"type": "string", "default": ""}},
                "stream": {
                    "framing": "sse",
                    # An SSE line cannot hold CR or LF (SG407); every other character may stand.
                    "sentinel": payload.replace("\r", "").replace("\n", ""),
                    "payload": "json",
                    "rules": [{"op": "concat", "path": f"{payload}.x", "field": "out",
                               "when": {payload: payload}}],
                    "server": {"error_event": {payload: payload},
                               "error_message_key": payload + "m"},
                },
            }
        },
        "$defs": {
            "Note": {"type": "object", "description": payload,
                     "properties": {"text": {"type": "string", "default": payload,
                                             "description": payload}}},
        },
    }  # fmt: skip


CHECK = """
import builtins, importlib, json, sys
results = []
for name in sys.argv[1:]:
    m = importlib.import_module(f"{name}.probe")
    results.append({
        "docs": [m.__doc__, m.Probe.__doc__, m.Note.__doc__],
        "defaults": [m.Probe().word, m.Note().text],
        "description": m.Probe.model_fields["word"].description,
    })
print(json.dumps({"injected": hasattr(builtins, "SYNAPSEGEN_INJECTED"), "results": results}))
"""


def test_payload_in_every_text_position_stays_data(tmp_path: Path) -> None:
    payloads = _payloads()
    modules = []
    for index, payload in enumerate(payloads):
        path = tmp_path / "probe.json"
        path.write_text(json.dumps(_schema(payload)), encoding="utf-8")
        result = generate([path], Options(), tmp_path)
        assert not result.diagnostics, [str(d) for d in result.diagnostics]
        package = tmp_path / f"out{index}"
        package.mkdir()
        for name, text in result.files.items():
            (package / name).write_text(text, encoding="utf-8")
        modules.append(f"out{index}")
    run = subprocess.run(
        [sys.executable, "-c", CHECK, *modules],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen["injected"] is False
    for payload, found in zip(payloads, seen["results"], strict=True):
        assert found["docs"] == [payload.strip()] * 3
        assert found["defaults"] == [payload, payload]
        assert found["description"] == payload


def test_escape_functions_never_emit_a_line_break() -> None:
    for payload in _payloads():
        for function in (escape.literal, escape.docstring, escape.comment, escape.doc_text):
            text = function(payload)
            assert len(text.splitlines()) <= 1, (function.__name__, payload)
    with pytest.raises(ValueError):
        escape.literal(float("inf"))


def test_a_diagnostic_is_one_visible_line() -> None:
    from synapsegen.diagnostics import Diagnostic

    shown = str(Diagnostic("dir\nname/\u202es.yaml", 3, 4, "SG901", "key 'a\x1b[2Jb'\u2028x"))
    assert shown == "dir\\nname/\\u202es.yaml:3:4: SG901 key 'a\\x1b[2Jb'\\u2028x"
    assert len(shown.splitlines()) == 1
