"""30 concurrent clients asking different questions for 60 s against the app, through each path:
gradio_client (/ask through Gradio's queue), plain HTTP POST /api/ask, and the OpenAI-compatible
POST /v1/chat/completions — one path after the other, same server. Every answer is checked against
its own question (expected clause and fact), so cross-talk shows up as a mismatch. Prints p50/p95
latency per path; asserts nothing.

    .venv/bin/python benchmarks/load_app.py [--clients 30] [--seconds 60] [--url URL] [--paths gradio,rest,openai]
"""
from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


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
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(1)
            return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("app did not start")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--clients", type=int, default=30)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--url")
    p.add_argument("--paths", default="gradio,rest,openai")
    args = p.parse_args()
    from evals.sets import read_set

    cases = [c for f in ("lookup", "calc") for c in read_set(ROOT / f"evals/sets/{f}.jsonl")[0]
             if c.sections and c.facts and not c.history]
    doc_texts = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "corpus/documents").glob("*.txt")}
    proc, url = (None, args.url) if args.url else start_app()
    try:
        for path in args.paths.split(","):
            run_path(path, url, cases, doc_texts, args.clients, args.seconds)
    finally:
        if proc:
            proc.terminate()


def _post(url: str, body: dict) -> dict:
    import json
    import urllib.request

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
    if path == "rest":
        return lambda q: _post(url + "api/ask", {"question": q})
    if path == "openai":
        return lambda q: _post(url + "v1/chat/completions",
                               {"model": "zjtx", "messages": [{"role": "user", "content": q}]})["answer"]
    raise SystemExit(f"unknown path {path}")


def run_path(path: str, url: str, cases, doc_texts, clients: int, seconds: float) -> None:
    from evals.runner import score

    latencies: list[float] = []
    errors: list[str] = []
    answered: list = []  # checked after the run: the checker must not load the 2 cores it measures
    lock = threading.Lock()
    stop = time.time() + seconds

    def worker(n: int) -> None:
        rng = random.Random(n)
        ask = asker(path, url)
        while time.time() < stop:
            case = rng.choice(cases)
            t = time.perf_counter()
            try:
                d = ask(case.question)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                with lock:
                    errors.append(f"{case.id}: {exc!r}"[:200])
                continue
            ms = (time.perf_counter() - t) * 1000
            with lock:
                latencies.append(ms)
                answered.append((case, d, ms))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - t0
    # The eval's own verdict for each answer's question: cross-talk shows up as a mismatch.
    mismatches = [case.id for case, d, ms in answered if not score(case, d, ms, doc_texts).passed]
    s = sorted(latencies)
    q = lambda x: s[min(len(s) - 1, int(len(s) * x))] if s else float("nan")  # noqa: E731
    print(f"[{path}] {clients} clients × {seconds:.0f} s: {len(s)} answers ({len(s) / elapsed:.1f}/s), "
          f"p50 {q(0.5):.0f} ms, p95 {q(0.95):.0f} ms, max {s[-1] if s else 0:.0f} ms; "
          f"errors {len(errors)}, wrong answer for its question {len(mismatches)}", flush=True)
    for e in errors[:5]:
        print("  error:", e)
    for m in sorted(set(mismatches))[:10]:
        print("  mismatch:", m)

if __name__ == "__main__":
    main()
