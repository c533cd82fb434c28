"""LLM reasoners: a provider-neutral model protocol, the hybrid session that
plugs into the ordinary loop, token accounting and budgets. SDK adapters live
in ``nightshift.model_backends``; see docs/llm.md."""

from nightshift.agent.reasoners.llm.accounting import CallRecord, Price, PriceTable, TokenBudget
from nightshift.agent.reasoners.llm.config import LLMConfig
from nightshift.agent.reasoners.llm.provider import (
    ChatModel,
    ChatRequest,
    ChatResponse,
    ModelError,
    ModelToolCall,
    RetryableModelError,
    ToolDef,
    Usage,
)
from nightshift.agent.reasoners.llm.reasoner import LLMReasoner
from nightshift.agent.reasoners.llm.stream import (
    investigate_reasoned,
    stream_reasoned_investigation,
)

__all__ = [
    "CallRecord",
    "ChatModel",
    "ChatRequest",
    "ChatResponse",
    "LLMConfig",
    "LLMReasoner",
    "ModelError",
    "ModelToolCall",
    "Price",
    "PriceTable",
    "RetryableModelError",
    "TokenBudget",
    "ToolDef",
    "Usage",
    "investigate_reasoned",
    "stream_reasoned_investigation",
]
