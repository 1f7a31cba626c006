"""Configuration, read once from the environment and passed explicitly."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EMBEDDER = "static:models/zh-static"


@dataclass(frozen=True)
class Settings:
    project_root: Path = PROJECT_ROOT
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "var" / "index"
    embedder: str = DEFAULT_EMBEDDER
    top_k: int = 5
    max_question_chars: int = 500
    min_coverage: float = 0.7  # evidence.MIN_COVERAGE, calibrated by `python -m evals calibrate`

    @property
    def data_dir(self) -> Path:
        """Lexicon, rules and structure rules: always the project's own corpus/ data files."""
        return self.project_root / "corpus"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> "Settings":
        env = dict(os.environ if env is None else env)
        s = cls()
        if env.get("ASSISTANT_CORPUS"):
            s = replace(s, corpus_dir=Path(env["ASSISTANT_CORPUS"]))
        if env.get("ASSISTANT_INDEX"):
            s = replace(s, index_dir=Path(env["ASSISTANT_INDEX"]))
        if env.get("ASSISTANT_EMBEDDER"):
            s = replace(s, embedder=env["ASSISTANT_EMBEDDER"])
        overrides = {k: (Path(v) if k.endswith("_dir") else v)
                     for k, v in overrides.items() if v is not None}
        return replace(s, **overrides)
