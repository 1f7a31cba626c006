"""The optional model (issue #11) against a scripted OpenAI-compatible endpoint on loopback: it may
phrase, never invent; every failure ends in the offline answer."""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.llm.guard import check_answer, check_rewrite
from tests.scripted_llm import Script, ScriptedEndpoint, faithful

SECRET = "sk-test-do-not-leak-1234567890"
ROOT = Path(__file__).resolve().parent.parent


def _bot(settings, url, **kw) -> Assistant:
    s = replace(settings, llm="openai", llm_model="scripted-qwen", llm_base_url=url, llm_api_key=SECRET,
                llm_timeout=kw.pop("timeout", 2.0), **kw)
    return Assistant.load(settings=s)


def test_faithful_wording_is_shown_and_the_endpoint_is_called(settings, caplog):
    caplog.set_level(logging.DEBUG)
    script = Script(lambda p: "按合同额的30%计算，可获得15万元资金支持[1]，最高30万元[1]。"
                    if "确定性判断" in p else faithful(p))
    with ScriptedEndpoint(script) as url:
        bot = _bot(settings, url)
        ans = bot.ask("上云上平台合同额50万元，补贴多少？")
    assert script.requests, "the endpoint was never called"
    assert ans.answerer == "llm:scripted-qwen" and ans.to_dict()["answerer"] == "llm:scripted-qwen"
    assert ans.text.startswith("按合同额的30%计算，可获得15万元资金支持〔一〕")
    assert [c.section for c in ans.citations] == ["5"]
    assert ans.calculation.amount_yuan == 150000
    assert {k.lower(): v for k, v in script.headers[0].items()}["authorization"] == f"Bearer {SECRET}"  # the key goes to the endpoint …
    assert SECRET not in caplog.text and SECRET not in str(bot.info()) and SECRET not in repr(bot.toolkit.settings)
    assert bot.info()["answerer"] == "llm:scripted-qwen"


def test_an_invented_amount_never_reaches_the_user(settings):
    script = Script(lambda p: "可以获得8888万元资金支持[1]。" if "确定性判断" in p else faithful(p))
    with ScriptedEndpoint(script) as url:
        bot = _bot(settings, url)
        for q in ("上云上平台合同额50万元，补贴多少？", "上云补贴最高多少？", "首贷有补助吗？"):
            ans = bot.ask(q)
            assert "8888" not in ans.text and "8888" not in ans.short and ans.answerer == "offline"
        assert bot.ask("上云上平台合同50万元能补多少？").calculation.amount_yuan == 150000
    assert len(script.requests) >= 3


def test_a_wrong_verdict_is_replaced(settings):
    script = Script(lambda p: "可以申请，符合条件[1]。" if "确定性判断" in p else faithful(p))
    with ScriptedEndpoint(script) as url:
        ans = _bot(settings, url).ask("我们不是制造业，数字化转型合同100万能补多少？")
    assert ans.text.startswith("不符合") and ans.answerer == "offline"


def test_a_marker_to_a_clause_not_retrieved_is_replaced(settings):
    script = Script(lambda p: "有首贷补助[9]。" if "确定性判断" in p else faithful(p))
    with ScriptedEndpoint(script) as url:
        ans = _bot(settings, url).ask("首贷有补助吗？")
    assert ans.answerer == "offline" and "[9]" not in ans.text


def test_a_refusal_is_never_overturned(settings):
    script = Script(lambda p: "社保可以缓缴[1]。")
    with ScriptedEndpoint(script) as url:
        ans = _bot(settings, url).ask("北京市社保缴费基数上限是多少？")
    assert ans.refused and ans.answerer == "offline" and not script.requests


@pytest.mark.parametrize("script", [
    Script(delay=5.0), Script(status=500), Script(status=429), Script(raw_body=b"<html>not json</html>"),
    Script(lambda p: ""),
], ids=["slow", "http-500", "http-429", "not-json", "empty"])
def test_endpoint_faults_give_the_offline_answer_in_time(settings, script):
    with ScriptedEndpoint(script) as url:
        bot = _bot(settings, url, timeout=1.0)
        t = time.perf_counter()
        ans = bot.ask("上云上平台合同额50万元，补贴多少？")
        elapsed = time.perf_counter() - t
    assert ans.answerer == "offline" and ans.calculation.amount_yuan == 150000
    assert elapsed < 1.0 + 3.0  # the timeout plus the offline time (generous for a loaded CI box)
    assert script.requests


def test_endpoint_down_gives_the_offline_answer_within_ten_seconds(settings):
    bot = _bot(settings, "http://127.0.0.1:9/v1", timeout=3.0)  # nothing listens on port 9
    t = time.perf_counter()
    ans = bot.ask("上云上平台合同额50万元，补贴多少？")
    assert time.perf_counter() - t < 10 and ans.answerer == "offline" and ans.calculation.amount_yuan == 150000


def test_the_breaker_stops_calling_a_failing_endpoint(settings):
    script = Script(status=500)
    with ScriptedEndpoint(script) as url:
        bot = _bot(settings, url)
        for i in range(6):
            bot.ask(f"上云上平台合同额{50 + i}万元，补贴多少？")
    assert len(script.requests) == 3  # then the breaker is open


