"""Per-agent settings of the LLM path (plain data; no environment reads)."""

from __future__ import annotations

from dataclasses import dataclass, field

from nightshift.agent.reasoners.llm.calling import RetryPolicy

MODES = ("hybrid", "llm")
EXCERPTS = ("unmatched", "all")


@dataclass(frozen=True, slots=True)
class LLMConfig:
    """``hybrid``: the built-in reasoner drives; the model is consulted when its
    confidence stays below ``confidence_threshold``, for multi-domain cases,
    or always when ``always`` is set. ``llm``: the model plans from cycle 1."""

    mode: str = "hybrid"
    token_budget: int = 40_000  # input + output tokens per investigation (hard)
    confidence_threshold: float = 0.85
    always: bool = False  # "when asked": consult even a confident single-domain run
    consult_multi_domain: bool = True
    consult_after_cycles: int = 2  # offline cycles before a multi-domain / asked consult
    offline_max_cycles: int = 6  # a single-domain run gets this long alone when unsure
    max_output_tokens: int = 600
    calls_per_cycle: int = 6
    excerpts: str = "unmatched"  # raw excerpts only where the analyzers found nothing
    excerpt_chars: int = 600
    excerpts_total_chars: int = 2400
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")
        if self.excerpts not in EXCERPTS:
            raise ValueError(f"excerpts must be one of {EXCERPTS}, not {self.excerpts!r}")
        if self.token_budget < 1 or self.max_output_tokens < 1 or self.calls_per_cycle < 1:
            raise ValueError("token_budget, max_output_tokens and calls_per_cycle must be >= 1")
        if not 0.0 < self.confidence_threshold <= 1.0:
            raise ValueError("confidence_threshold must be within (0, 1]")
