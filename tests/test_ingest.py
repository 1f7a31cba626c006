"""Real files in (issue #10): PDF text layers with radical glyphs and page numbers, Word files,
government web pages; metadata from the document; quotes verbatim to the document's text."""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.documents.corpus import load_corpus
from assistant.documents.ingest import join_lines, normalise_glyphs, official_furniture
from assistant.documents.structure import StructureRules

ROOT = Path(__file__).resolve().parent.parent
FILES = ROOT / "tests/fixtures/documents"
RULES = StructureRules.load(ROOT / "corpus/structure.toml")


@pytest.fixture(scope="module")
def loaded():
    corpus = load_corpus(FILES, RULES)
    assert not corpus.errors, corpus.errors
    return {d.meta["format"]: d for d in corpus.documents}, corpus


@pytest.mark.parametrize("fmt, title, issuer, issued", [
    ("pdf", "上海市优化营商环境条例", "上海市人民代表大会常务委员会", "2020-04-10"),
    ("docx", "河南省专利保护条例", "河南省人民代表大会常务委员会", "2000-11-25"),
    ("html", "广东省优化营商环境条例", "广东省人民代表大会常务委员会", "2022-06-01"),
])
def test_titles_and_metadata_come_from_the_document(loaded, fmt, title, issuer, issued):
    doc = loaded[0][fmt]
    assert doc.title == title and doc.style == "articles"
    assert doc.meta["issuer"] == issuer and doc.meta["issued"] == issued


def test_pdf_glyphs_page_numbers_and_wrapped_lines(loaded):
    text = loaded[0]["pdf"].text
    assert not any(0x2E80 <= ord(ch) <= 0x2FDF for ch in text)  # ⼆ ⼩ ⻔ read as 二 小 门
    assert "— 2 —" not in text and "—2—" not in text
    # a sentence wrapped across lines (and pages) is one paragraph again
    assert "第一条 为了持续优化营商环境，激发市场主体活力，维护市场主体合法权益，推动经济高质量发展" in text


def test_web_page_keeps_the_text_and_drops_the_rest(loaded):
    text = loaded[0]["html"].text
    assert "第一条" in text
    for noise in ("首页", "分享到", "相关阅读", "500万元", "ICP", "统计代码", "政府门户网站",
                  "字体", "来源：", "发布时间：2019-09-25"):  # the page's information bar too
        assert noise not in text, noise
    assert "（2022年6月1日 广东省第十三届人民代表大会常务委员会第四十三次会议通过）" in text


@pytest.mark.parametrize("paragraph, dropped", [
    ("来源：广东省人大常委会 发布时间：2019-09-25 【字体：大 中 小】", True),
    ("发布时间：2019-09-25 10:30 【打印本页】【关闭窗口】", True),
    ("字号：大 中 小", True),
    ("（2022年6月1日 广东省第十三届人民代表大会常务委员会第四十三次会议通过）", False),
    ("第五条 县级以上人民政府应当加强对优化营商环境工作的组织领导。", False),
    ("来源于财政资金的项目，应当公开。", False),
])
def test_a_web_pages_information_bar_is_not_text(paragraph, dropped):
    assert bool(RULES.ingest.web_info_bar.match(paragraph)) == dropped


@pytest.mark.parametrize("raw, read", [("⼆〇⼆⼀年", "二〇二一年"), ("部⻔", "部门"), ("⼈⺠政府", "人民政府"), ("上云", "上云"),
                                       ("《北京市实施\u2329保守国家秘密法\u232a若干规定》", "《北京市实施〈保守国家秘密法〉若干规定》")])
def test_radicals_become_ideographs(raw, read):
    assert normalise_glyphs(raw) == read


def test_a_broken_file_is_reported_by_name_and_the_rest_load(tmp_path):
    shutil.copytree(FILES, tmp_path / "docs")
    (tmp_path / "docs" / "坏文件.pdf").write_bytes(b"%PDF-1.4 this is not a pdf")
    (tmp_path / "docs" / "空白.docx").write_bytes(b"PK\x03\x04 broken")
    corpus = load_corpus(tmp_path / "docs", RULES)
    assert sorted(e.path.name for e in corpus.errors) == ["坏文件.pdf", "空白.docx"]
    assert len(corpus.documents) == 3


