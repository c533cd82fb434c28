"""Which parts of the working copy a GitOps controller applies, read from the cluster.

An Argo CD ``Application`` (``spec.source.path``, or each of ``spec.sources``) and a
Flux ``Kustomization`` (``spec.path``) name the directory they sync, and where the
objects land when the manifests leave the namespace out (``spec.destination.namespace``,
``spec.targetNamespace``). Only those directories declare objects: a manifest in
the repository that no controller applies is not what production runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ARGO_APPLICATIONS = ("argoproj.io/v1alpha1", "applications")
FLUX_KUSTOMIZATIONS = ("kustomize.toolkit.fluxcd.io/v1", "kustomizations")

# (api_version, plural) -> the items of that list across namespaces; [] if not served.
Lister = Callable[[str, str], Sequence[Mapping[str, Any]]]


@dataclass(frozen=True, slots=True)
class SyncedPath:
    controller: str  # "argocd Application argocd/shop" / "flux Kustomization flux-system/shop"
    path: str  # relative to the repository root ("" or "." is the root)
    namespace: str  # where objects without a namespace land ("" = as written)
    repo: str = ""  # the repository URL the controller reads (Flux names a source ref)

    def directory(self, root: Path) -> Path:
        return (root / self.path.strip("/")).resolve() if self.path not in ("", ".") else root


def _argo(app: Mapping[str, Any]) -> list[SyncedPath]:
    meta, spec = app.get("metadata") or {}, app.get("spec") or {}
    who = f"argocd Application {meta.get('namespace', '')}/{meta.get('name', '')}"
    namespace = str((spec.get("destination") or {}).get("namespace") or "")
    sources = spec.get("sources") or ([spec["source"]] if spec.get("source") else [])
    return [
        SyncedPath(who, str(s.get("path") or ""), namespace, str(s.get("repoURL") or ""))
        for s in sources
        if isinstance(s, Mapping) and "chart" not in s  # a chart from a Helm repo is not ours
    ]


def _flux(kustomization: Mapping[str, Any]) -> list[SyncedPath]:
    meta, spec = kustomization.get("metadata") or {}, kustomization.get("spec") or {}
    who = f"flux Kustomization {meta.get('namespace', '')}/{meta.get('name', '')}"
    ref = spec.get("sourceRef") or {}
    source = f"{ref.get('kind', '')}/{ref.get('name', '')}" if ref else ""
    return [SyncedPath(who, str(spec.get("path") or ""), str(spec.get("targetNamespace") or ""),
                       source)]  # fmt: skip


def synced_paths(list_all: Lister, repo_url: str = "") -> list[SyncedPath]:
    """What the cluster's controllers sync (from this repository, when ``repo_url``
    is given and the controller names one)."""
    found = [p for app in list_all(*ARGO_APPLICATIONS) for p in _argo(app)]
    found += [p for k in list_all(*FLUX_KUSTOMIZATIONS) for p in _flux(k)]
    if repo_url:
        found = [p for p in found if _same_repo(p.repo, repo_url)]
    return found


def _same_repo(named: str, repo_url: str) -> bool:
    """A controller that names a URL must name this repository; Flux names a source
    object instead (GitRepository/shop), which is taken as this repository."""
    if not named.startswith(("http", "git@", "ssh")):
        return True
    return named.rstrip("/").removesuffix(".git") == repo_url.rstrip("/").removesuffix(".git")
