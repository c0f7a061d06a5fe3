"""Stack files (``data/stacks/<library>.toml``): what the two loaders take from them and what they refuse, each
problem one line naming the file, the line and the key."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.diagnosis import error_texts
from bot.diagnosis.ids import CauseId, Library
from bot.knowledge import CATALOGUE_PATH, CatalogueError
from bot.knowledge.catalogue import catalogue_from_files
from bot.knowledge.loader import DATA_DIR, KnowledgeError, load_knowledge
from bot.knowledge.model import StackKind

STACK = """
anchors = ["Gizmo"]

[stack]
library = "kong"
display = "Kong Gateway"
version = "3.9.0"
kind = "gateway"
language = "yaml"
source = "Kong/kong kong/plugins/jwt/handler.lua @3.9.0"

[default_leeway]
seconds = 0
setting = "leeway"

[[pattern]]
id = "kong.gizmo_refused"
needle = "Gizmo refused"
regex = 'Gizmo refused'
message_start = true
causes = { expired = 0.7, clock_skew = 0.3 }
claim = "exp"
explain = "The gizmo's exp is past."
source = "a test's own text"
examples = ["401: Gizmo refused"]

[snippets.clock_leeway]
language = "yaml"
note = "A test snippet."
code = '''
plugins:
  - name: jwt
    config:
      leeway: {{leeway|30}}
'''

[snippets.verify_aud_iss]
language = "yaml"
code = '''
issuer: "{{issuer}}"
'''
"""


def _stack_file(folder: Path, text: str = STACK, name: str = "kong.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_stack_file_adds_its_texts_its_leeway_and_its_anchor(tmp_path: Path) -> None:
    catalogue = catalogue_from_files([CATALOGUE_PATH, _stack_file(tmp_path)])
    [match] = error_texts.find_error_texts("HTTP/1.1 401\n\nGizmo refused", catalogue)
    assert match.library is Library.KONG
    assert [f.cause for f in match.findings] == [CauseId.EXPIRED, CauseId.CLOCK_SKEW]
    assert catalogue.default_leeway[Library.KONG].setting == "leeway"
    assert "Gizmo" in catalogue.anchors


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (
            ('source = "a test\'s own text"\n', ""),
            r"kong\.toml:\d+: pattern\['kong\.gizmo_refused'\]: missing keys \['source'\]",
        ),
        (
            ('needle = "Gizmo', 'library = "pyjwt"\nneedle = "Gizmo'),
            r"kong\.toml:\d+: pattern\['kong\.gizmo_refused'\]\.library: .*kong's",
        ),
        (
            ('setting = "leeway"', 'setting = "leeway"\nnote = "x"'),
            r"kong\.toml:\d+: default_leeway: needs exactly seconds and setting",
        ),
    ],
)
def test_a_bad_stack_pattern_is_refused_naming_its_file(
    tmp_path: Path, change: tuple[str, str], complaint: str
) -> None:
    with pytest.raises(CatalogueError, match=complaint):
        catalogue_from_files([CATALOGUE_PATH, _stack_file(tmp_path, STACK.replace(*change))])


def test_a_pattern_id_or_a_default_leeway_said_twice_is_refused(tmp_path: Path) -> None:
    twice = STACK.replace('library = "kong"', 'library = "nginx"')
    with pytest.raises(
        CatalogueError, match=r"nginx\.toml:\d+: pattern\['kong\.gizmo_refused'\]\.id: is used in kong\.toml too"
    ):
        catalogue_from_files([CATALOGUE_PATH, _stack_file(tmp_path), _stack_file(tmp_path, twice, "nginx.toml")])
    pyjwt = STACK.replace('library = "kong"', 'library = "pyjwt"').replace("kong.gizmo", "pyjwt.gizmo")
    with pytest.raises(CatalogueError, match=r"pyjwt\.toml:\d+: default_leeway: pyjwt's is in catalogue\.toml too"):
        catalogue_from_files([CATALOGUE_PATH, _stack_file(tmp_path, pyjwt, "pyjwt.toml")])


def test_a_file_named_after_no_library_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match=r"gizmo\.toml: is named after no library id"):
        catalogue_from_files([CATALOGUE_PATH, _stack_file(tmp_path, STACK, "gizmo.toml")])


def _knowledge_folder(tmp_path: Path, stack: str) -> Path:
    for card in DATA_DIR.glob("*.toml"):
        shutil.copy(card, tmp_path / card.name)
    (tmp_path / "stacks").mkdir()
    _stack_file(tmp_path / "stacks", stack)
    return tmp_path


def test_the_knowledge_base_takes_the_stack_and_its_snippets(tmp_path: Path) -> None:
    knowledge = load_knowledge(_knowledge_folder(tmp_path, STACK))
    stack = knowledge.stacks["kong"]
    assert stack.kind is StackKind.GATEWAY and stack.in_front and stack.display == "Kong Gateway"
    snippet = knowledge.workarounds["clock_leeway"].snippets["kong"]
    assert snippet.version == "3.9.0" and snippet.language == "yaml"
    assert "leeway: 30" in snippet.render()
    first, rest = knowledge.fix_libraries("kong")
    assert first[0].library == "kong" and "kong" not in {lib.library for lib in rest}


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (('kind = "gateway"', 'kind = "proxy"'), r"kong\.toml:\d+: stack\.kind: 'proxy' is not one of"),
        (
            ('library = "kong"', 'library = "nginx"'),
            r"kong\.toml:\d+: stack\.library: 'nginx' must be a library id and the file's name",
        ),
        (
            ("[snippets.verify_aud_iss]", "[snippets.verify_everything]"),
            r"kong\.toml:\d+: snippets\.verify_everything: workaround 'verify_everything' is not defined",
        ),
        (
            ('language = "yaml"\nnote', 'language = "hcl"\nnote'),
            r"kong\.toml:\d+: snippets\.clock_leeway\.language: 'hcl' is not one of",
        ),
        (
            ('kind = "gateway"', 'kind = "gateway"\nno_leeway = "sync the clocks."'),
            r"kong\.toml:\d+: snippets\.clock_leeway: the stack has no leeway setting",
        ),
        (
            ("{{leeway|30}}", "{{gizmo}}"),
            r"kong\.toml:\d+: snippets\.clock_leeway\.code: unknown placeholder \{\{gizmo\|…\}\}",
        ),
    ],
)
def test_a_bad_stack_file_is_refused_naming_file_line_and_key(
    tmp_path: Path, change: tuple[str, str], complaint: str
) -> None:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(_knowledge_folder(tmp_path, STACK.replace(*change)))
    assert any(re.match(complaint, problem) for problem in caught.value.problems), caught.value.problems


def test_both_loaders_share_each_stack_document_and_leave_it_unchanged() -> None:
    """The invariant ``stack_document``'s memo relies on: neither loader changes what it is handed."""
    import tomllib

    from bot.knowledge.catalogue import packaged_catalogue
    from bot.knowledge.stacks import stack_document, stack_files

    packaged_catalogue(checked=False)
    load_knowledge()
    for path in stack_files():
        assert stack_document(path) is stack_document(path)
        assert stack_document(path) == tomllib.loads(path.read_text(encoding="utf-8")), path.name


def test_a_changed_stack_file_is_read_again(tmp_path: Path) -> None:
    from bot.knowledge.stacks import stack_document

    path = _stack_file(tmp_path)
    first = stack_document(path)
    path.write_text(STACK.replace("3.9.0", "3.9.10"), encoding="utf-8")
    assert stack_document(path)["stack"]["version"] == "3.9.10" != first["stack"]["version"]