@pytest.mark.slow
def test_questions_about_the_files_are_answered_from_them(tmp_path, settings):
    corpus = tmp_path / "corpus"
    shutil.copytree(FILES, corpus)
    shutil.copy(ROOT / "corpus/documents/bj-zjtx-2023.txt", corpus)
    shutil.copy(ROOT / "corpus/documents/bj-zjtx-2023.meta.json", corpus)
    bot = Assistant.load(settings=replace(settings, index_dir=tmp_path / "index", corpus_dir=corpus))
    texts = {d.doc_id: d.text for d in bot.documents()}
    for question, title, section in [
        ("河南的国企拿到发明专利，给发明人的奖金最少多少？", "河南省专利保护条例", "6"),
        ("广东的银行能不能收我们小微企业的贷款承诺费？", "广东省优化营商环境条例", "18"),
        ("上海那边对中小企业有没有专项资金？", "上海市优化营商环境条例", "15"),
        ("上云上平台改造补贴多少？", "关于实施十大强企行动激发专精特新企业活力的若干措施", "5"),
    ]:
        ans = bot.ask(question)
        assert not ans.refused and ans.citations[0].title == title and ans.citations[0].section == section, question
        assert all(c.quote.replace("\n", "") in texts[c.doc_id].replace("\n", "") for c in ans.citations)
    regions = {d["title"]: d["region"] for d in bot.info()["documents"]}
    assert regions["上海市优化营商环境条例"] == "上海" and regions["河南省专利保护条例"] == "河南"


@pytest.mark.parametrize("lines, first", [
    (["河南省人民代表大会常务委员会关于进一步加", "快我省旅游业发展的决议", "（2005年5月26日河南省第十届人民代表大会常务委员会第十六次会议通过）"],
     "河南省人民代表大会常务委员会关于进一步加快我省旅游业发展的决议"),  # a title wrapped on a PDF page
    (["上海市优化营商环境条例", "（2020年4月10日上海市第十五届人民代表大会常务委员会第二十次会议通过）"], "上海市优化营商环境条例"),
    (["北京市数字经济促进条例", "第一章 总则"], "北京市数字经济促进条例"),
])
def test_a_wrapped_title_is_one_line_again(lines, first):
    assert join_lines(lines)[0] == first


@pytest.mark.slow
@pytest.mark.parametrize("fmt, law", [
    ("pdf", "北京市保守国家秘密条例"),  # 40 articles over many pages, 〈〉 in its last article
    ("pdf", "河南省人民代表大会常务委员会关于进一步加快我省旅游业发展的决议"),  # a title wrapping on the page
    ("docx", "淄博市院前医疗急救管理条例"),
    ("html", "山东省胶东调水条例"),
])
def test_full_length_files_read_article_for_article_like_their_text(tmp_path, fmt, law):
    """A whole law printed to PDF by Chromium, written by python-docx, or wrapped in a web page
    reads as the same articles, character for character, as its text (.md) does."""
    import re
    import sys

    sys.path.insert(0, str(ROOT / "tests/fixtures"))
    import make_documents

    src = next((ROOT.parent / "shared/corpus-scale").rglob(f"{law}*.md"))
    make_documents.ARTICLES = 10 ** 6
    out = tmp_path / f"law.{fmt}"
    getattr(make_documents, f"make_{fmt}")(src, out)
    got = load_corpus(out, RULES)
    want = load_corpus(src, RULES)
    assert not got.errors and got.documents[0].title == want.documents[0].title

    def articles(corpus):
        return {c.section: re.sub(r"\s", "", c.text) for c in corpus.clauses if c.section != "preamble"}

    assert articles(got) == articles(want)


