"""30 concurrent gradio_client sessions asking different questions for 60 s against the app.
Every answer is checked against its own question (expected clause and fact), so cross-talk
between sessions shows up as a mismatch. Prints p50/p95 latency; asserts nothing.

    .venv/bin/python benchmarks/load_app.py [--clients 30] [--seconds 60] [--url URL]
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
    args = p.parse_args()
    from gradio_client import Client

    from evals.runner import score
    from evals.sets import read_set

    cases = [c for f in ("lookup", "calc") for c in read_set(ROOT / f"evals/sets/{f}.jsonl")[0]
             if c.sections and c.facts and not c.history]
    doc_texts = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "corpus/documents").glob("*.txt")}
    proc, url = (None, args.url) if args.url else start_app()
    latencies: list[float] = []
    errors: list[str] = []
    mismatches: list[str] = []
    lock = threading.Lock()
    stop = time.time() + args.seconds

    def worker(n: int) -> None:
        rng = random.Random(n)
        client = Client(url, verbose=False)
        while time.time() < stop:
            case = rng.choice(cases)
            t = time.perf_counter()
            try:
                d = client.predict(case.question, [], api_name="/ask")
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                with lock:
                    errors.append(f"{case.id}: {exc!r}"[:200])
                continue
            ms = (time.perf_counter() - t) * 1000
            ok = score(case, d, ms, doc_texts).passed  # the eval's own verdict for this question
            with lock:
                latencies.append(ms)
                if not ok:
                    mismatches.append(case.id)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.clients)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - t0
    if proc:
        proc.terminate()
    s = sorted(latencies)
    q = lambda x: s[min(len(s) - 1, int(len(s) * x))] if s else float("nan")  # noqa: E731
    print(f"{args.clients} clients × {args.seconds:.0f} s: {len(s)} answers ({len(s) / elapsed:.1f}/s), "
          f"p50 {q(0.5):.0f} ms, p95 {q(0.95):.0f} ms, max {s[-1] if s else 0:.0f} ms; "
          f"errors {len(errors)}, wrong answer for its question {len(mismatches)}")
    for e in errors[:5]:
        print("  error:", e)
    for m in sorted(set(mismatches))[:10]:
        print("  mismatch:", m)


if __name__ == "__main__":
    main()
