"""docs/generated-code.md shows the real chat example: its schema and golden output, verbatim."""

from __future__ import annotations

from ._paths import GOLDEN, ROOT

DOC = ROOT / "docs" / "generated-code.md"


def test_generated_code_doc_embeds_the_chat_schema_and_golden() -> None:
    text = DOC.read_text(encoding="utf-8")
    schema = (ROOT / "schemas" / "chat.yaml").read_text(encoding="utf-8")
    golden = (GOLDEN / "chat" / "chat.py").read_text(encoding="utf-8")
    assert f"```yaml\n{schema}```" in text, "docs/generated-code.md: chat.yaml is out of date"
    assert f"```python\n{golden}```" in text, (
        "docs/generated-code.md: the chat.py output is out of date; paste tests/golden/chat/chat.py"
    )
