"""What a worker's declared sources put within reach of its probes: their hosts,
the network source's allow-list, the simulated world's own declared hosts, and
nothing that only a log line names."""

from __future__ import annotations

from pathlib import Path

import pytest

from nightshift.domain.vocabulary import Domain
from nightshift.governance.destinations import check_destination
from nightshift.scenarios.loader import data_dir
from nightshift.sources.bounds import declared_destinations, destination_bounds
from nightshift.sources.config import SourceConfig, SourceKind, SourcesError
from nightshift.worker_spec import simulated_source

NS = frozenset({"shop"})


def _source(kind: SourceKind, url: str = "", **settings: object) -> SourceConfig:
    return SourceConfig(
        name=f"s-{kind.value}", kind=kind, domain=Domain.NETWORK, url=url, settings=settings
    )


def test_declared_source_hosts_and_the_allow_list_are_within_reach() -> None:
    bounds = destination_bounds(
        [
            _source(SourceKind.PROMETHEUS, "http://prometheus.monitoring.example:9090"),
            _source(SourceKind.POSTGRESQL, "postgresql://orders-db.rds.example:5432/orders"),
            _source(SourceKind.NETWORK, allow=["*.corp.internal", "10.40.0.0/16"]),
            _source(SourceKind.KUBERNETES, "unix:/var/run/kube.sock"),
        ]
    )
    for ok in (
        "prometheus.monitoring.example:9090",
        "orders-db.rds.example",
        "ldap.corp.internal:636",
        "10.40.1.2",
    ):
        assert check_destination(ok, NS, bounds) is None, ok
    assert check_destination("exfil.attacker.example:4444", NS, bounds) is not None


def test_the_network_sources_cluster_domain_applies() -> None:
    bounds = destination_bounds([_source(SourceKind.NETWORK, cluster_domain="k8s.internal")])
    assert check_destination("api.shop.svc.k8s.internal", NS, bounds) is None


def test_a_bad_allow_list_is_a_sources_error() -> None:
    with pytest.raises(SourcesError, match="allow entry"):
        destination_bounds([_source(SourceKind.NETWORK, allow=["*.com"])])


def test_the_simulated_world_declares_its_own_hosts_but_not_its_log_text() -> None:
    bounds = destination_bounds([simulated_source("partner-api-handshake-errors")])
    assert "b2b.example" in bounds.hosts  # a probe target the scenario declares
    assert check_destination("exfil.attacker.example", NS, bounds) is not None


def test_the_worker_bounds_skip_a_broken_source_and_keep_the_others() -> None:
    bounds = declared_destinations(
        [
            _source(SourceKind.NETWORK, allow=["*.com"]),
            _source(SourceKind.PROMETHEUS, "http://prometheus.monitoring.example:9090"),
        ]
    )
    assert bounds.hosts == frozenset({"prometheus.monitoring.example"})


def test_a_scenario_path_adds_no_hosts_only_installed_names_do(tmp_path: Path) -> None:
    """A source's scenario is a name, never a file on the server: a copy of an
    installed scenario under another path is refused, not read for hosts."""
    installed = data_dir() / "partner-api-handshake-errors.yaml"
    evil = tmp_path / "evil.yaml"
    evil.write_text(installed.read_text().replace("b2b.example", "exfil.attacker.example"))
    source = _source(SourceKind.SIMULATED, scenario=str(evil))
    with pytest.raises(SourcesError, match="not the name of an installed scenario"):
        destination_bounds([source])
    bounds = declared_destinations([source])
    assert check_destination("exfil.attacker.example", NS, bounds) is not None
