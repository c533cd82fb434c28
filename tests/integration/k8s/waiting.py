"""Wait for an object to reach a state by watching it (no sleep loops)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nightshift.k8s.client import KubeApi, KubeError


def wait_until(
    api: KubeApi,
    collection: str,
    name: str,
    ready: Callable[[dict[str, Any]], bool],
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Watch ``collection`` for ``name`` until ``ready(obj)``; returns the object."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listing = api.get(collection, {"fieldSelector": f"metadata.name={name}"})
        for obj in listing.get("items", []):
            if ready(obj):
                return obj
        rv = listing["metadata"]["resourceVersion"]
        remaining = max(1, int(deadline - time.monotonic()))
        query = {"fieldSelector": f"metadata.name={name}", "resourceVersion": rv}
        try:
            for event in api.watch(collection, query, timeout_seconds=remaining):
                if event["type"] in ("ADDED", "MODIFIED") and ready(event["object"]):
                    return dict(event["object"])
        except KubeError as exc:
            if exc.status != 410:
                raise
    raise TimeoutError(f"{name} in {collection} did not become ready in {timeout}s")


def wait_gone(api: KubeApi, collection: str, name: str, timeout: float = 30.0) -> None:
    """Watch until ``name`` is deleted (or already absent)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listing = api.get(collection, {"fieldSelector": f"metadata.name={name}"})
        if not listing.get("items"):
            return
        query = {
            "fieldSelector": f"metadata.name={name}",
            "resourceVersion": listing["metadata"]["resourceVersion"],
        }
        remaining = max(1, int(deadline - time.monotonic()))
        try:
            for event in api.watch(collection, query, timeout_seconds=remaining):
                if event["type"] == "DELETED":
                    return
        except KubeError as exc:
            if exc.status != 410:
                raise
    raise TimeoutError(f"{name} in {collection} still exists after {timeout}s")


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    """For state the API server converges on without an object to watch (RBAC and
    admission-policy caches): re-check, bounded, until true."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.1)
