"""The optional model behind any OpenAI-compatible endpoint (Ollama, vLLM, Xinference, a cloud API).
The only module that imports langchain-openai. Off unless ASSISTANT_LLM=openai.

The model may phrase an answer and rewrite a follow-up into a standalone question; it never
computes and never decides. Every reply passes the guard in assistant/llm/guard.py or the offline
answer is shown instead. A circuit breaker stops calling an endpoint that keeps failing.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


class ModelUnavailable(RuntimeError):
    """The endpoint failed, timed out, answered nothing, or the breaker is open."""


@dataclass
class CircuitBreaker:
    failures_to_open: int = 3
    open_seconds: float = 60.0
    _failures: int = 0
    _opened_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self) -> bool:
        with self._lock:
            if self._opened_at is None:
                return True
            if time.monotonic() - self._opened_at >= self.open_seconds:
                self._opened_at, self._failures = None, self.failures_to_open - 1  # one trial call
                return True
            return False

    def success(self) -> None:
        with self._lock:
            self._failures, self._opened_at = 0, None

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self.failures_to_open:
                self._opened_at = time.monotonic()


def chat_model(settings):
    """langchain-openai's ChatOpenAI for the configured endpoint (no retries: the breaker and the
    offline fallback handle failure)."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=settings.llm_model, base_url=settings.llm_base_url or None,
                      api_key=settings.llm_api_key or "not-needed", timeout=settings.llm_timeout,
                      max_retries=0, temperature=0, streaming=settings.llm_stream)


class ModelClient:
    """Calls the model through a LangChain runnable, behind the breaker."""

    def __init__(self, model, name: str, breaker: CircuitBreaker | None = None):
        self.model, self.name = model, name
        self.breaker = breaker or CircuitBreaker()

    def invoke(self, runnable, inputs: dict) -> str:
        if not self.breaker.allow():
            raise ModelUnavailable("模型接口暂停调用（连续失败，熔断中）")
        try:
            reply = runnable.invoke(inputs)
        except Exception as exc:  # timeouts, HTTP 429/500, bad JSON: all one story to the caller
            self.breaker.failure()
            raise ModelUnavailable(f"{type(exc).__name__}: {str(exc)[:200]}") from exc
        text = getattr(reply, "content", reply)
        if not isinstance(text, str) or not text.strip():
            self.breaker.failure()
            raise ModelUnavailable("模型返回了空回答")
        self.breaker.success()
        return text.strip()
