"""The files a sandboxed worker is shown are exactly those its sources name:
each source's CA file, a kubeconfig and what the context in use refers to
(relative to the kubeconfig), an MCP stdio server's program and path arguments,
and the local paths in a unix: or PostgreSQL url. Nothing else of the host."""

from __future__ import annotations

import sys
from pathlib import Path

from nightshift.bootstrap import worker_files
from nightshift.settings import Settings
from nightshift.sources.config import parse_sources
from nightshift.sources.files import named_files

KUBECONFIG = """
apiVersion: v1
kind: Config
current-context: prod
contexts:
  - name: prod
    context: {cluster: prod-cluster, user: prod-reader}
  - name: other
    context: {cluster: other-cluster, user: other-admin}
clusters:
  - name: prod-cluster
    cluster: {server: "https://127.0.0.1:6443", certificate-authority: certs/prod-ca.crt}
  - name: other-cluster
    cluster: {server: "https://10.0.0.1:6443", certificate-authority: /elsewhere/other-ca.crt}
users:
  - name: prod-reader
    user: {client-certificate: /pki/reader.crt, client-key: reader.key, tokenFile: token}
  - name: other-admin
    user: {client-certificate: /pki/admin.crt, client-key: /pki/admin.key}
"""


def test_a_kubeconfig_shows_itself_and_only_its_context_files(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kube" / "config"
    kubeconfig.parent.mkdir()
    kubeconfig.write_text(KUBECONFIG)
    sources = parse_sources(
        f"""
sources:
  - name: cluster
    kind: kubernetes
    domain: kubernetes
    settings: {{kubeconfig: "{kubeconfig}"}}
"""
    )
    kube = kubeconfig.parent
    assert named_files(sources) == (
        kubeconfig,
        kube / "certs" / "prod-ca.crt",
        Path("/pki/reader.crt"),
        kube / "reader.key",
        kube / "token",
    )


def test_the_context_a_source_names_is_the_one_followed(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(KUBECONFIG)
    sources = parse_sources(
        f"""
sources:
  - name: cluster
    kind: kubernetes
    domain: kubernetes
    settings: {{kubeconfig: "{kubeconfig}", context: other}}
"""
    )
    assert named_files(sources) == (
        kubeconfig,
        Path("/elsewhere/other-ca.crt"),
        Path("/pki/admin.crt"),
        Path("/pki/admin.key"),
    )


def test_ca_files_urls_and_an_mcp_server_program_are_named(tmp_path: Path) -> None:
    server = tmp_path / "server.py"
    server.write_text("")
    sources = parse_sources(
        f"""
sources:
  - {{name: prom, kind: prometheus, domain: application, url: "https://p:9090",
     settings: {{ca_file: /etc/corp/prom-ca.pem}}}}
  - {{name: logs, kind: loki, domain: application, url: "http://l:3100"}}
  - name: db
    kind: postgresql
    domain: database
    url: "postgresql://orders?host=/run/pg&sslrootcert=/etc/corp/pg-root.crt"
  - {{name: sock, kind: mcp, domain: application, url: "unix:/run/tools.sock"}}
  - name: tools
    kind: mcp
    domain: application
    settings: {{command: ["{sys.executable}", "{server}", "--port", "/not/there"]}}
"""
    )
    assert named_files(sources) == (
        Path("/etc/corp/prom-ca.pem"),
        Path("/run/pg"),
        Path("/etc/corp/pg-root.crt"),
        Path("/run/tools.sock"),
        Path(sys.executable),
        server,
    )


def test_a_worker_is_also_shown_the_vault_ca_it_is_told_to_trust(tmp_path: Path) -> None:
    sources = parse_sources(
        """
sources:
  - {name: prom, kind: prometheus, domain: application, url: "https://p:9090",
     settings: {ca_file: /etc/corp/prom-ca.pem}}
"""
    )
    local = Settings(data_dir=tmp_path, vault_cacert="/etc/corp/vault-ca.pem")
    assert worker_files(local, sources) == (Path("/etc/corp/prom-ca.pem"),)
    vault = Settings(
        data_dir=tmp_path,
        secrets_backend="vault",
        vault_addr="https://vault:8200",
        vault_cacert="/etc/corp/vault-ca.pem",
    )
    assert worker_files(vault, sources) == (
        Path("/etc/corp/prom-ca.pem"),
        Path("/etc/corp/vault-ca.pem"),
    )
