"""Documents as they reach service stations — PDF (text layer), Word, web pages — turned into the
plain paragraphs the structure parser reads, plus what the document says about itself.

Libraries (measured on Chromium-printed 公文 PDFs, python-docx files and saved government pages):
- PDF: pypdf. pdfplumber gave the same characters on our PDFs, 4× slower and with font warnings;
  PyMuPDF is AGPL. Neither fixes the radical glyphs, so we do (below).
- Word: python-docx (paragraphs in order; centred titles and headings are ordinary paragraphs).
- HTML: BeautifulSoup with a text-density choice of the main block, after dropping navigation,
  breadcrumbs, share bars, scripts and "related reading".

Chinese PDF text layers often hold Kangxi radicals (⼆ ⼩, U+2F00–2FDF) and radical-supplement
glyphs (⻔ ⺠, U+2E80–2EFF) for ideographs: NFKC maps the first block, corpus/radicals.tsv (the
ideograph each radical shares a glyph with in Noto Sans CJK SC) the second.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from pathlib import Path

from assistant.documents.structure import StructureRules
from assistant.settings import PROJECT_ROOT

RADICALS = PROJECT_ROOT / "corpus" / "radicals.tsv"
# The patterns for page furniture, titles, a 公文's header and signature and a document's facts
# about itself are data: corpus/structure.toml, read into StructureRules (its .ingest and its units).
STRUCTURE = PROJECT_ROOT / "corpus" / "structure.toml"
_ENDS_PARAGRAPH = tuple("。！？；：”」』)）")


class ExtractionError(ValueError):
    """A file whose text could not be read (the message is Chinese)."""


@functools.lru_cache(maxsize=1)
def _project_rules() -> StructureRules:
    """The project's own rules, for callers that pass none (Settings.data_dir is always corpus/)."""
    return StructureRules.load(STRUCTURE)


@functools.lru_cache(maxsize=1)
def _radical_table() -> dict[int, str]:
    table = {}
    if RADICALS.exists():
        for line in RADICALS.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                radical, ideograph = line.split("\t")[:2]
                table[ord(radical)] = ideograph
    return table


def normalise_glyphs(text: str) -> str:
    """Radical glyphs → ideographs: the supplement by table, Kangxi radicals by NFKC, nothing
    else changed (NFKC of the whole text would also rewrite full-width punctuation)."""
    text = text.translate(_radical_table())
    # Also the deprecated angle brackets PDF text layers give for 〈〉 (U+2329/U+232A).
    return "".join(unicodedata.normalize("NFKC", ch) if 0x2F00 <= ord(ch) <= 0x2FDF or ch in "\u2329\u232a" else ch
                   for ch in text)


def _title_goes_on(title: str, line: str, rules: StructureRules) -> bool:
    """A long title wrapped onto a second line (…关于进一步加 / 快我省旅游业发展的决议): the first
    line does not end as titles do, and the next is not the adoption record （…通过）."""
    return not rules.ingest.title_end.search(title) and not line.startswith(("（", "(", "——", "—")) \
        and len(line) <= len(title)


def join_lines(lines: list[str], rules: StructureRules | None = None) -> list[str]:
    """Lines wrapped mid-sentence → paragraphs: a line continues the one before unless that one
    ended a sentence or this one opens a new unit (第X条, 一、…). The title (after a 公文's red
    header and document number, never joined to them) continues only as titles wrap."""
    rules = rules or _project_rules()
    official = rules.ingest
    lines = [s for ln in lines if (s := ln.strip())]
    head = _header_length(lines, rules)
    paras: list[str] = lines[:head]
    title_at: int | None = None  # the title's paragraph, once seen
    for line in lines[head:]:
        if title_at is not None and not paras[-1].endswith(_ENDS_PARAGRAPH) and not rules.starts_unit(line) \
                and not official.sign_date.match(line) and not official.publicity.match(line) \
                and (len(paras) - 1 > title_at or _title_goes_on(paras[-1], line, rules)):
            paras[-1] += line
            continue
        paras.append(line)
        if title_at is None:
            title_at = len(paras) - 1
    return paras


