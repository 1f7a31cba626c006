"""Concurrent clients against the app for a fixed time, through each path: gradio_client (/ask
through Gradio's queue; /chat, the chat tab's conversation without a browser), plain HTTP POST /api/ask, the OpenAI-compatible POST /v1/chat/completions,
and real browsers typing into the chat. Every answer is checked against its own question (the eval's
verdict for a set case, the rule's arithmetic for a generated one), so cross-talk shows up as a
mismatch. With --distinct every question is new (no answer cache can help): generated amounts for
the two contract rules, and set questions made unique by trailing spaces. Prints p50/p95 latency,
errors, mismatches and the server's RSS at the start, the end and its peak; asserts nothing.

    .venv/bin/python benchmarks/load_app.py [--clients 30] [--seconds 60] [--url URL] [--distinct]
                                            [--paths gradio,chat,rest,openai,browser] [--browsers 10]
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"
# Generated questions: (template, rate, cap in yuan) of two rules of the policy, checked by arithmetic.
GENERATED = [("上云上平台合同额{amount}元，补贴多少？", Decimal("0.30"), 300_000),
             ("我们是制造业企业，数字化转型合同额{amount}元，能补多少？", Decimal("0.20"), 1_000_000)]


def start_app() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "ASSISTANT_INDEX": tempfile.mkdtemp(prefix="load-index-"),
           "GRADIO_SERVER_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/info", timeout=2):
                return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("app did not start")


def rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class RssWatch:
    """The server's resident memory, sampled every second while a path runs."""

    def __init__(self, pid: int | None):
        self.pid, self.samples, self.stop = pid, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.is_set():
            value = rss_mb(self.pid)
            if value is not None:
                self.samples.append(value)
            self.stop.wait(1.0)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def summary(self) -> str:
        if not self.samples:
            return "RSS n/a"
        s = self.samples
        tail = s[len(s) // 2:]  # flat means the second half does not keep rising
        return (f"RSS start {s[0]:.0f} MB, end {s[-1]:.0f} MB, peak {max(s):.0f} MB, "
                f"second half {min(tail):.0f}–{max(tail):.0f} MB")


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def asker(path: str, url: str):
    """One client's way of asking: question → the CONTRACT answer dict."""
    if path == "gradio":
        from gradio_client import Client

        client = Client(url, verbose=False)
        return lambda q: client.predict(q, [], api_name="/ask")
    if path == "chat":  # the chat tab's own endpoint: a conversation per client, as a person has
        from gradio_client import Client

        client = Client(url, verbose=False)

        def chat(q):
            _messages, _box, _suggested, saved = client.predict(q, [], False, api_name="/chat")
            turns = (saved or {}).get("turns") or {}
            return turns[max(turns, key=int)]["answer"]
        return chat
    if path == "rest":
        return lambda q: _post(url + "api/ask", {"question": q})
    if path == "openai":
        return lambda q: _post(url + "v1/chat/completions",
                               {"model": "zjtx", "messages": [{"role": "user", "content": q}]})["answer"]
    raise SystemExit(f"unknown path {path}")


class Questions:
    """Questions to ask, each with a check of its answer. distinct: none asked twice."""

    def __init__(self, cases, doc_texts, distinct: bool):
        self.cases, self.doc_texts, self.distinct = cases, doc_texts, distinct
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    def next(self, rng: random.Random):
        with self.lock:
            n = next(self.counter)
        if self.distinct and n % 2:  # every other one generated with an amount no one asked before
            template, rate, cap = GENERATED[n % len(GENERATED)]
            amount = 50_000 + 100 * n  # whole yuan at 20% and 30%: no rounding to argue about
            expected = int(min(Decimal(amount) * rate, cap))
            return template.format(amount=amount), ("amount", expected)
        case = rng.choice(self.cases)
        return case.question + (" " * (n // 2) if self.distinct else ""), ("case", case)

    def ok(self, check, answer: dict, ms: float) -> bool:
        from evals.runner import score

        kind, expected = check
        if kind == "amount":
            return (answer.get("calculation") or {}).get("amount_yuan") == expected
        return score(expected, answer, ms, self.doc_texts).passed


def run_path(path: str, url: str, questions: Questions, clients: int, seconds: float, pid: int | None) -> None:
    latencies: list[float] = []
    errors: list[str] = []
    answered: list = []  # checked after the run: the checker must not load the 2 cores it measures
    lock = threading.Lock()
    stop = time.time() + seconds

    def worker(n: int) -> None:
        rng = random.Random(n)
        ask = asker(path, url)
        while time.time() < stop:
            question, check = questions.next(rng)
            t = time.perf_counter()
            try:
                d = ask(question)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                with lock:
                    errors.append(f"{question[:30]}: {exc!r}"[:200])
                continue
            ms = (time.perf_counter() - t) * 1000
            with lock:
                latencies.append(ms)
                answered.append((question, check, d, ms))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.time()
    with RssWatch(pid) as rss:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    elapsed = time.time() - t0
    mismatches = [q for q, check, d, ms in answered if not questions.ok(check, d, ms)]
    report(path, clients, seconds, latencies, elapsed, errors, mismatches, rss)


def report(path, clients, seconds, latencies, elapsed, errors, mismatches, rss) -> None:
    s = sorted(latencies)
    q = lambda x: s[min(len(s) - 1, int(len(s) * x))] if s else float("nan")  # noqa: E731
    print(f"[{path}] {clients} clients × {seconds:.0f} s: {len(s)} answers ({len(s) / elapsed:.1f}/s), "
          f"p50 {q(0.5):.0f} ms, p95 {q(0.95):.0f} ms, max {s[-1] if s else 0:.0f} ms; "
          f"errors {len(errors)}, wrong answer for its question {len(mismatches)}; {rss.summary()}", flush=True)
    for e in errors[:5]:
        print("  error:", e)
    for m in sorted(set(mismatches))[:10]:
        print("  mismatch:", m)


def run_browsers(url: str, questions: Questions, users: int, seconds: float, pid: int | None) -> None:
    """`users` people in one Chromium, each typing questions into the chat and waiting for the
    answer to appear; latency is from the click to the answer's bubble being drawn."""
    from playwright.async_api import async_playwright

    latencies: list[float] = []
    errors: list[str] = []

    async def person(browser, n: int, stop: float):
        context = await browser.new_context(viewport={"width": 1366, "height": 900})
        page = await context.new_page()
        await page.goto(url)
        await page.wait_for_selector("#question textarea", timeout=60000)
        rng = random.Random(n)
        while time.time() < stop:
            question, _check = questions.next(rng)
            before = await page.locator("#chat [data-testid=bot]").count()
            await page.fill("#question textarea", question.strip())
            t = time.perf_counter()
            await page.click("#send")
            try:
                await page.wait_for_function(
                    f"document.querySelectorAll('#chat [data-testid=bot]').length > {before} && "
                    "!document.querySelector('#chat').innerText.includes('正在查找原文')", timeout=60000)
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc)[:200])
                continue
            latencies.append((time.perf_counter() - t) * 1000)
            if before > 16:  # a long conversation is not what is measured: start a new one
                await page.click("#new-chat")
                await page.wait_for_timeout(300)
        await context.close()

    async def main():
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            stop = time.time() + seconds
            await asyncio.gather(*(person(browser, i, stop) for i in range(users)))
            await browser.close()

    t0 = time.time()
    with RssWatch(pid) as rss:
        asyncio.run(main())
    report("browser", users, seconds, latencies, time.time() - t0, errors, [], rss)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--clients", type=int, default=30)
    p.add_argument("--browsers", type=int, default=10, help="people typing in the chat (the browser path)")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--url")
    p.add_argument("--pid", type=int, help="the server's process id, for RSS (with --url)")
    p.add_argument("--paths", default="gradio,chat,rest,openai,browser")
    p.add_argument("--distinct", action="store_true", help="never ask the same question twice")
    args = p.parse_args()
    from evals.sets import read_set

    cases = [c for f in ("lookup", "calc") for c in read_set(ROOT / f"evals/sets/{f}.jsonl")[0]
             if c.sections and c.facts and not c.history]
    doc_texts = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "corpus/documents").glob("*.txt")}
    proc, url = (None, args.url) if args.url else start_app()
    pid = proc.pid if proc else args.pid
    try:
        for path in args.paths.split(","):
            questions = Questions(cases, doc_texts, args.distinct)
            if path == "browser":
                run_browsers(url, questions, args.browsers, args.seconds, pid)
            else:
                run_path(path, url, questions, args.clients, args.seconds, pid)
    finally:
        if proc:
            proc.terminate()


if __name__ == "__main__":
    main()
