"""Plain HTTP for hotline tooling and chat front ends, on the same port as the web app:

    POST /api/ask               {"question": "…", "history": [["…", "…"], …]} → the CONTRACT answer dict
                                (history may also be [{"role": "user"|"assistant", "content": "…"}, …])
    GET  /api/info              what is loaded (as `python -m assistant info --json`, without the
                                server's own paths)
    POST /v1/chat/completions   OpenAI-compatible (stream or not); citations in the text and in
                                an extra `citations` field
    GET  /v1/models

The only module that imports FastAPI. Same input limits as the web app. Answers are computed in a
pool of worker threads (Settings.serve_workers), never on the event loop: a slow model call holds
one worker, not the server.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response, StreamingResponse

MAX_INPUT = 10_000  # characters of one question, as in the web app
MAX_TURNS = 20
MAX_BODY_BYTES = 1_000_000  # enforced before the body is read (assistant/serve/limits.py)
MODEL_ID = "zjtx-offline"
ROLES = {"user", "assistant", "system", "developer", "tool", "function"}


class BadRequest(ValueError):
    """A request we cannot use; the message (Chinese) is what the caller reads."""


# ---- reading a request -------------------------------------------------------------------------
def _no_constant(name: str):
    raise BadRequest(f"JSON 中不能有 {name}（不是数字）")


def parse_json(body: bytes) -> dict:
    """The request body as a JSON object; NaN/Infinity and absurd nesting are refused."""
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise BadRequest("JSON 嵌套层数过多") from None
    except (UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, BadRequest):
            raise
        raise BadRequest("请求体应为 UTF-8 编码的 JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("请求体应为 JSON 对象")
    return data


def message_text(content, where: str) -> str:
    """OpenAI message content: a string, null, or a list of {"type": "text", "text": "…"} parts
    (other part types, e.g. images, carry no text)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict):
                raise BadRequest(f"{where} 的 content 列表中每一项应为对象")
            text = part.get("text")
            if text is None and part.get("type", "text") != "text":
                continue
            if not isinstance(text, str):
                raise BadRequest(f"{where} 的 content 中 text 应为文字")
            texts.append(text)
        return "".join(texts)
    raise BadRequest(f"{where} 的 content 应为文字")


def _role_messages(items: list, where: str) -> list[tuple[str, str]]:
    out = []
    for i, m in enumerate(items):
        role = m.get("role")
        if role not in ROLES:
            raise BadRequest(f"{where}[{i}] 的 role 应为 user 或 assistant")
        out.append((role, message_text(m.get("content"), f"{where}[{i}]")))
    return out


def _pairs(turns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """user/assistant messages → (question, answer) pairs; a question left unanswered keeps ""."""
    history, pending = [], None
    for role, text in turns:
        if role == "user":
            if pending is not None:
                history.append((pending, ""))
            pending = text
        elif role == "assistant" and pending is not None:
            history.append((pending, text))
            pending = None
    if pending is not None:
        history.append((pending, ""))
    return history


def _limited(history: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(q[:MAX_INPUT], a[:MAX_INPUT]) for q, a in history[-MAX_TURNS:]]


def read_history(value) -> list[tuple[str, str]]:
    """`history` as the CONTRACT writes it ([[question, answer], …]) or as chat clients send it
    ([{"role": "user", "content": …}, {"role": "assistant", …}, …])."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest("history 应为列表：[[问题, 回答], …] 或 [{\"role\": …, \"content\": …}, …]")
    if all(isinstance(h, dict) for h in value):
        return _limited(_pairs(_role_messages(value, "history")))
    pairs = []
    for i, h in enumerate(value):
        if not (isinstance(h, (list, tuple)) and len(h) == 2):
            raise BadRequest(f"history[{i}] 应为 [问题, 回答] 或 {{\"role\": …, \"content\": …}}")
        q, a = h
        if not isinstance(q, str) or not isinstance(a, (str, type(None))):
            raise BadRequest(f"history[{i}] 中的问题和回答应为文字")
        pairs.append((q, a or ""))
    return _limited(pairs)


def read_question(data: dict) -> str:
    if "question" not in data:
        raise BadRequest("缺少 question 字段")
    question = data["question"]
    if not isinstance(question, str):
        raise BadRequest("question 应为文字（字符串），例如 {\"question\": \"首贷有补助吗？\"}")
    return question[:MAX_INPUT]


def read_flag(value, name: str) -> bool:
    """true/false, also as the strings "true"/"false" some clients send."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise BadRequest(f"{name} 应为 true 或 false")


def conversation(messages) -> tuple[str, list[tuple[str, str]]]:
    """The last user message is the question; earlier user/assistant pairs are the history."""
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages 应为非空列表")
    if not all(isinstance(m, dict) for m in messages):
        raise BadRequest("messages 中每一项应为 {\"role\": …, \"content\": …}")
    turns = _role_messages(messages, "messages")
    users = [i for i, (r, _) in enumerate(turns) if r == "user"]
    if not users:
        raise BadRequest("messages 中没有 user 消息")
    last = users[-1]
    return turns[last][1][:MAX_INPUT], _limited(_pairs(turns[:last]))


# ---- writing a reply -----------------------------------------------------------------------------
def _with_sources(answer: dict) -> str:
    """The answer text, with numbered sources after it (for clients that show only text)."""
    lines = [answer["text"]]
    if answer["citations"]:
        lines.append("")
        lines += [f"[{i}] 《{c['title']}》{c['label']}" for i, c in enumerate(answer["citations"], 1)]
    return "\n".join(lines)


def public_info(info: dict, root: Path) -> dict:
    """What is loaded, as the CLI's `info --json` says it, but naming folders without the server's
    own paths: a path inside the project relative to it, any other by its last part only."""
    def shown(path):
        if not path:
            return path
        p = Path(path)
        try:
            return p.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return p.name
    return {**info, "index": shown(info.get("index")), "embedder_path": shown(info.get("embedder_path"))}


class _Encoded:
    """The JSON body of recent answers (hotlines repeat questions): a repeat costs no encoding."""

    def __init__(self, size: int = 2048):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, key, body: bytes) -> None:
        with self.lock:
            self.items[key] = body
            while len(self.items) > self.size:
                self.items.popitem(last=False)


