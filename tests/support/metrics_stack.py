"""Pytest fixtures for the Prometheus and Alertmanager sources' integration tests:
a real Prometheus scraping a settable exporter, and a real Alertmanager.

Outside CI a missing binary skips; with CI set it fails, never skips."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import alertmanager, prometheus
from tests.support.exporter import Exporter


def require(reason: str | None) -> None:
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def exporter() -> Iterator[Exporter]:
    with Exporter() as running:
        yield running


@pytest.fixture(scope="module")
def prometheus_server(exporter: Exporter) -> Iterator[prometheus.PrometheusServer]:
    require(prometheus.available())
    server = prometheus.start([exporter.target])
    try:
        yield server
    finally:
        prometheus.stop(server)


@pytest.fixture(scope="module")
def alertmanager_server() -> Iterator[alertmanager.AlertmanagerServer]:
    require(alertmanager.available())
    server = alertmanager.start()
    try:
        yield server
    finally:
        alertmanager.stop(server)
