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

from assistant.settings import PROJECT_ROOT

RADICALS = PROJECT_ROOT / "corpus" / "radicals.tsv"
# "— 3 —", "- 3 -", "第 3 页", "3/12", "3": page furniture, not text.
_PAGE_NUMBER = re.compile(r"^\s*(?:[—\-–－]\s*\d{1,4}\s*[—\-–－]|第\s*\d{1,4}\s*页(?:\s*[/，,]?\s*共\s*\d+\s*页)?|\d{1,4}\s*/\s*\d{1,4}|\d{1,4})\s*$")
_STARTS_UNIT = re.compile(r"^(第[一二三四五六七八九十百千零〇两]+[章节条]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|附件|附则)")
_ENDS_PARAGRAPH = tuple("。！？；：”」』)）")
_ISSUER = re.compile(r"([\u4e00-\u9fff]{2,20}?(?:人民代表大会常务委员会|人民代表大会|人民政府办公厅|人民政府|"
                     r"经济和信息化局|经济和信息化委员会|[\u4e00-\u9fff]{0,6}局|[\u4e00-\u9fff]{0,6}委员会|办公厅))")
_DATE = r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
_ISSUED = re.compile(_DATE + r"[^，。）)]{0,40}?(?:通过|发布|印发|公布)")
_EFFECTIVE = re.compile(r"自\s*" + _DATE + r"\s*起(?:施行|执行|实施)")
_VALID = re.compile(r"(?:有效期|执行期)(?:至|为)[^，。]{2,20}")


class ExtractionError(ValueError):
    """A file whose text could not be read (the message is Chinese)."""


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


_TITLE_END = re.compile(r"(条例|办法|规定|决定|决议|意见|通知|措施|细则|方案|法|规则|纲要|公告|批复|章程|标准|目录|文件)$")


def _title_goes_on(title: str, line: str) -> bool:
    """A long title wrapped onto a second line (…关于进一步加 / 快我省旅游业发展的决议): the first
    line does not end as titles do, and the next is not the adoption record （…通过）."""
    return not _TITLE_END.search(title) and not line.startswith(("（", "(", "——", "—")) and len(line) <= len(title)


def join_lines(lines: list[str]) -> list[str]:
    """Lines wrapped mid-sentence → paragraphs: a line continues the one before unless that one
    ended a sentence or this one opens a new unit (第X条, 一、…). The title (after a 公文's red
    header and document number, never joined to them) continues only as titles wrap."""
    lines = [s for ln in lines if (s := ln.strip())]
    head = _header_length(lines)
    paras: list[str] = lines[:head]
    title_at: int | None = None  # the title's paragraph, once seen
    for line in lines[head:]:
        if title_at is not None and not paras[-1].endswith(_ENDS_PARAGRAPH) and not _STARTS_UNIT.match(line) \
                and not _SIGN_DATE.match(line) and not _PUBLICITY.match(line) \
                and (len(paras) - 1 > title_at or _title_goes_on(paras[-1], line)):
            paras[-1] += line
            continue
        paras.append(line)
        if title_at is None:
            title_at = len(paras) - 1
    return paras


