"""Issue 21, the server's items, reproduced as the probe found them: a real app process, raw HTTP,
the scripted model endpoint, the feedback database under a running app and the export CLI.

3: a slow model call must not freeze the server; 8: request sizes are refused before bodies are
read and Gradio's upload endpoint is closed; 12: /api/info follows a re-index at once; 13: feedback
limits, the export beside a running app, ratings that can be changed and undone; 15: HTTP input
that used to give 500s or be misread. Issue 20 item 10: history as chat clients send it."""
from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from assistant.serve.feedback import OVERALL_RATE_LIMIT, FeedbackError, FeedbackStore, Rating
from tests.helpers import free_port
from tests.scripted_llm import Script, ScriptedEndpoint

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
ANSWER = {"text": "可以。", "refused": False, "citations": []}


@contextlib.contextmanager
def app_process(work: Path, **env):
    """The app as users start it (python app.py), on a free port, its index in `work`."""
    port = free_port()
    full_env = {**os.environ, "ASSISTANT_INDEX": str(work / "index"), "GRADIO_SERVER_PORT": str(port),
                "GRADIO_ANALYTICS_ENABLED": "False", **env}
    log = open(work / f"app-{port}.log", "w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError((work / f"app-{port}.log").read_text())
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/info", timeout=5):
                    break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/", port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    work = tmp_path_factory.mktemp("serve")
    with app_process(work) as (url, port, pid):
        yield {"url": url, "port": port, "work": work, "pid": pid}


def post(url: str, body, raw: bytes | None = None, timeout: float = 60) -> tuple[int, dict, bytes]:
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def get_json(url: str, timeout: float = 30) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def raw_request(port: int, head: str, body_parts=(), timeout: float = 10) -> bytes:
    """Send a request's head and some of its body, then read what the server answers (it may
    answer before the body is complete, as it should for an oversized one)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head.encode("latin-1"))
        try:
            for part in body_parts:
                s.sendall(part)
        except OSError:
            pass  # the server refused the rest: that is the point
        chunks = []
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                chunks.append(data)
                if b"\r\n\r\n" in b"".join(chunks):
                    break
        except socket.timeout:
            pass
        return b"".join(chunks)


# ---- 15. HTTP input that used to give a 500, or be misread ----------------------------------------
@pytest.mark.parametrize("path, raw, status, says", [
    ("api/ask", b"[" * 100_000 + b"]" * 100_000, 400, "嵌套"),
    ("api/ask", b'{"question": NaN}', 400, "NaN"),
    ("api/ask", b'{"question": "\xe9\xa6\x96\xe8\xb4\xb7", "history": [["a", NaN]]}', 400, "NaN"),
    ("api/ask", b'{"question": 123}', 400, "question 应为文字"),
    ("api/ask", b'{"history": []}', 400, "缺少 question"),
    ("api/ask", json.dumps({"question": "首贷有补助吗？", "history": "abc"}).encode(), 400, "history 应为列表"),
    ("api/ask", json.dumps({"question": "首贷有补助吗？", "history": [["a"]]}).encode(), 400, "history[0]"),
    ("api/ask", json.dumps({"question": "首贷有补助吗？", "history": [{"role": "robot", "content": "x"}]}).encode(),
     400, "role"),
    ("v1/chat/completions", json.dumps({"messages": [{"role": "user", "content": [{"text": 5}]}]}).encode(),
     400, "text 应为文字"),
    ("v1/chat/completions", json.dumps({"messages": [{"role": "user", "content": 5}]}).encode(), 400, "content"),
    ("v1/chat/completions", json.dumps({"messages": [{"role": "user", "content": "首贷有补助吗？"}],
                                        "stream": "maybe"}).encode(), 400, "stream"),
    ("v1/chat/completions", b'{"messages": ' * 50_000 + b"1" + b"}" * 50_000, 400, "嵌套"),
])
def test_bad_http_input_gets_400_with_a_chinese_reason(app, path, raw, status, says):
    code, _, body = post(app["url"] + path, None, raw=raw)
    assert code == status, body[:300]
    assert says in json.loads(body)["detail"]


def test_stream_false_as_a_string_is_not_streamed(app):
    body = {"messages": [{"role": "user", "content": "首贷有补助吗？"}], "stream": "false"}
    code, headers, raw = post(app["url"] + "v1/chat/completions", body)
    assert code == 200 and "event-stream" not in headers.get("content-type", "")
    assert json.loads(raw)["object"] == "chat.completion"


def test_message_parts_are_read_as_text(app):
    body = {"messages": [{"role": "user", "content": [{"type": "text", "text": "首贷"},
                                                       {"type": "text", "text": "有补助吗？"}]}]}
    code, _, raw = post(app["url"] + "v1/chat/completions", body)
    assert code == 200 and json.loads(raw)["answer"]["citations"][0]["section"] == "4"


# ---- issue 20 item 10: history as chat clients send it -------------------------------------------------
def test_history_as_role_messages_is_understood(app):
    history = [{"role": "user", "content": "上云上平台合同80万能补多少"}, {"role": "assistant", "content": "24万元"}]
    code, _, raw = post(app["url"] + "api/ask", {"question": "那200万呢", "history": history})
    d = json.loads(raw)
    assert code == 200 and not d["refused"], d["text"]
    assert d["calculation"]["amount_yuan"] == 300_000  # as /v1/chat/completions answers it
    code, _, raw = post(app["url"] + "v1/chat/completions",
                        {"messages": history + [{"role": "user", "content": "那200万呢"}]})
    assert json.loads(raw)["answer"]["calculation"]["amount_yuan"] == 300_000


def _paths_in(value) -> list[str]:
    if isinstance(value, dict):
        return [p for v in value.values() for p in _paths_in(v)]
    if isinstance(value, list):
        return [p for v in value for p in _paths_in(v)]
    return [value] if isinstance(value, str) and (value.startswith("/") or ":\\" in value) else []


def test_info_shows_no_absolute_path(app):
    info = get_json(app["url"] + "api/info")
    assert _paths_in(info) == [] and str(app["work"]) not in json.dumps(info, ensure_ascii=False)
    assert info["index"] == "index" and info["embedder_path"] == "models/zh-retrieval"


# ---- 8. request sizes refused before bodies are read; no uploads --------------------------------------
@pytest.mark.parametrize("path", ["/api/ask", "/v1/chat/completions", "/gradio_api/queue/join"])
def test_an_oversized_body_is_refused_from_its_length_alone(app, path):
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: 300000000\r\n\r\n")
    t = time.perf_counter()
    reply = raw_request(app["port"], head, [b'{"question": "' + b"a" * 1000])
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert time.perf_counter() - t < 5  # not after waiting for 300 MB that never come


def test_a_chunked_body_is_cut_off_at_the_limit(app):
    head = ("POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    piece = b"a" * 65536
    chunks = [b'10\r\n{"question": "aa\r\n'] + [b"%x\r\n%s\r\n" % (len(piece), piece)] * 40 + [b"0\r\n\r\n"]
    reply = raw_request(app["port"], head, chunks, timeout=20)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]


def test_many_huge_posts_at_once_do_not_grow_the_server(app):
    pid = app["pid"]
    before = _rss(pid)
    head = ("POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    piece = b"b" * 262144
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * 80  # 20 MB each
    replies = []
    threads = [threading.Thread(target=lambda: replies.append(raw_request(app["port"], head, chunks, timeout=30)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.startswith(b"HTTP/1.1 413") for r in replies), [r[:80] for r in replies]
    assert _rss(pid) - before < 60 * 1024 * 1024


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_gradio_upload_endpoint_accepts_no_files(app):
    boundary = "----zjtx"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\n{'x' * 10000}\r\n--{boundary}--\r\n").encode()
    for path in ("gradio_api/upload", "gradio_api/upload?upload_id=abc"):
        req = urllib.request.Request(app["url"] + path, body,
                                     {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                code, text = r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            code, text = exc.code, exc.read().decode("utf-8", "replace")
        assert code == 403 and "/tmp" not in text and "x.txt" not in text


# ---- 12. /api/info follows a re-index at once -------------------------------------------------------------
def test_info_follows_a_new_build_before_any_question(app):
    before = get_json(app["url"] + "api/info")["build"]
    r = subprocess.run([sys.executable, "-m", "assistant", "index", "--index", str(app["work"] / "index")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    after = get_json(app["url"] + "api/info")["build"]
    assert after != before


# ---- 3. a slow model does not freeze the server ---------------------------------------------------------------
def test_info_answers_at_once_while_asks_wait_on_a_slow_model(tmp_path):
    script = Script(delay=30)
    questions = ["首贷有补助吗？", "上云上平台改造补贴多少？", "进入专板培育层的企业有奖励吗？",
                 "参加线上外贸展会的费用能补贴吗？", "制造业数字化转型最多补多少？"]
    with ScriptedEndpoint(script) as endpoint, app_process(
            tmp_path, ASSISTANT_LLM="openai", ASSISTANT_LLM_MODEL="scripted", OPENAI_BASE_URL=endpoint,
            OPENAI_API_KEY="sk-test", ASSISTANT_LLM_TIMEOUT="6") as (url, _, _pid):
        done: dict[str, float] = {}
        start = time.perf_counter()

        def ask(q):
            code, _, raw = post(url + "api/ask", {"question": q}, timeout=60)
            assert code == 200
            done[q] = time.perf_counter() - start

        threads = [threading.Thread(target=ask, args=(q,)) for q in questions]
        for t in threads:
            t.start()
        while len(script.requests) < len(questions) and time.perf_counter() - start < 5:
            time.sleep(0.05)
        assert len(script.requests) == len(questions)  # all five are waiting on the model together
        times = []
        for _ in range(7):
            t = time.perf_counter()
            info = get_json(url + "api/info", timeout=10)
            times.append(time.perf_counter() - t)
        assert info["answerer"] == "llm:scripted" and len(done) == 0  # the asks still wait
        assert statistics.median(times) <= 0.1 and max(times) <= 0.5, times
        for t in threads:
            t.join(timeout=60)
        assert len(done) == len(questions)
        assert max(done.values()) < 6 + 4, done  # side by side, not one after the other


# ---- 13. feedback ---------------------------------------------------------------------------------------------
def test_new_session_ids_do_not_bypass_the_overall_limit(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    refused = 0
    for i in range(200):
        try:
            store.rate("上云补贴多少？", [], ANSWER, 1, session=f"session-{i}")
        except FeedbackError:
            refused += 1
    assert sum(1 for _ in store.rows()) == OVERALL_RATE_LIMIT and refused == 200 - OVERALL_RATE_LIMIT


def test_a_rating_is_changed_and_undone_in_place_and_only_with_its_token(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    rated = store.rate("上云补贴多少？", [], ANSWER, 1, session="s")
    assert store.change(rated, -1)
    assert [r["rating"] for r in store.rows()] == [-1]  # one row, changed: no duplicate
    assert not store.remove(Rating(rated.id, "guessed")) and not store.remove(Rating(rated.id, ""))
    assert store.set_comment(rated, "比例没写清") and next(store.rows())["comment"] == "比例没写清"
    assert store.remove(rated) and list(store.rows()) == []
    assert "token" not in json.dumps(list(store.export_cases()))


def test_a_refused_rating_leaves_the_earlier_one(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite", per_session=1)
    rated = store.rate("q", [], ANSWER, 1, session="s")
    with pytest.raises(FeedbackError):
        store.rate("q2", [], ANSWER, -1, session="s")
    assert [r["id"] for r in store.rows()] == [rated.id]
    assert store.change(rated, -1)  # changing a rating is not a new one: never refused, never lost


def test_ratings_keep_working_when_the_file_is_moved_under_the_app(tmp_path):
    db = tmp_path / "feedback.sqlite"
    store = FeedbackStore(db)
    store.rate("q", [], ANSWER, 1)
    db.replace(tmp_path / "elsewhere.sqlite")
    store.rate("q", [], ANSWER, -1)  # a fresh table, not "no such table" on every click
    assert [r["rating"] for r in store.rows()] == [-1]


def _export(index: Path, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", "feedback-export", "--index", str(index), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_export_leaves_a_damaged_database_where_the_running_app_has_it(tmp_path):
    db = tmp_path / "feedback.sqlite"
    store = FeedbackStore(db)  # the running app's store
    store.rate("q", [], ANSWER, 1)
    with open(db, "r+b") as f:  # damaged under it
        f.seek(0)
        f.write(b"\x00" * 100)
    r = _export(tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "未做任何改动" in r.stderr
    assert db.exists() and not list(tmp_path.glob("*.damaged-*"))


def test_export_refuses_to_write_over_the_database(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    for i in range(5):
        store.rate(f"q{i}", [], ANSWER, 1, session=str(i))
    link = tmp_path / "link.jsonl"
    link.symlink_to(tmp_path / "feedback.sqlite")
    for out in (tmp_path / "feedback.sqlite", link, tmp_path / "sub" / ".." / "feedback.sqlite",
                tmp_path / "feedback.sqlite-journal"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        r = _export(tmp_path, "--out", str(out))
        assert r.returncode == 2 and "反馈数据库本身" in r.stderr, r.stderr
        with sqlite3.connect(tmp_path / "feedback.sqlite") as con:
            assert con.execute("SELECT count(*) FROM feedback").fetchone()[0] == 5
    r = _export(tmp_path, "--out", str(tmp_path / "cases.jsonl"))
    assert r.returncode == 0 and len((tmp_path / "cases.jsonl").read_text().splitlines()) == 5
