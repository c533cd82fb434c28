"""One quantity parser behind the simulated world, kubectl describe and kubectl top."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from kubernetes.utils import parse_quantity as kubernetes_parse_quantity

from nightshift.domain.quantity import parse_quantity
from nightshift.k8s.describe_node import quantity as describe_quantity
from nightshift.scenarios.quantity import cpu_millis, memory_bytes
from nightshift.sources.kubectl_top import cpu_cores
from nightshift.sources.kubectl_top import memory_bytes as top_memory_bytes

QUANTITIES = [
    "0",
    "1",
    "1.5",
    ".5",
    "-1",
    "250m",
    "123456789n",
    "12u",
    "2k",
    "1M",
    "1G",
    "3T",
    "1P",
    "1E",
    "128Ki",
    "512Mi",
    "1.5Gi",
    "2Ti",
    "1Pi",
    "1Ei",
    "2e3",
    "1E3",
    "5e-3",
]


@pytest.mark.parametrize("text", QUANTITIES)
def test_it_reads_what_the_kubernetes_client_reads(text: str) -> None:
    assert parse_quantity(text) == kubernetes_parse_quantity(text)  # type: ignore[no-untyped-call]


def test_values_are_exact_in_base_units() -> None:
    assert parse_quantity("250m") == Decimal("0.25")
    assert parse_quantity("123456789n") == Decimal("0.123456789")
    assert parse_quantity("1.5Gi") == 3 * 2**29
    assert parse_quantity("1E") == 10**18  # a lone E is exa; with digits it is an exponent
    assert parse_quantity("1E3") == 1000
    assert parse_quantity(2) == 2 and parse_quantity(0.25) == Decimal("0.25")
    assert parse_quantity(" 64Mi\n") == 64 * 2**20  # as all three readers always stripped


@pytest.mark.parametrize("bad", ["", "abc", "m", "1e", "1K", "1mi", "1.2.3", "Mi1"])
def test_anything_else_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a quantity"):
        parse_quantity(bad)


@pytest.mark.parametrize(
    ("text", "millis", "cores"),
    [("250m", 250, 0.25), ("2", 2000, 2.0), ("1.5", 1500, 1.5), ("100000000n", 100, 0.1)],
)
def test_the_three_readers_agree_on_cpu(text: str, millis: int, cores: float) -> None:
    assert cpu_millis(text) == millis
    assert cpu_cores(text) == pytest.approx(cores)
    assert describe_quantity(text) == pytest.approx(cores)


@pytest.mark.parametrize(
    ("text", "size"), [("512Mi", 512 * 2**20), ("1G", 10**9), ("12345Ki", 12345 * 1024)]
)
def test_the_three_readers_agree_on_memory(text: str, size: int) -> None:
    assert memory_bytes(text) == size
    assert top_memory_bytes(text) == size
    assert describe_quantity(text) == size


def test_describe_reads_an_absent_quantity_as_zero() -> None:
    assert describe_quantity(None) == 0 and describe_quantity("") == 0


def test_the_simulated_worlds_quantities_do_not_load_the_kubernetes_client() -> None:
    # The worker's 400 ms import budget (bench/startup) has no room for it.
    code = (
        "import sys, nightshift.scenarios.quantity, nightshift.domain.quantity; "
        "print('kubernetes' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
