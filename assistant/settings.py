"""Configuration, read once from the environment and passed explicitly."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EMBEDDER = "static:models/zh-retrieval"


@dataclass(frozen=True)
class Settings:
    project_root: Path = PROJECT_ROOT
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "var" / "index"
    embedder: str = DEFAULT_EMBEDDER
    top_k: int = 5
    max_question_chars: int = 500
    min_coverage: float = 0.7  # evidence.MIN_COVERAGE, calibrated by `python -m evals calibrate`
    chroma_url: str | None = None  # a `chroma run` server (ASSISTANT_CHROMA_URL); None = embedded
    # Where the callers are: with documents of this region loaded besides the policy, other
    # regions' documents answer only questions that name their region (ASSISTANT_HOME_REGION;
    # "" turns this off).
    home_region: str = "北京"
    llm: str = ""  # "openai" turns on an OpenAI-compatible model; "" = offline answerer only
    llm_model: str = ""
    llm_base_url: str = ""
    llm_api_key: str = field(default="", repr=False)  # never logged, shown or written anywhere
    llm_timeout: float = 8.0  # seconds per model call; the offline answer follows a timeout
    llm_stream: bool = False  # ask the endpoint to stream (SSE); the guard still sees the whole text
    # The web app: answers run in a pool of this many threads, never on the server's event loop,
    # so a slow model call cannot stall /api/info or the calculator (ASSISTANT_SERVE_WORKERS).
    serve_workers: int = 8

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
        if env.get("ASSISTANT_CHROMA_URL"):
            s = replace(s, chroma_url=env["ASSISTANT_CHROMA_URL"].rstrip("/"))
        if "ASSISTANT_HOME_REGION" in env:
            s = replace(s, home_region=env["ASSISTANT_HOME_REGION"].strip())
        if env.get("ASSISTANT_LLM"):
            s = replace(s, llm=env["ASSISTANT_LLM"].strip().lower(),
                        llm_model=env.get("ASSISTANT_LLM_MODEL", "") or "default",
                        llm_base_url=env.get("OPENAI_BASE_URL", ""), llm_api_key=env.get("OPENAI_API_KEY", ""))
            if env.get("ASSISTANT_LLM_STREAM", "").lower() in ("1", "true", "yes"):
                s = replace(s, llm_stream=True)
            if env.get("ASSISTANT_LLM_TIMEOUT"):
                s = replace(s, llm_timeout=float(env["ASSISTANT_LLM_TIMEOUT"]))
        if env.get("ASSISTANT_SERVE_WORKERS"):
            s = replace(s, serve_workers=max(1, int(env["ASSISTANT_SERVE_WORKERS"])))
        overrides = {k: (Path(v) if k.endswith("_dir") else v)
                     for k, v in overrides.items() if v is not None}
        return replace(s, **overrides)