def _furniture(pages: list[list[str]]) -> set[str]:
    """Lines repeated at the top or bottom of most pages: running headers and footers."""
    if len(pages) < 3:
        return set()
    edges = Counter(ln for page in pages for ln in set(page[:2] + page[-2:]) if ln)
    return {ln for ln, n in edges.items() if n >= max(3, len(pages) // 2) and not _STARTS_UNIT.match(ln)}


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [normalise_glyphs(page.extract_text() or "").splitlines() for page in reader.pages]
    except (PdfReadError, OSError, ValueError, KeyError) as exc:
        raise ExtractionError(f"PDF 无法读取（{type(exc).__name__}: {exc}）") from exc
    furniture = _furniture([[ln.strip() for ln in p if ln.strip()] for p in pages])
    lines = [ln for page in pages for ln in page
             if ln.strip() and not _PAGE_NUMBER.match(ln) and ln.strip() not in furniture]
    if not lines:
        raise ExtractionError("PDF 没有文字层（可能是扫描件，需要先做文字识别）")
    return "\n\n".join(join_lines(lines))


def _unique_cells(row):
    """A row's cells, a merged cell once (python-docx repeats it for every grid column it spans)."""
    seen, out = set(), []
    for cell in row.cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            out.append(cell)
    return out


def docx_text(path: Path) -> str:
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
    paras = [p for p in paras if p and not _PAGE_NUMBER.match(p)]
    if not paras:
        raise ExtractionError("Word 文件没有正文")
    return "\n\n".join(paras)


_NOISE = re.compile(r"nav|breadcrumb|crumb|share|footer|header|menu|sidebar|related|recommend|"
                    r"comment|toolbar|copyright|print|position|location|links?-|friend", re.I)
# A web page's information bar, a whole paragraph of it: 来源：… 发布时间：2019-09-25 【字体：大 中 小】
# 【打印本页】. Not the document's words (its date is the page's, not the law's).
_PAGE_INFO = re.compile(r"^(?:\s+|(?:来源|发布时间|发布日期|发文日期|作者|编辑|责任编辑|浏览次数|点击数|阅读次数|阅读量|字号)"
                        r"\s*[:：]\s*\S+(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?|【?\s*字[体号]\s*[:：]?\s*[大中小\s]+】?|"
                        r"【?\s*(?:打印本页|打印|关闭窗口|关闭|收藏|分享到?)\s*】?)+$")
_SITE_SUFFIX = re.compile(r"\s*[_|｜\-—–]\s*[^_|｜\-—–]*(网|政府|门户|平台|官网|部|局|委|厅|办)[^_|｜\-—–]*$")


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


def html_text(path: Path) -> tuple[str, str]:
    """(main text, title). The title is the page's heading, not the <title> with its site suffix."""
    from bs4 import BeautifulSoup

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
                      if 4 <= len(t := el.get_text("", strip=True)) <= 60 and _TITLE_END.search(t)), "")
    if not title and soup.title:
        title = _SITE_SUFFIX.sub("", soup.title.get_text("", strip=True))
    blocks = [normalise_glyphs(b) for b in _block_texts(best)]
    paras = [b for b in blocks if b and not _PAGE_NUMBER.match(b) and not _PAGE_INFO.match(b)]
    if title and (not paras or paras[0] != title):
        paras = [title] + [p for p in paras if p != title]
    if len(paras) < 2:
        raise ExtractionError("网页中没有找到正文")
    return "\n\n".join(paras), title


