"""Which objects a working copy declares, and where.

Two layouts are read: plain manifests (every ``*.yaml``/``*.yml`` document with a
``kind`` and ``metadata.name``) and Kustomize (a ``kustomization.yaml`` whose
``namespace`` applies to the resources it lists). An object is keyed by API group,
kind, namespace and name; the same key in two places is an error, because a commit
could then change the one the controller does not apply.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nightshift.domain.safe_yaml import safe_load
from nightshift.gitops.controllers import SyncedPath
from nightshift.gitops.working_copy import GitOpsRefused

_KUSTOMIZATION = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
_SKIP_DIRS = frozenset({".git", "node_modules", ".github"})


@dataclass(frozen=True, slots=True, order=True)
class ObjectKey:
    group: str  # "" for the core group; "apps", "networking.k8s.io", ...
    kind: str
    namespace: str  # "" for cluster-scoped objects
    name: str

    @classmethod
    def of(cls, obj: Mapping[str, Any], default_namespace: str = "") -> ObjectKey:
        api_version = str(obj.get("apiVersion") or "")
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        meta = obj.get("metadata") or {}
        namespace = str(meta.get("namespace") or default_namespace)
        return cls(group, str(obj["kind"]), namespace, str(meta["name"]))

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{where}{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class Declaration:
    key: ObjectKey
    file: Path
    document: int  # index of the YAML document in the file
    body: Mapping[str, Any]


def _manifests(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if any(part in _SKIP_DIRS for part in path.relative_to(root).parts):
            continue
        if path.is_file() and path.suffix in (".yaml", ".yml") and path.name not in _KUSTOMIZATION:
            yield path


def _kustomize_namespaces(root: Path) -> dict[Path, str]:
    """File -> the namespace a kustomization sets for it (the innermost one wins)."""
    out: dict[Path, str] = {}
    found = [p for name in _KUSTOMIZATION for p in root.rglob(name) if ".git" not in p.parts]
    for kfile in sorted(found, key=lambda p: len(p.parts)):
        try:
            spec = safe_load(kfile.read_text()) or {}
        except yaml.YAMLError as exc:
            raise GitOpsRefused(f"{kfile.relative_to(root)} cannot be parsed: {exc}") from exc
        namespace = spec.get("namespace")
        if not isinstance(namespace, str):
            continue
        for entry in spec.get("resources") or []:
            target = (kfile.parent / str(entry)).resolve()
            files = sorted(target.rglob("*.y*ml")) if target.is_dir() else [target]
            for f in files:
                out[f] = namespace
    return out


def _synced_namespace(path: Path, synced: Sequence[SyncedPath], root: Path) -> str | None:
    """The default namespace of the controller syncing ``path``; None if none syncs it."""
    best: tuple[int, str] | None = None
    for entry in synced:
        directory = entry.directory(root)
        if path.resolve().is_relative_to(directory):
            depth = len(directory.parts)
            if best is None or depth > best[0]:
                best = (depth, entry.namespace)
    return None if best is None else best[1]


def declared_objects(root: Path, synced: Sequence[SyncedPath] = ()) -> dict[ObjectKey, Declaration]:
    """Every object the working copy declares; raises GitOpsRefused on a file that
    cannot be parsed or an object declared twice. With ``synced`` (what the cluster's
    Argo CD Applications / Flux Kustomizations apply), only their directories count,
    and their destination namespace applies to manifests that name none."""
    namespaces = _kustomize_namespaces(root)
    found: dict[ObjectKey, Declaration] = {}
    for path in _manifests(root):
        default_ns = namespaces.get(path.resolve(), "")
        if synced:
            controller_ns = _synced_namespace(path, synced, root)
            if controller_ns is None:
                continue  # no controller applies this file
            default_ns = default_ns or controller_ns
        try:
            documents = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError as exc:
            raise GitOpsRefused(f"{path.relative_to(root)} cannot be parsed: {exc}") from exc
        for index, doc in enumerate(documents):
            if not isinstance(doc, dict) or "kind" not in doc:
                continue
            if not isinstance(doc.get("metadata"), dict) or "name" not in doc["metadata"]:
                continue
            key = ObjectKey.of(doc, default_ns)
            if key in found:
                first = found[key].file.relative_to(root)
                raise GitOpsRefused(
                    f"{key} is declared twice: {first} and {path.relative_to(root)}"
                )
            found[key] = Declaration(key, path, index, doc)
    return found
