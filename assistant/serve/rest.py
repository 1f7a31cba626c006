"""Plain HTTP for hotline tooling and chat front ends, on the same port as the web app:

    POST /api/ask               {"question": "…", "history": [["…", "…"], …]} → the CONTRACT answer dict
    GET  /api/info              what is loaded (as `python -m assistant info --json`)
    POST /v1/chat/completions   OpenAI-compatible (stream or not); citations in the text and in
                                an extra `citations` field
    GET  /v1/models

The only module that imports FastAPI. Same input limits as the web app.
"""
from __future__ import annotations

import json
import time
import uuid
from collections import OrderedDict

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response, StreamingResponse

MAX_INPUT = 10_000  # characters of one question, as in the web app
MAX_TURNS = 20
MAX_BODY_BYTES = 1_000_000
MODEL_ID = "zjtx-offline"


def _limited_history(history) -> list[tuple[str, str]]:
    if not isinstance(history, list):
        return []
    pairs = [h for h in history if isinstance(h, (list, tuple)) and len(h) == 2]
    return [(str(q)[:MAX_INPUT], str(a)[:MAX_INPUT]) for q, a in pairs[-MAX_TURNS:]]


async def _json_body(request: Request) -> dict:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HTTPException(413, "请求过大（超过 1MB）")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(400, "请求体应为 UTF-8 编码的 JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "请求体应为 JSON 对象")
    return data


def _message_text(content) -> str:
    """OpenAI message content: a string, or a list of {"type": "text", "text": …} parts."""
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def _conversation(messages) -> tuple[str, list[tuple[str, str]]]:
    """The last user message is the question; earlier user/assistant pairs are the history."""
    if not isinstance(messages, list) or not messages:
        raise HTTPException(400, "messages 应为非空列表")
    turns = [(m.get("role"), _message_text(m.get("content"))) for m in messages if isinstance(m, dict)]
    question = next((t for r, t in reversed(turns) if r == "user"), None)
    if question is None:
        raise HTTPException(400, "messages 中没有 user 消息")
    history, pending = [], None
    last_user = max(i for i, (r, _) in enumerate(turns) if r == "user")
    for role, text in turns[:last_user]:
        if role == "user":
            pending = text
        elif role == "assistant" and pending is not None:
            history.append((pending, text))
            pending = None
    return question[:MAX_INPUT], _limited_history(history)


def _with_sources(answer: dict) -> str:
    """The answer text, with numbered sources after it (for clients that show only text)."""
    lines = [answer["text"]]
    if answer["citations"]:
        lines.append("")
        lines += [f"[{i}] 《{c['title']}》{c['label']}" for i, c in enumerate(answer["citations"], 1)]
    return "\n".join(lines)


class _Encoded:
    """The JSON body of recent answers (hotlines repeat questions): a repeat costs no encoding."""

    def __init__(self, size: int = 2048):
        self.size, self.items = size, OrderedDict()

    def get(self, key):
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
        return found

    def put(self, key, body: bytes) -> None:
        self.items[key] = body
        while len(self.items) > self.size:
            self.items.popitem(last=False)


def make_router(bot) -> APIRouter:
    router = APIRouter()
    encoded = _Encoded()

    def ask(question: str, history) -> dict:
        return bot.ask(question, history).to_dict()

    @router.post("/api/ask")
    async def api_ask(request: Request):
        data = await _json_body(request)
        question = data.get("question")
        if not isinstance(question, str):
            raise HTTPException(400, "缺少 question 字段（应为文字）")
        history = _limited_history(data.get("history"))
        bot.refresh()  # a new build changes the answers: the key names the build
        key = (bot.index.directory.name, question[:MAX_INPUT], tuple(history))
        body = encoded.get(key)
        if body is None:
            body = json.dumps(ask(question[:MAX_INPUT], history), ensure_ascii=False).encode("utf-8")
            encoded.put(key, body)
        return Response(body, media_type="application/json")

    @router.get("/api/info")
    def api_info():
        return bot.info()

    @router.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "owned_by": "zjtx"}]}

    @router.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        data = await _json_body(request)
        question, history = _conversation(data.get("messages"))
        answer = ask(question, history)
        content = _with_sources(answer)
        cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        model = str(data.get("model") or MODEL_ID)[:100]
        if not data.get("stream"):
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
