"""Packaged TOML is parsed once and read back from its cache while the file is unchanged."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from bot import datafiles
from bot.datafiles import cache_path, read_toml
from bot.diagnosis.error_texts import CATALOGUE_PATH

DOCUMENT = 'title = "cards"\nrate = 0.75\nbig = 12345678901234567890\n[[item]]\nid = "a"\nsteps = ["x", "ÿ"]\n'


@pytest.fixture(autouse=True)
def writes_bytecode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(sys, "pycache_prefix", None)


def data_file(tmp_path: Path, text: str = DOCUMENT) -> Path:
    path = tmp_path / "cards.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_first_read_parses_and_leaves_a_cache_beside_the_file(tmp_path: Path) -> None:
    path = data_file(tmp_path)
    assert read_toml(path) == tomllib.loads(DOCUMENT)
    assert cache_path(path) == tmp_path / "__pycache__" / "cards.toml.json"
    assert cache_path(path).is_file()


def test_the_next_read_comes_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = data_file(tmp_path)
    expected = read_toml(path)

    def no_parsing(_text: str) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(datafiles.tomllib, "loads", no_parsing)
    assert read_toml(path) == expected


def test_a_changed_file_is_parsed_again(tmp_path: Path) -> None:
    path = data_file(tmp_path)
    read_toml(path)
    path.write_text(DOCUMENT.replace("0.75", "0.5"), encoding="utf-8")
    assert read_toml(path)["rate"] == 0.5


@pytest.mark.parametrize("damage", [b"", b"garbage", b"jwtcheck-toml-json-1\n" + b"\0" * 16 + b"{"])
def test_a_damaged_cache_is_ignored(tmp_path: Path, damage: bytes) -> None:
    path = data_file(tmp_path)
    read_toml(path)
    cache_path(path).write_bytes(damage)
    assert read_toml(path) == tomllib.loads(DOCUMENT)


def test_nothing_is_written_when_bytecode_is_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    path = data_file(tmp_path)
    assert read_toml(path) == tomllib.loads(DOCUMENT)
    assert not (tmp_path / "__pycache__").exists()


def test_the_pycache_prefix_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = tmp_path / "prefix"
    monkeypatch.setattr(sys, "pycache_prefix", str(prefix))
    path = data_file(tmp_path)
    read_toml(path)
    assert cache_path(path).is_relative_to(prefix) and cache_path(path).is_file()
    assert not (tmp_path / "__pycache__").exists()


def test_a_place_that_cannot_be_written_only_costs_the_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(sys, "pycache_prefix", str(blocker / "below"))
    path = data_file(tmp_path)
    assert read_toml(path) == tomllib.loads(DOCUMENT)
    assert read_toml(path) == tomllib.loads(DOCUMENT)


def test_dates_have_no_json_form_and_are_parsed_every_time(tmp_path: Path) -> None:
    path = data_file(tmp_path, 'reviewed = 2026-11-28\nby = "team"\n')
    assert read_toml(path) == tomllib.loads('reviewed = 2026-11-28\nby = "team"\n')
    assert not cache_path(path).exists()


def test_invalid_toml_still_raises_as_tomllib_does(tmp_path: Path) -> None:
    with pytest.raises(tomllib.TOMLDecodeError):
        read_toml(data_file(tmp_path, "title = \n"))


def test_the_packaged_catalogue_reads_the_same_through_its_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path))
    first, second = read_toml(CATALOGUE_PATH), read_toml(CATALOGUE_PATH)
    assert first == second == tomllib.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
