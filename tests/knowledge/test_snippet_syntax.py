"""Every fix snippet parses in its own language, filled as a card fills it: Python with ``ast``, JavaScript with
``node --check``, YAML, JSON and XML with their loaders, NGINX with crossplane (NGINX's own config parser),
shell with ``bash -n``, and Java, Go, Ruby, PHP, Rust, C#, TypeScript and Kotlin with their tree-sitter
grammars (a parse with no ERROR or MISSING node). A snippet is what an on-call engineer pastes: one that
does not even parse costs them the minutes the card was meant to save.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import crossplane
import pytest
import yaml

from bot.knowledge import ANY_LIBRARY, default_knowledge
from bot.knowledge.loader import LANGUAGES
from bot.knowledge.model import KEY_STYLES, Snippet


def _tree_sitter(language: Callable[[], Any], wrap: Callable[[str], str] = lambda code: code) -> Callable[[str], None]:
    from tree_sitter import Language, Parser

    parser = Parser(Language(language()))

    def check(code: str) -> None:
        tree = parser.parse(wrap(code).encode("utf-8"))
        broken = _broken_nodes(tree.root_node)
        assert not broken, f"does not parse: {broken[:3]}"

    return check


def _broken_nodes(node: Any) -> list[str]:
    found, stack = [], [node]
    while stack:
        item = stack.pop()
        if item.type == "ERROR" or item.is_missing:
            found.append(f"{item.type} at {item.start_point}: {item.text[:60]!r}")
        stack.extend(item.children)
    return found


def _php(code: str) -> str:
    return code if code.lstrip().startswith("<?php") else "<?php\n" + code


def _go(code: str) -> str:
    """A Go fragment (statements) inside a function, as the card shows the lines that change."""
    if code.lstrip().startswith("package "):
        return code
    body = "\n".join(line for line in code.splitlines() if not line.startswith("import "))
    return "package main\n\nfunc fragment() {\n" + body + "\n}\n"


def _python(code: str) -> None:
    ast.parse(code)


def _javascript(code: str) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "snippet.mjs" if "import " in code or "await " in code else "snippet.js")
        path.write_text(code, encoding="utf-8")
        checked = subprocess.run([node, "--check", str(path)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr


def _shell(code: str) -> None:
    bash = shutil.which("bash") or "/bin/bash"
    checked = subprocess.run([bash, "-n"], input=code, capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr


def _yaml(code: str) -> None:
    list(yaml.safe_load_all(code))


def _json(code: str) -> None:
    json.loads(code)


def _xml(code: str) -> None:
    # our own packaged snippets, not user input; several sibling policies are one fragment
    ElementTree.fromstring(f"<snippet>{code}</snippet>")  # noqa: S314


def _nginx(code: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "snippet.conf")
        path.write_text(code, encoding="utf-8")
        parsed = crossplane.parse(str(path), single=True, strict=False, check_ctx=False, check_args=False)
    assert parsed["status"] == "ok", parsed["errors"]


def _parsers() -> dict[str, Callable[[str], None]]:
    import tree_sitter_c_sharp
    import tree_sitter_go
    import tree_sitter_java
    import tree_sitter_kotlin
    import tree_sitter_php
    import tree_sitter_ruby
    import tree_sitter_rust
    import tree_sitter_typescript

    return {
        "python": _python,
        "javascript": _javascript,
        "shell": _shell,
        "yaml": _yaml,
        "json": _json,
        "xml": _xml,
        "nginx": _nginx,
        "java": _tree_sitter(tree_sitter_java.language),
        "go": _tree_sitter(tree_sitter_go.language, _go),
        "ruby": _tree_sitter(tree_sitter_ruby.language),
        "php": _tree_sitter(tree_sitter_php.language_php, _php),
        "rust": _tree_sitter(tree_sitter_rust.language),
        "csharp": _tree_sitter(tree_sitter_c_sharp.language),
        "typescript": _tree_sitter(tree_sitter_typescript.language_typescript),
        "kotlin": _tree_sitter(tree_sitter_kotlin.language),
    }


PARSERS = _parsers()


def _snippets() -> Iterator[tuple[str, str, str, Snippet]]:
    for workaround in default_knowledge().workarounds.values():
        for library, snippet in sorted(workaround.snippets.items()):
            for style in KEY_STYLES:
                yield workaround.id, library, style, snippet


CASES = list(_snippets())


def test_every_language_a_snippet_may_use_has_a_parser_here() -> None:
    assert set(PARSERS) == LANGUAGES


@pytest.mark.parametrize(
    ("workaround", "library", "style", "snippet"), CASES, ids=[f"{w}-{lib}-{s}" for w, lib, s, _ in CASES]
)
def test_a_snippet_parses_in_its_language(workaround: str, library: str, style: str, snippet: Snippet) -> None:
    code = snippet.render({}, style)
    assert snippet.language in PARSERS, f"{workaround}.{library}: no parser for {snippet.language!r}"
    PARSERS[snippet.language](code)


def test_the_stacks_have_their_fixes() -> None:
    """Every stack shows a fix for clock leeway (or says it has no leeway option) and for aud/iss."""
    knowledge = default_knowledge()
    for stack in knowledge.stacks.values():
        leeway = knowledge.workarounds["clock_leeway"].snippets.get(stack.library)
        assert leeway is not None or stack.no_leeway, stack.library
        assert stack.library in knowledge.workarounds["verify_aud_iss"].snippets, stack.library
    assert ANY_LIBRARY not in knowledge.stacks


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_no_safe_leeway_comment_parses_in_every_language(language: str) -> None:
    from bot.render.snippets import _no_leeway_snippet

    PARSERS[language](_no_leeway_snippet(language, 'No leeway snippet: "beyond" any safe leeway: fix the clock.'))
