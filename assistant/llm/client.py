"""The optional model behind any OpenAI-compatible endpoint (Ollama, vLLM, Xinference, a cloud API).
The only module that imports langchain-openai. Off unless ASSISTANT_LLM=openai.

The model may phrase an answer and rewrite a follow-up into a standalone question; it never
computes and never decides. Every reply passes the guard in assistant/llm/guard.py or the offline
answer is shown instead. A circuit breaker stops calling an endpoint that keeps failing.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


class ModelUnavailable(RuntimeError):
    """The endpoint failed, timed out, answered nothing, or the breaker is open."""


# Key-like tokens an endpoint may echo back (401: "Incorrect API key provided: sk-…"), and a
# bearer header: never logged, whatever the configured key looks like.
_KEYLIKE = re.compile(r"(?i)\b(?:sk|pk|rk|api|key|token)[-_][A-Za-z0-9_\-*.]{4,}|bearer\s+\S+")


def redact(message: str, secrets=()) -> str:
    """A message from an endpoint with every secret and key-like token masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            message = message.replace(secret, "***")
            for part in (secret[:8], secret[-8:]):  # a key the endpoint shows half-masked
                if len(part) >= 8:
                    message = message.replace(part, "***")
    return _KEYLIKE.sub("***", message)


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

    def __init__(self, model, name: str, breaker: CircuitBreaker | None = None, secrets: tuple[str, ...] = ()):
        self.model, self.name = model, name
        self.breaker = breaker or CircuitBreaker()
        self._secrets = tuple(s for s in secrets if s)

    def failed(self, exc: Exception) -> ModelUnavailable:
        """Count a failure; the error to raise, its message free of secrets."""
        self.breaker.failure()
        return ModelUnavailable(redact(f"{type(exc).__name__}: {str(exc)[:300]}", self._secrets)[:200])

    def invoke(self, runnable, inputs: dict) -> str:
        if not self.breaker.allow():
            raise ModelUnavailable("模型接口暂停调用（连续失败，熔断中）")
        try:
            reply = runnable.invoke(inputs)
        except Exception as exc:  # timeouts, HTTP 429/500, bad JSON: all one story to the caller
            raise self.failed(exc) from exc
        text = getattr(reply, "content", reply)
        if not isinstance(text, str) or not text.strip():
            self.breaker.failure()
            raise ModelUnavailable("模型返回了空回答")
        self.breaker.success()
        return text.strip()
