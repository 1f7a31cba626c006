"""A scripted OpenAI-compatible endpoint on loopback (the only fake in the suite: no model can
run here). It fails the way real endpoints fail: slow, HTTP 500/429, bodies that are not JSON,
empty answers, and it can stream (SSE) like vLLM/Ollama do."""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def faithful(prompt: str) -> str:
    """Words the deterministic verdict line again, citing clause [1]: what a model that follows
    the instructions would say."""
    if "最后的问题：" in prompt:  # a rewrite request: return the question as it is
        return prompt.rsplit("最后的问题：", 1)[1].strip()
    m = re.search(r"确定性判断（必须与之一致）：(.*)", prompt)
    lead = (m.group(1) if m else "").strip()
    return f"{lead}[1]" if lead else "请参见条款[1]。"


class Script:
    def __init__(self, reply=faithful, status=200, delay=0.0, raw_body: bytes | None = None):
        self.reply, self.status, self.delay, self.raw_body = reply, status, delay, raw_body
        self.requests: list[dict] = []
        self.headers: list[dict] = []


class _Handler(BaseHTTPRequestHandler):
    script: Script

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        s = self.script
        s.requests.append(body)
        s.headers.append(dict(self.headers))
        if s.delay:
            time.sleep(s.delay)
        if s.status == 401:  # as OpenAI answers a wrong key: the key itself in the message
            key = self.headers.get("Authorization", "").removeprefix("Bearer ")
            self._send(401, json.dumps({"error": {"message": f"Incorrect API key provided: {key}. You can find "
                                                  "your API key at https://platform.openai.com/account/api-keys.",
                                                  "type": "invalid_request_error", "code": "invalid_api_key"}}).encode())
            return
        if s.status != 200:
            self._send(s.status, b'{"error": {"message": "scripted failure", "type": "server_error"}}')
            return
        if s.raw_body is not None:
            self._send(200, s.raw_body)
            return
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        text = s.reply(prompt)
        if body.get("stream"):
            self._stream(text)
            return
        self._send(200, json.dumps({
            "id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "scripted"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}, ensure_ascii=False).encode())

    def _send(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _stream(self, text: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for i in range(0, len(text), 4):
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
                     "choices": [{"index": 0, "delta": {"content": text[i:i + 4]}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
        done = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())


class ScriptedEndpoint:
    """with ScriptedEndpoint(Script(...)) as url: … (url ends in /v1)."""

    def __init__(self, script: Script):
        self.script = script
        handler = type("Handler", (_Handler,), {"script": script})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