def _furniture(pages: list[list[str]], rules: StructureRules) -> set[str]:
    """Lines repeated at the top or bottom of most pages: running headers and footers."""
    if len(pages) < 3:
        return set()
    edges = Counter(ln for page in pages for ln in set(page[:2] + page[-2:]) if ln)
    return {ln for ln, n in edges.items() if n >= max(3, len(pages) // 2) and not rules.starts_unit(ln)}


def pdf_text(path: Path, rules: StructureRules | None = None) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [normalise_glyphs(page.extract_text() or "").splitlines() for page in reader.pages]
    except (PdfReadError, OSError, ValueError, KeyError) as exc:
        raise ExtractionError(f"PDF 无法读取（{type(exc).__name__}: {exc}）") from exc
    rules = rules or _project_rules()
    furniture = _furniture([[ln.strip() for ln in p if ln.strip()] for p in pages], rules)
    lines = [ln for page in pages for ln in page
             if ln.strip() and not rules.ingest.page_number.match(ln) and ln.strip() not in furniture]
    if not lines:
        raise ExtractionError("PDF 没有文字层（可能是扫描件，需要先做文字识别）")
    return "\n\n".join(join_lines(lines, rules))


def _unique_cells(row):
    """A row's cells, a merged cell once (python-docx repeats it for every grid column it spans)."""
    seen, out = set(), []
    for cell in row.cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            out.append(cell)
    return out


def docx_text(path: Path, rules: StructureRules | None = None) -> str:
    import docx
    import docx.table

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises assorted errors for damaged packages
        raise ExtractionError(f"Word 文件无法读取（{type(exc).__name__}）") from exc
    # Paragraphs and tables in document order (some 公文 lay articles out in a table); a line
    # break inside a paragraph (text pasted from a web page) separates paragraphs too.
    texts: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, docx.table.Table):
            texts += [c.text for row in block.rows for c in _unique_cells(row)]
        else:
            texts.append(block.text)
    paras = [normalise_glyphs(line.strip()) for t in texts for line in re.split(r"[\n\v]", t)]
    page_number = (rules or _project_rules()).ingest.page_number
    paras = [p for p in paras if p and not page_number.match(p)]
    if not paras:
        raise ExtractionError("Word 文件没有正文")
    return "\n\n".join(paras)


_NOISE = re.compile(r"nav|breadcrumb|crumb|share|footer|header|menu|sidebar|related|recommend|"
                    r"comment|toolbar|copyright|print|position|location|links?-|friend", re.I)


_BLOCK_TAGS = frozenset({"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "div", "td", "th", "tr", "table", "section",
                         "article", "main", "blockquote", "pre", "center", "dd", "dt"})
_BREAK = "\u2029"  # stands for a <br> while the source's own line wrapping is undone


def _block_texts(root) -> list[str]:
    """The text of each block of a page's main part, one paragraph per block or per <br>-separated
    line: pages set laws in <p>s, or in one <div>/<td> with <br>s between the articles. The
    source's own line wrapping inside a block is not a break."""
    from bs4 import NavigableString

    for br in root.find_all("br"):
        br.replace_with(_BREAK)
    groups: list[tuple[int, list[str]]] = []
    for node in root.descendants:
        if type(node) is not NavigableString:  # comments, doctype, CDATA: not text
            continue
        block = node.parent
        while block is not None and block is not root and block.name not in _BLOCK_TAGS:
            block = block.parent
        if groups and groups[-1][0] == id(block):
            groups[-1][1].append(str(node))
        else:
            groups.append((id(block), [str(node)]))
    out = []
    for _, parts in groups:
        text = re.sub(r"[ \t\r\f\v]*\n\s*", "", "".join(parts).replace("\xa0", " "))
        out += [line.strip() for line in text.split(_BREAK) if line.strip()]
    return out


def html_text(path: Path, rules: StructureRules | None = None) -> tuple[str, str]:
    """(main text, title). The title is the page's heading, not the <title> with its site suffix.
    A web page's information bar (来源：… 发布时间：… 【字体：大 中 小】) is not the document's words."""
    from bs4 import BeautifulSoup

    page = (rules or _project_rules()).ingest

    raw = path.read_bytes()
    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "iframe", "form", "nav", "header", "footer", "aside",
                     "button", "select", "svg"]):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.attrs is None:
            continue
        marks = " ".join([tag.get("id") or ""] + list(tag.get("class") or []))
        if marks.strip() and _NOISE.search(marks):
            tag.decompose()
    best, best_score = soup.body or soup, -1.0
    for block in soup.find_all(["article", "main", "section", "div", "td"]):
        text = block.get_text("", strip=True)
        linked = sum(len(a.get_text("", strip=True)) for a in block.find_all("a"))
        cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
        score = cjk - 2 * linked
        if score > best_score:
            best, best_score = block, score
    heading = best.find(["h1", "h2"]) or soup.find(["h1", "h2"])
    title = heading.get_text("", strip=True) if heading else ""
    if not title:  # no heading: a short block named like a document (<td class=title>…条例</td>)
        title = next((t for el in soup.find_all(["td", "div", "p", "strong", "b", "center", "span"])
                      if 4 <= len(t := el.get_text("", strip=True)) <= 60 and page.title_end.search(t)), "")
    if not title and soup.title:
        title = page.site_suffix.sub("", soup.title.get_text("", strip=True))
    blocks = [normalise_glyphs(b) for b in _block_texts(best)]
    paras = [b for b in blocks if b and not page.page_number.match(b) and not page.web_info_bar.match(b)]
    if title and (not paras or paras[0] != title):
        paras = [title] + [p for p in paras if p != title]
    if len(paras) < 2:
        raise ExtractionError("网页中没有找到正文")
    return "\n\n".join(paras), title