def make_router(bot, workers: int | None = None, root: Path | None = None) -> APIRouter:
    """workers: the answer pool's size (default Settings.serve_workers)."""
    settings = bot.toolkit.settings
    pool = ThreadPoolExecutor(max_workers=workers or settings.serve_workers, thread_name_prefix="answer")
    root = root or settings.project_root
    router = APIRouter()
    encoded = _Encoded()

    async def off_loop(fn, *args):
        return await asyncio.wrap_future(pool.submit(fn, *args))

    async def body_of(request: Request) -> dict:
        # The size was checked before any of it was read (RequestLimits); this is a second guard.
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(413, "请求过大（超过 1MB）")
        try:
            return parse_json(body)
        except BadRequest as exc:
            raise HTTPException(400, str(exc)) from None

    def encoded_answer(question: str, history: list[tuple[str, str]]) -> bytes:
        bot.refresh()  # a new build changes the answers: the key names the build
        key = (bot.index.directory.name, question, tuple(history))
        body = encoded.get(key)
        if body is None:
            body = json.dumps(bot.ask(question, history).to_dict(), ensure_ascii=False).encode("utf-8")
            encoded.put(key, body)
        return body

    def current_info() -> dict:
        bot.refresh()  # a re-index shows at once, not after the next question
        return public_info(bot.info(), root)

    @router.post("/api/ask")
    async def api_ask(request: Request):
        data = await body_of(request)
        try:
            question, history = read_question(data), read_history(data.get("history"))
        except BadRequest as exc:
            raise HTTPException(400, str(exc)) from None
        return Response(await off_loop(encoded_answer, question, history), media_type="application/json")

    @router.get("/api/info")
    def api_info():  # a plain thread, not the answer pool: it answers while every worker waits on a model
        return current_info()

    @router.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "owned_by": "zjtx"}]}

    @router.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        data = await body_of(request)
        try:
            question, history = conversation(data.get("messages"))
            stream = read_flag(data.get("stream"), "stream")
        except BadRequest as exc:
            raise HTTPException(400, str(exc)) from None
        answer = await off_loop(lambda: bot.ask(question, history).to_dict())
        content = _with_sources(answer)
        cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        model = str(data.get("model") or MODEL_ID)[:100]
        if not stream:
            return {"id": cid, "object": "chat.completion", "created": created, "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": len(question), "completion_tokens": len(content),
                              "total_tokens": len(question) + len(content)},
                    "citations": answer["citations"], "answer": answer}

        def chunk(delta: dict, finish=None, extra=None) -> str:
            body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **(extra or {})}
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

        def events():
            yield chunk({"role": "assistant", "content": ""})
            for line in content.splitlines(keepends=True):
                yield chunk({"content": line})
            yield chunk({}, "stop", {"citations": answer["citations"], "answer": answer})
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return router