def extract(path: Path) -> tuple[str, dict]:
    """The text of a .pdf/.docx/.html file as paragraphs (title first), and metadata found on the way."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return pdf_text(path), {"format": "pdf"}
    if suffix == ".docx":
        return docx_text(path), {"format": "docx"}
    if suffix in (".html", ".htm"):
        text, title = html_text(path)
        return text, {"format": "html", **({"title_from_page": title} if title else {})}
    raise ExtractionError(f"不支持的文件类型：{suffix}")


def document_facts(title: str, text: str) -> dict:
    """What a document says about itself: issuer, date issued, date in force, validity."""
    head = text[:1500]
    facts: dict = {}
    m = _ISSUED.search(head)
    if m:
        facts["issued"] = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    m = _EFFECTIVE.search(text)
    if m:
        facts["effective"] = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    m = _ISSUER.search(head.replace(title, "", 1)) or _ISSUER.search(title)
    if m:
        issuer = re.sub(r"^.*?日", "", m.group(1))  # the adoption line starts with its date
        facts["issuer"] = re.sub(r"第[一二三四五六七八九十]+届", "", issuer)  # 第十五届 is the term, not the body
    m = _VALID.search(text)
    if m:
        facts["validity"] = m.group(0)
    return facts


# ---- 公文 furniture: what a government document carries around its text ---------------------------
# The red header (版头) "北京市经济和信息化局文件", the document number (发文字号) "京经信发〔2023〕12号",
# the addressees (主送机关) "各区人民政府，市政府各委、办、局：", and at the end the issuing bodies'
# names (署名), the date (成文日期) and "（此件公开发布）". They are facts about the document, not its
# clauses: read into metadata and left out of the text.
_RED_HEADER = re.compile(r"^[\u4e00-\u9fff、（）()\s]{2,60}文件$")
_DOC_NUMBER = re.compile(r"^[\u4e00-\u9fff]{1,12}\s*[〔\[［(（]\s*\d{4}\s*[〕\]］)）]\s*\d{1,5}\s*号$")
_ADDRESSEE = re.compile(r"^各[^。；！？]{1,120}[：:]$")
_SIGN_DATE = re.compile(r"^(\d{4}|[〇零一二三四五六七八九]{4})\s*年\s*(\d{1,2}|[〇零一二三四五六七八九十]{1,3})\s*月\s*"
                        r"(\d{1,2}|[〇零一二三四五六七八九十]{1,3})\s*日$")
_PUBLICITY = re.compile(r"^[（(]\s*此件[^）)]{1,12}[）)]$")
_SIGNATURE = re.compile(r"^[\u4e00-\u9fff（）()、\s]{2,40}(人民政府|办公厅|办公室|委员会|局|厅|部|委|院|会|中心)$")


_DIGIT = {ch: i for i, ch in enumerate("〇一二三四五六七八九")} | {"零": 0}


def _cn_number(text: str) -> int:
    """2023, 二〇二三 (digit by digit), 二十六."""
    from assistant.understand.numerals import cn_to_int

    if text.isdigit():
        return int(text)
    if len(text) == 4 and all(ch in _DIGIT for ch in text):
        return int("".join(str(_DIGIT[ch]) for ch in text))
    return cn_to_int(text)


def _header_length(paras: list[str]) -> int:
    """How many paragraphs open the document as its red header and document number. A …文件
    line is a red header only when a title follows it (after any document number) and text
    follows the title: a document titled …文件 that goes straight on with 第一条 or a sentence
    keeps its title (else its first article would become the title and leave the text)."""
    n = 0
    while n < len(paras) and (_RED_HEADER.match(paras[n]) or _DOC_NUMBER.match(paras[n])):
        n += 1
    while n and not _DOC_NUMBER.match(paras[n - 1]) and not _title_follows(paras, n):
        n -= 1  # the last …文件 line before the text is the title itself
    return n


def _title_follows(paras: list[str], at: int) -> bool:
    return at + 1 < len(paras) and _looks_like_title(paras[at])


def _looks_like_title(para: str) -> bool:
    """A title line: no unit number at its start (第一条, 一、), no sentence end, not long."""
    return not _STARTS_UNIT.match(para) and not para.endswith(_ENDS_SENTENCE) and len(para) <= 80


_ENDS_SENTENCE = tuple("。！？；：")


def official_furniture(paragraphs: list[str]) -> tuple[list[str], dict]:
    """(the paragraphs without the 公文 furniture, what it said: doc_number, signed_by, signed)."""
    paras, facts = list(paragraphs), {}
    for _ in range(_header_length(paras)):
        head = paras.pop(0)
        if _DOC_NUMBER.match(head):
            facts["doc_number"] = re.sub(r"\s", "", head)
        else:
            facts["header"] = head
    if len(paras) > 2 and _ADDRESSEE.match(paras[1]):  # right under the title
        facts["addressees"] = paras.pop(1)
    while paras and _PUBLICITY.match(paras[-1]):
        paras.pop()
    if paras and (m := _SIGN_DATE.match(paras[-1])):
        paras.pop()
        try:
            facts["signed"] = f"{_cn_number(m.group(1)):04d}-{_cn_number(m.group(2)):02d}-{_cn_number(m.group(3)):02d}"
        except ValueError:
            pass
        signers = []
        while paras and len(signers) < 4 and _SIGNATURE.match(paras[-1]) and len(paras) > 2:
            signers.insert(0, paras.pop())
        if signers:
            facts["signed_by"] = signers
    return paras, facts