def extract(path: Path, rules: StructureRules | None = None) -> tuple[str, dict]:
    """The text of a .pdf/.docx/.html file as paragraphs (title first), and metadata found on the way."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return pdf_text(path, rules), {"format": "pdf"}
    if suffix == ".docx":
        return docx_text(path, rules), {"format": "docx"}
    if suffix in (".html", ".htm"):
        text, title = html_text(path, rules)
        return text, {"format": "html", **({"title_from_page": title} if title else {})}
    raise ExtractionError(f"不支持的文件类型：{suffix}")


def document_facts(title: str, text: str, rules: StructureRules | None = None) -> dict:
    """What a document says about itself: issuer, date issued, date in force, validity."""
    says = (rules or _project_rules()).ingest
    head = text[:1500]
    facts: dict = {}
    m = says.issued.search(head)
    if m:
        facts["issued"] = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    m = says.effective.search(text)
    if m:
        facts["effective"] = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    m = says.issuer.search(head.replace(title, "", 1)) or says.issuer.search(title)
    if m:
        issuer = says.issuer_lead.sub("", m.group(1))  # the adoption line starts with its date
        facts["issuer"] = says.term.sub("", issuer)  # 第十五届 is the term, not the body
    m = says.validity.search(text)
    if m:
        facts["validity"] = m.group(0)
    return facts


# ---- 公文 furniture: what a government document carries around its text ---------------------------
# The red header (版头) "北京市经济和信息化局文件", the document number (发文字号) "京经信发〔2023〕12号",
# the addressees (主送机关) "各区人民政府，市政府各委、办、局：", and at the end the issuing bodies'
# names (署名), the date (成文日期) and "（此件公开发布）". They are facts about the document, not its
# clauses: read into metadata and left out of the text. Their patterns: corpus/structure.toml [official].


_DIGIT = {ch: i for i, ch in enumerate("〇一二三四五六七八九")} | {"零": 0}


def _cn_number(text: str) -> int:
    """2023, 二〇二三 (digit by digit), 二十六."""
    from assistant.understand.numerals import cn_to_int

    if text.isdigit():
        return int(text)
    if len(text) == 4 and all(ch in _DIGIT for ch in text):
        return int("".join(str(_DIGIT[ch]) for ch in text))
    return cn_to_int(text)


def _header_length(paras: list[str], rules: StructureRules) -> int:
    """How many paragraphs open the document as its red header and document number. A …文件
    line is a red header only when a title follows it (after any document number) and text
    follows the title: a document titled …文件 that goes straight on with 第一条 or a sentence
    keeps its title (else its first article would become the title and leave the text)."""
    official = rules.ingest
    n = 0
    while n < len(paras) and (official.red_header.match(paras[n]) or official.doc_number.match(paras[n])):
        n += 1
    while n and not official.doc_number.match(paras[n - 1]) and not _title_follows(paras, n, rules):
        n -= 1  # the last …文件 line before the text is the title itself
    return n


def _title_follows(paras: list[str], at: int, rules: StructureRules) -> bool:
    return at + 1 < len(paras) and _looks_like_title(paras[at], rules)


def _looks_like_title(para: str, rules: StructureRules) -> bool:
    """A title line: no unit number at its start (第一条, 一、), no sentence end, not long."""
    return not rules.starts_unit(para) and not para.endswith(_ENDS_SENTENCE) and len(para) <= 80


_ENDS_SENTENCE = tuple("。！？；：")


def official_furniture(paragraphs: list[str], rules: StructureRules | None = None) -> tuple[list[str], dict]:
    """(the paragraphs without the 公文 furniture, what it said: doc_number, signed_by, signed)."""
    rules = rules or _project_rules()
    official = rules.ingest
    paras, facts = list(paragraphs), {}
    for _ in range(_header_length(paras, rules)):
        head = paras.pop(0)
        if official.doc_number.match(head):
            facts["doc_number"] = re.sub(r"\s", "", head)
        else:
            facts["header"] = head
    if len(paras) > 2 and official.addressees.match(paras[1]):  # right under the title
        facts["addressees"] = paras.pop(1)
    while paras and official.publicity.match(paras[-1]):
        paras.pop()
    if paras and (m := official.sign_date.match(paras[-1])):
        paras.pop()
        try:
            facts["signed"] = f"{_cn_number(m.group(1)):04d}-{_cn_number(m.group(2)):02d}-{_cn_number(m.group(3)):02d}"
        except ValueError:
            pass
        signers = []
        while paras and len(signers) < 4 and official.signature.match(paras[-1]) and len(paras) > 2:
            signers.insert(0, paras.pop())
        if signers:
            facts["signed_by"] = signers
    return paras, facts
