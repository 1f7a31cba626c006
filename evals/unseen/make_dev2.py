"""Make the mixed-format copy of the laws-dev2 regulations (evals/unseen/laws-dev2-files/) with the
project's own fixture converters (tests/fixtures/make_documents.py): one PDF, one .docx, one .html
and one more PDF; the other four regulations are copied as .md.

    .venv/bin/python evals/unseen/make_dev2.py

The fixture converters keep only the first ARTICLES (24) articles to keep the repository small; the
questions in laws-dev2.jsonl ask about articles past 24, so the whole text is kept here.
make_html wraps the text in a 广东 government page, so it is used for a 广东 regulation.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SRC = HERE / "laws-dev2"
OUT = HERE / "laws-dev2-files"

sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
import make_documents  # noqa: E402
from make_documents import make_docx, make_html, make_pdf  # noqa: E402

make_documents.ARTICLES = 10**6  # whole regulation, not the fixtures' first 24 articles

CONVERT = {
    "山东省劳动合同条例(2013-08-01).md": (make_pdf, "山东省劳动合同条例.pdf"),
    "浙江省劳动保障监察条例(2020-09-24).md": (make_docx, "浙江省劳动保障监察条例.docx"),
    "广东省知识产权保护条例(2022-03-29).md": (make_html, "广东省知识产权保护条例.html"),
    "重庆市产品质量条例(2014-08-01).md": (make_pdf, "重庆市产品质量条例.pdf"),
}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    sources = sorted(SRC.glob("*.md"))
    assert len(sources) == 8, f"expected 8 regulations in {SRC}, found {len(sources)}"
    for src in sources:
        if src.name in CONVERT:
            convert, name = CONVERT[src.name]
            convert(src, OUT / name)
        else:
            shutil.copyfile(src, OUT / src.name)
    for path in sorted(OUT.iterdir()):
        print(f"{path.stat().st_size:>8}  {path.name}")


if __name__ == "__main__":
    main()
