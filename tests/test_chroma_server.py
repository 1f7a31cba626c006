"""Chroma server mode (issue #10): a real `chroma run` on loopback holds the clauses; index and ask
work through ASSISTANT_CHROMA_URL exactly as with the embedded store."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
CHROMA = Path(sys.executable).parent / "chroma"
pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("chroma-data")
    port = free_port()
    log = open(data.parent / "chroma.log", "w")
    proc = subprocess.Popen([str(CHROMA), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None, "chroma run exited"
            time.sleep(0.3)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def cli(*args, url):
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "ASSISTANT_CHROMA_URL": url})


def _server_counts(url: str) -> dict[str, int]:
    import chromadb

    host, port = url.rsplit(":", 1)
    client = chromadb.HttpClient(host=host.split("//")[1], port=int(port))
    return {c.name: c.count() for c in client.list_collections()}


@pytest.mark.parametrize("mode", ["embedded", "server"])
def test_index_and_ask_in_both_modes(tmp_path, chroma_server, mode):
    url = chroma_server if mode == "server" else ""
    index = tmp_path / "index"
    r = cli("index", "--index", str(index), url=url)
    assert r.returncode == 0, r.stderr
    build = index / "builds" / (index / "CURRENT").read_text().strip()
    assert (build / "chroma").exists() == (mode == "embedded")
    for question, section, amount in [("上云上平台合同额50万元，补贴多少？", "5", 150000), ("首贷有补助吗？", "4", None)]:
        r = cli("ask", question, "--index", str(index), "--json", url=url)
        d = json.loads(r.stdout)
        assert d["citations"][0]["section"] == section
        assert (d["calculation"] or {}).get("amount_yuan") == amount
    assert json.loads(cli("ask", "个人所得税怎么申报？", "--index", str(index), "--json", url=url).stdout)["refused"]
    if mode == "server":
        manifest = json.loads((build / "manifest.json").read_text())
        assert _server_counts(chroma_server)[manifest["collection"]] == manifest["vectors"]  # the server holds them


def _manifest(index: Path) -> dict:
    build = index / "builds" / (index / "CURRENT").read_text().strip()
    return json.loads((build / "manifest.json").read_text())


def _server_keys(url: str, collection: str) -> set[str]:
    import chromadb

    host, port = url.rsplit(":", 1)
    got = chromadb.HttpClient(host=host.split("//")[1], port=int(port)).get_collection(collection).get(include=[])
    return set(got["ids"])


def test_an_added_document_sends_only_its_vectors(tmp_path, chroma_server):
    """The builds of one index share a collection keyed by content: `corpus add` sends only the
    new document's vectors, and vectors no kept build uses are removed when builds are pruned."""
    index = tmp_path / "index"
    assert cli("index", "--index", str(index), url=chroma_server).returncode == 0
    first = _manifest(index)
    policy = _server_keys(chroma_server, first["collection"])
    assert len(policy) == first["vectors"]
    r = cli("corpus", "add", str(ROOT / "tests/fixtures/documents/河南省专利保护条例.docx"), "--index", str(index),
            url=chroma_server)
    assert r.returncode == 0, r.stderr
    added = _manifest(index)
    assert added["collection"] == first["collection"] and added["embedded_chunks"] > 0
    held = _server_keys(chroma_server, added["collection"])
    assert policy < held and len(held) == added["vectors"]  # the policy's vectors were not sent again
    d = json.loads(cli("ask", "河南专利侵权纠纷怎么处理？", "--index", str(index), "--json", url=chroma_server).stdout)
    assert d["citations"] and d["citations"][0]["doc_id"] == "河南省专利保护条例"
    assert cli("corpus", "remove", "河南省专利保护条例", "--index", str(index), url=chroma_server).returncode == 0
    assert _server_keys(chroma_server, first["collection"]) == held  # kept builds still use them
    for _ in range(3):  # until the builds holding the document are pruned
        assert cli("corpus", "add", str(ROOT / "corpus/documents/bj-zjtx-2023.txt"), "--index", str(index),
                   url=chroma_server).returncode == 0
    assert _server_keys(chroma_server, first["collection"]) == policy
    d = json.loads(cli("ask", "首贷有补助吗？", "--index", str(index), "--json", url=chroma_server).stdout)
    assert d["citations"][0]["section"] == "4"


def test_a_full_rebuild_starts_a_collection_and_drops_the_old_one_with_its_builds(tmp_path, chroma_server):
    index = tmp_path / "index"
    made = []
    for _ in range(4):
        assert cli("index", "--index", str(index), url=chroma_server).returncode == 0
        made.append(_manifest(index)["collection"])
    on_server = set(_server_counts(chroma_server))
    assert len(set(made)) == 4
    assert made[0] not in on_server  # its only build was pruned, with its vectors
    assert set(made[1:]) <= on_server


def test_a_missing_server_collection_is_a_clear_error(tmp_path, chroma_server):
    index = tmp_path / "index"
    assert cli("index", "--index", str(index), url=chroma_server).returncode == 0
    import chromadb

    host, port = chroma_server.rsplit(":", 1)
    client = chromadb.HttpClient(host=host.split("//")[1], port=int(port))
    client.delete_collection(_manifest(index)["collection"])
    r = cli("ask", "首贷有补助吗", "--index", str(index), url=chroma_server)
    assert r.returncode == 2 and ("向量库" in r.stderr) and "Traceback" not in r.stderr
    # an add then starts a new collection rather than trusting the emptied one
    r = cli("corpus", "add", str(ROOT / "tests/fixtures/documents/河南省专利保护条例.docx"), "--index", str(index),
            url=chroma_server)
    assert r.returncode == 0, r.stderr
    d = json.loads(cli("ask", "首贷有补助吗", "--index", str(index), "--json", url=chroma_server).stdout)
    assert d["citations"][0]["section"] == "4"