def test_a_streamed_answer(settings):
    script = Script(lambda p: "按合同额的30%计算，可获得15万元资金支持[1]。" if "确定性判断" in p else faithful(p))
    with ScriptedEndpoint(script) as url:
        bot = _bot(settings, url, llm_stream=True)
        ans = bot.ask("上云上平台合同额50万元，补贴多少？")
    assert script.requests[0].get("stream") is True
    assert ans.answerer == "llm:scripted-qwen" and "15万元" in ans.text


def test_a_rewrite_that_changes_an_amount_is_discarded():
    assert not check_rewrite("那如果合同额是10万元呢？", "上云上平台合同额20万元补贴多少？", ["上云上平台改造补贴怎么算？"]).ok
    assert not check_rewrite("那如果合同额是10万元呢？", "上云上平台补贴怎么算？", []).ok
    assert check_rewrite("那如果合同额是10万元呢？", "上云上平台合同额10万元补贴多少？", ["上云上平台改造补贴怎么算？"]).ok


@pytest.fixture(scope="module")
def offline_bot(tmp_path_factory):
    from assistant.settings import Settings

    settings = replace(Settings.from_env(), index_dir=tmp_path_factory.mktemp("guard") / "index")
    return Assistant.load(settings=settings)


def _guard(bot, question: str, model_text: str):
    ans = bot.ask(question)
    return check_answer(model_text, answer=ans, question=question, earlier=[], clauses=len(ans.citations) or 1,
                        cues=bot.offline.cues)


# The probe's crafted wordings (issue 21, point 1) and their honest neighbours: the guard compares
# each figure and the verdict with the structured answer, not with whatever the sources contain.
@pytest.mark.parametrize("question, model_text, passes", [
    ("上云上平台合同额50万元，补贴多少？", "按合同额的30%计算，合同额50万元可获得30万元[1]。", False),  # 30万 is the cap
    ("上云上平台合同额50万元，补贴多少？", "按合同额的30%计算，可获得15万元资金支持[1]，最高30万元[1]。", True),
    ("上云上平台合同额50万元，补贴多少？", "可以获得8888万元资金支持[1]。", False),
    ("首贷有补助吗？", "没有。首贷业务没有任何资金补助[1]。", False),
    ("首贷有补助吗？", "有。对企业符合条件的首贷业务给予资金补助[1]。", True),
    ("参加线上外贸展会的费用能补贴吗？", "线上展会不予补贴[1]。", False),
    ("参加线上外贸展会的费用能补贴吗？", "暂无相关补贴[1]。", False),
    ("我们不是制造业，数字化转型合同100万能补多少？", "可以申请，符合条件[1]。", False),
    ("我们不是制造业，数字化转型合同100万能补多少？", "不符合：该项支持限于制造业专精特新企业[1]。", True),
    ("首贷有补助吗？", "有补助", False),  # no marker
])
def test_the_guard_checks_figures_and_verdicts_against_the_answer(offline_bot, question, model_text, passes):
    assert _guard(offline_bot, question, model_text).ok is passes


def test_a_key_the_endpoint_echoes_is_never_logged(settings, caplog):
    caplog.set_level(logging.DEBUG)
    script = Script(status=401)
    with ScriptedEndpoint(script) as url:
        ans = _bot(settings, url).ask("上云上平台合同额50万元，补贴多少？")
    assert script.requests and ans.answerer == "offline"
    assert "invalid_api_key" in caplog.text or "401" in caplog.text  # the failure is logged …
    assert SECRET not in caplog.text and SECRET[-10:] not in caplog.text  # … without the key


def test_langchain_fake_model_through_the_chain(settings):
    """Unit level: LangChain's own fake chat model in place of ChatOpenAI."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    from assistant.llm.chain import GuardedChain, PolicyRetriever
    from assistant.llm.client import ModelClient

    bot = Assistant.load(settings=settings)
    fake = GenericFakeChatModel(messages=iter([AIMessage(content="有。对首贷业务给予资金补助[1]。")]))
    chain = GuardedChain(bot.offline, ModelClient(fake, "fake"), PolicyRetriever(hybrid=bot.offline.retriever),
                         [], bot.offline.clauses_by_key)
    ans = chain.answer("首贷有补助吗？")
    assert ans.answerer == "llm:fake" and ans.text.startswith("有。对首贷业务给予资金补助〔一〕")


def test_an_eval_run_through_the_chain_passes_the_gate(settings, tmp_path):
    """The project's sets through the chain with the faithful scripted model: the same gate."""
    import tomllib

    from evals.__main__ import THRESHOLDS, gate_failures
    from evals.runner import run_cases, summarise
    from evals.sets import read_set

    cases = [c for f in sorted((ROOT / "evals/sets").glob("*.jsonl")) for c in read_set(f)[0]]
    script = Script()
    with ScriptedEndpoint(script) as url:
        bot = _bot(settings, url)
        summary = summarise(run_cases(bot, cases))
    thresholds = tomllib.loads(THRESHOLDS.read_text(encoding="utf-8"))["overall"]
    assert not gate_failures(summary, thresholds), summary["overall"]
    assert len(script.requests) > 100
