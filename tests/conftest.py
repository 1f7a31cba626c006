from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    """The project's defaults, with the index in a temporary folder."""
    return replace(Settings.from_env({}), index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def bot(settings) -> Assistant:
    return Assistant.load(settings=settings)


@pytest.fixture
def mixed_corpus(tmp_path) -> Path:
    """The seed policy plus one regulation (第X章/第X条) in a fresh folder."""
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "corpus-mixed", corpus)
    shutil.copy(ROOT / "corpus/documents/bj-zjtx-2023.txt", corpus)
    shutil.copy(ROOT / "corpus/documents/bj-zjtx-2023.meta.json", corpus)
    return corpus