def _law(name: str) -> tuple[Path, str, list[str]]:
    """A corpus-scale law's file, title and body paragraphs, to set in other layouts."""
    src = next((ROOT.parent / "shared/corpus-scale").rglob(f"{name}*.md"))
    head, body = src.read_text(encoding="utf-8").split("<!-- INFO END -->", 1)
    title = head.strip().splitlines()[0].lstrip("# ").strip()
    return src, title, [p.strip().lstrip("#").strip() for p in body.splitlines() if p.strip()]


def _page(layout: str, title: str, paras: list[str]) -> str:
    import html

    esc = [html.escape(p) for p in paras]
    if layout == "br":  # one block, articles separated by <br>
        return (f"<html><head><title>{title}_山东省人民政府</title></head><body><div class='nav'>首页 | 政务公开</div>"
                f"<div id='zoom'><h2>{title}</h2>" + "<br>".join(esc) + "</div><div class='footer'>版权所有</div></body></html>")
    if layout == "table":  # a table cell, <br/><br/> and &nbsp; indents, the title in another cell
        return (f"<html><body><table><tr><td class='title'>{title}</td></tr><tr><td class='content'>"
                + "<br/><br/>&nbsp;&nbsp;&nbsp;&nbsp;".join(esc) + "</td></tr></table></body></html>")
    # paragraphs with inline styling and the source wrapped mid-sentence
    return (f"<html><body><div class='TRS_Editor'><p align='center'><strong>{title}</strong></p>"
            + "".join(f"<p><span style='font-family:仿宋'>{p[:20]}</span>\n      <span>{p[20:]}</span></p>" for p in esc)
            + "</div></body></html>")


@pytest.mark.parametrize("layout", ["br", "table", "styled"])
def test_web_page_layouts_read_article_for_article(tmp_path, layout):
    import re

    src, title, paras = _law("山东省胶东调水条例")
    page = tmp_path / "law.html"
    page.write_text(_page(layout, title, paras), encoding="utf-8")
    got, want = load_corpus(page, RULES), load_corpus(src, RULES)
    assert not got.errors and got.documents[0].title == title
    assert {c.section: re.sub(r"\s", "", c.text) for c in got.clauses} == \
        {c.section: re.sub(r"\s", "", c.text) for c in want.clauses}


@pytest.mark.parametrize("layout", ["line-breaks", "table-in-the-middle"])
def test_word_layouts_read_article_for_article(tmp_path, layout):
    """Word files pasted from web pages (one paragraph, articles split by line breaks) or with a
    chapter laid out in a table keep every article, in order."""
    import re

    import docx

    src, title, paras = _law("山东省胶东调水条例")
    d = docx.Document()
    d.add_paragraph(title)
    if layout == "line-breaks":
        p = d.add_paragraph()
        for i, text in enumerate(paras):
            run = p.add_run(text)
            if i < len(paras) - 1:
                run.add_break()
    else:
        third = len(paras) // 3
        for text in paras[:third]:
            d.add_paragraph(text)
        table = d.add_table(rows=len(paras[third:2 * third]), cols=1)
        for row, text in zip(table.rows, paras[third:2 * third]):
            row.cells[0].text = text
        for text in paras[2 * third:]:
            d.add_paragraph(text)
    path = tmp_path / "law.docx"
    d.save(str(path))
    got, want = load_corpus(path, RULES), load_corpus(src, RULES)
    assert not got.errors and got.documents[0].title == title
    assert [(c.section, re.sub(r"\s", "", c.text)) for c in got.clauses] == \
        [(c.section, re.sub(r"\s", "", c.text)) for c in want.clauses]


