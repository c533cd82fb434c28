"""Metrics, tracing, cost attribution and the adaptive reasoning-depth bound.

The metrics come first and alone: the audit service counts its anchor failures in
them, and the telemetry's gate gauges read the phase service, which needs the audit.
"""

from __future__ import annotations

from datetime import timedelta

from nightshift.observability.llm_calls import TokenPrice
from nightshift.observability.metrics import Metrics
from nightshift.services.gate_view import GateView
from nightshift.services.telemetry import Telemetry
from nightshift.settings import Settings
from nightshift.store.database import Database


def llm_prices(settings: Settings) -> dict[str, TokenPrice]:
    return {m: TokenPrice(p.input, p.output, p.cached) for m, p in settings.cost_llm_prices.items()}


def make_metrics(settings: Settings) -> Metrics:
    """Metrics on a registry of this container's own."""
    return Metrics(llm_prices=llm_prices(settings))


def make_telemetry(
    settings: Settings, db: Database, metrics: Metrics, gates: GateView | None = None
) -> Telemetry:
    """Tracing (off without an OTLP endpoint), cost prices and the adaptive
    reasoning-depth bound, around ``metrics``; ``gates`` feeds the phase-gate gauges."""
    from nightshift.observability.costs import Prices
    from nightshift.observability.tracing import Tracing, otlp_provider
    from nightshift.services.costs import CostService
    from nightshift.services.depth import DepthService

    prices = Prices(
        cpu_second_usd=settings.cost_cpu_second_usd,
        gb_second_usd=settings.cost_gb_second_usd,
        tool_call_usd=settings.cost_tool_call_usd,
        storage_gb_month_usd=settings.cost_storage_gb_month_usd,
        retention_days=settings.log_retention_days,
        llm=llm_prices(settings),
    )
    provider = otlp_provider(
        settings.otlp_endpoint, settings.trace_service_name, settings.otlp_headers
    )
    return Telemetry(
        db,
        metrics=metrics,
        tracing=Tracing(provider, settings.otlp_endpoint),
        depth=DepthService(
            db,
            window=timedelta(days=settings.depth_window_days),
            ceilings=settings.depth_ceilings,
            min_samples=settings.depth_min_samples,
        ),
        costs=CostService(db, prices),
        adaptive_depth=settings.depth_adaptive,
        gates=gates,
    )
