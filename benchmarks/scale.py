"""Index build time, peak memory, one-document add, query latency and size on disk as the corpus
grows from the seed policy alone to all ~1,900 regulations of ../shared/corpus-scale, with the
vectors in the embedded Chroma and in a `chroma run` server, side by side. Each size and mode
runs in its own process, so peak RSS is its own. Prints a table, writes it with an SVG plot to
benchmarks/results/; asserts nothing.

    .venv/bin/python benchmarks/scale.py [--sizes 1,100,500,1909] [--modes embedded,server]

Query latency is the answerer's own (the answer cache is bypassed), over 60 different questions.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCALE = ROOT.parent / "shared" / "corpus-scale"
RESULTS = ROOT / "benchmarks" / "results"
# Word is what service stations mostly receive; a PDF adds its text extraction (~1.4 s for this
# 40-page regulation with pypdf) to the same index work.
NEW_DOCUMENT = ROOT / "tests" / "fixtures" / "documents" / "河南省专利保护条例.docx"
sys.path.insert(0, str(ROOT))


NOTES = ("Peak RSS is the assistant's process during the build (in server mode the `chroma run` "
         "process is not counted; on disk counts its data folder). One document: a Word file added "
         "with `corpus add` semantics (incremental build). In server mode the builds of an index share "
         "one collection keyed by chunk content, so an add sends only the new document's vectors; "
         "embedded, the previous build's Chroma folder is copied and the new vectors added.")


def _questions() -> list[str]:
    rows = [json.loads(ln) for name in ("lookup", "calc", "refuse")
            for ln in (ROOT / "evals" / "sets" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines() if ln]
    return [r["question"] for r in rows][::4][:60]


def _chroma_server(data: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(data),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("chroma run did not start")


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def one(size: int, mode: str) -> dict:
    import logging

    logging.disable(logging.ERROR)
    from assistant import Assistant
    from assistant.api import Toolkit
    from assistant.settings import Settings

    regs = sorted(p for p in SCALE.rglob("*.md") if p.name != "README.md")[: size - 1]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = tmp / "corpus"
        for p in regs:  # the region folders stay: they say which region a regulation is for
            (corpus / p.parent.name).mkdir(parents=True, exist_ok=True)
            shutil.copy(p, corpus / p.parent.name / p.name)
        server = None
        settings = Settings.from_env({}, index_dir=tmp / "index")
        if mode == "server":
            server, url = _chroma_server(tmp / "chroma-data")
            settings = replace(settings, chroma_url=url)
        try:
            toolkit = Toolkit.load(settings)
            t0 = time.perf_counter()
            manifest = toolkit.build([ROOT / "corpus", corpus], settings.index_dir)
            build_s = time.perf_counter() - t0
            build_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            added = tmp / "added"
            added.mkdir()
            shutil.copy(NEW_DOCUMENT, added)
            t0 = time.perf_counter()
            toolkit.build([ROOT / "corpus", corpus, added], settings.index_dir, incremental=True)
            add_s = time.perf_counter() - t0
            bot = Assistant.load(settings=settings)
            questions = _questions()
            for q in questions[:5]:
                bot.answerer.answer(q, [])
            times = []
            for q in questions:
                t = time.perf_counter()
                bot.answerer.answer(q, [])  # the answerer itself, not the answer cache
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            disk = _size(settings.index_dir) + (_size(tmp / "chroma-data") if mode == "server" else 0)
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
        return {"mode": mode, "documents": manifest["documents"], "clauses": manifest["clauses"],
                "chunks": manifest["chunks"], "build_s": round(build_s, 1),
                "peak_rss_mb": round(build_rss), "add_one_s": round(add_s, 2),
                "p50_ms": round(times[len(times) // 2], 1), "p95_ms": round(times[int(len(times) * 0.95)], 1),
                "index_mb": round(disk / 2**20, 1)}


def svg(rows: list[dict]) -> str:
    """Build seconds and query p95 against documents, one line per mode: a small plot by hand
    (no plotting library is installed here)."""
    w, h, pad = 720, 300, 50
    panels = [("build_s", "全量构建（秒）"), ("p95_ms", "查询 p95（毫秒）")]
    colours = {"embedded": "#1f77b4", "server": "#d62728"}
    max_docs = max(r["documents"] for r in rows) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">']
    pw = (w - 3 * pad) / 2
    for k, (field, label) in enumerate(panels):
        x0 = pad + k * (pw + pad)
        top = max(r[field] for r in rows) or 1
        parts.append(f'<text x="{x0}" y="20">{label}</text>')
        parts.append(f'<line x1="{x0}" y1="{h - pad}" x2="{x0 + pw}" y2="{h - pad}" stroke="#333"/>')
        parts.append(f'<line x1="{x0}" y1="{pad}" x2="{x0}" y2="{h - pad}" stroke="#333"/>')
        parts.append(f'<text x="{x0 - 5}" y="{pad}" text-anchor="end">{top:g}</text>')
        parts.append(f'<text x="{x0 + pw}" y="{h - pad + 15}" text-anchor="end">{max_docs} 份文档</text>')
        for mode, colour in colours.items():
            pts = sorted((r["documents"], r[field]) for r in rows if r["mode"] == mode)
            if not pts:
                continue
            xy = [(x0 + pw * d / max_docs, h - pad - (h - 2 * pad) * v / top) for d, v in pts]
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
                         + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>')
            parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in xy]
            parts.append(f'<text x="{xy[-1][0] - 4:.1f}" y="{xy[-1][1] - 6:.1f}" fill="{colour}" '
                         f'text-anchor="end">{mode}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="1,100,500,1909")
    p.add_argument("--modes", default="embedded,server")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    p.add_argument("--mode", default="embedded", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.mode)))
        return
    header = ("| mode | documents | clauses | chunks | full build (s) | peak RSS (MB) | add one document (s) "
              "| ask p50 (ms) | ask p95 (ms) | on disk (MB) |")
    lines = [header, "|---|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        for mode in args.modes.split(","):
            out = subprocess.run([sys.executable, __file__, "--one", str(size), "--mode", mode],
                                 capture_output=True, text=True)
            if out.returncode:
                line = f"| {mode} | {size} | failed: {out.stderr.strip().splitlines()[-1]} |"
            else:
                r = json.loads(out.stdout.strip().splitlines()[-1])
                rows.append(r)
                line = (f"| {mode} | {r['documents']} | {r['clauses']} | {r['chunks']} | {r['build_s']} | "
                        f"{r['peak_rss_mb']} | {r['add_one_s']} | {r['p50_ms']} | {r['p95_ms']} | {r['index_mb']} |")
            lines.append(line)
            print(line, flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale.md").write_text(
        f"`benchmarks/scale.py --sizes {args.sizes} --modes {args.modes}`, {time.strftime('%Y-%m-%d')}, "
        "2 cores:\n\n" + "\n".join(lines) + "\n\n" + NOTES + "\n\n![build and query time](scale.svg)\n",
        encoding="utf-8")
    if rows:
        (RESULTS / "scale.svg").write_text(svg(rows), encoding="utf-8")
    print(f"\nwritten: {RESULTS / 'scale.md'}, {RESULTS / 'scale.svg'}")


if __name__ == "__main__":
    main()