@pytest.mark.parametrize("paragraphs, kept, facts", [
    (["北京市经济和信息化局文件", "京经信发〔2023〕12号", "关于某事的通知", "各区经济和信息化主管部门，各有关单位：",
      "为……特制定以下措施。", "一、……。", "北京市经济和信息化局", "2023年5月26日", "（此件公开发布）"],
     ["关于某事的通知", "为……特制定以下措施。", "一、……。"],
     {"doc_number": "京经信发〔2023〕12号", "signed": "2023-05-26", "signed_by": ["北京市经济和信息化局"]}),
    (["某办法", "第一条 ……。", "北京市人民政府办公厅", "北京市财政局", "二〇二三年十二月一日"],
     ["某办法", "第一条 ……。"], {"signed": "2023-12-01", "signed_by": ["北京市人民政府办公厅", "北京市财政局"]}),
    # a law: the adoption record and an article ending in a colon are text
    (["河南省专利保护条例", "（2000年11月25日河南省第九届人民代表大会常务委员会第十九次会议通过）",
      "第十条 对下列行为，管理专利工作的部门可以依法进行查处：", "（一）假冒他人专利；"], None, {}),
])
def test_official_furniture_is_read_as_facts(paragraphs, kept, facts):
    got, found = official_furniture(paragraphs)
    assert got == (kept if kept is not None else paragraphs)
    assert {k: found[k] for k in facts} == facts and (facts or not found)


# Issue 21 item 5: a title that ends in 文件 is the title, not a red header, when the text goes on
# straight after it; a real red header has a title (and usually a document number) under it.
@pytest.mark.parametrize("paragraphs, title, header", [
    (["北京市关于废止部分规范性文件", "第一条 为了规范管理，制定本规定。", "第二条 本规定自2024年1月1日起施行。"],
     "北京市关于废止部分规范性文件", None),
    (["某区关于清理行政规范性文件", "为了规范管理，制定本规定。", "第一条 各单位应当清理。"], "某区关于清理行政规范性文件", None),
    (["北京市人民政府文件", "京政发〔2023〕1号", "北京市关于废止部分规范性文件", "第一条 各单位应当清理。"],
     "北京市关于废止部分规范性文件", "北京市人民政府文件"),
    (["北京市经济和信息化局文件", "关于某事的通知", "为……特制定以下措施。", "一、……。"], "关于某事的通知", "北京市经济和信息化局文件"),
])
def test_a_title_ending_in_wenjian_stays_the_title(tmp_path, paragraphs, title, header):
    got, found = official_furniture(paragraphs)
    assert got[0] == title and found.get("header") == header
    wrapped = [ln for p in paragraphs for ln in ((p[:9], p[9:]) if len(p) > 12 else (p,)) if ln]
    lines = join_lines(wrapped)  # a PDF's lines: long ones wrapped
    assert title in lines[:3] and not any(ln.startswith("第一条") and ln.endswith("文件") for ln in lines)
    if header is None:  # the whole document: the first article is a clause, and is asked for by number
        path = tmp_path / f"{title}.txt"
        path.write_text("\n\n".join(paragraphs), encoding="utf-8")
        loaded = load_corpus(path, RULES)
        assert not loaded.errors and loaded.documents[0].title == title
        assert "1" in [c.section for c in loaded.clauses]


@pytest.mark.slow
def test_a_policy_printed_as_an_official_document_reads_like_its_text(tmp_path):
    """The policy as a 公文 PDF (红头, 发文字号, 主送机关, 署名, 成文日期, 此件公开发布, page numbers):
    the same clauses, character for character, the real title, and the furniture as metadata."""
    import re
    import sys

    sys.path.insert(0, str(ROOT / "tests/fixtures"))
    import make_documents

    txt = ROOT / "corpus/documents/bj-zjtx-2023.txt"
    pdf = tmp_path / "policy.pdf"
    make_documents.make_official_pdf(txt, pdf, "北京市经济和信息化局文件", "京经信发〔2023〕12号",
                                     "各区经济和信息化主管部门，各有关单位：", "北京市经济和信息化局", "2023年5月26日")
    got, want = load_corpus(pdf, RULES), load_corpus(txt, RULES)
    doc = got.documents[0]
    assert doc.title == "关于实施十大强企行动激发专精特新企业活力的若干措施" and doc.style == "policy"
    assert doc.meta["doc_number"] == "京经信发〔2023〕12号" and doc.meta["issued"] == "2023-05-26"
    assert doc.meta["issuer"] == "北京市经济和信息化局"
    assert {c.section: re.sub(r"\s", "", c.text) for c in got.clauses} == \
        {c.section: re.sub(r"\s", "", c.text) for c in want.clauses}
