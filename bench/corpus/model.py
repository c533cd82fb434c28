"""Corpus cases: a fault type, a variant (names, namespace, workload), the plan, the truth."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench.corpus.kube import Plan

# Name pools per split: the validation split never reuses a development name.
POOLS: dict[str, dict[str, list[str]]] = {
    "dev": {
        "apps": ["checkout", "cart", "payments", "orders", "catalog", "ledger", "billing",
                 "search", "accounts", "gateway", "reviews", "quotes"],
        "deps": ["postgres", "redis", "rabbitmq", "auth", "fx-rates", "risk-scoring"],
        "ns": ["shop", "store", "retail", "market", "commerce", "webapp"],
        "registry": ["registry.example.com/shop", "ghcr.io/acme", "quay.io/retail"],
    },
    "val": {
        "apps": ["invoices", "shipping", "inventory", "profile", "notify", "ratings", "pricing",
                 "tickets", "wallet", "loyalty", "booking", "media"],
        "deps": ["mysql", "memcached", "kafka", "identity", "tax-engine", "fraud-check"],
        "ns": ["logistics", "finance", "social", "travel", "publishing", "health"],
        "registry": ["registry.corp.local/ops", "docker.io/northwind", "gcr.io/contoso"],
    },
}  # fmt: skip


@dataclass(frozen=True)
class Truth:
    category: str
    fault: str
    kind: str
    name: str
    alternatives: tuple[str, ...] = ()  # other "Kind/name" a fix may equally target

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "fault": self.fault,
            "object": f"{self.kind}/{self.name}",
            "alternative_objects": list(self.alternatives),
        }


@dataclass(frozen=True)
class Variant:
    split: str
    index: int  # 0..2 within a fault type
    serial: int  # unique over the whole corpus: picks the service IP block
    ns: str
    app: str
    dep: str
    neighbor: str
    registry: str
    port: int
    now: datetime  # the kubelet's clock: the planned time of recording (see generate.py)
    rng: random.Random = field(compare=False, repr=False)

    def ip(self, host: int) -> str:
        return f"10.96.{self.serial // 50 + 1}.{(self.serial % 50) * 5 + host}"

    def image(self, name: str, tag: str = "1.4.2") -> str:
        return f"{self.registry}/{name}:{tag}"


@dataclass(frozen=True)
class Built:
    plan: Plan
    truth: Truth
    question: str


Builder = Callable[[Variant], Built]


@dataclass(frozen=True)
class FaultType:
    id: str
    category: str
    fault: str
    build: Builder


@dataclass(frozen=True)
class Case:
    id: str
    split: str
    fault_type: str
    variant: Variant
    built: Built


def variants(split: str, fault_index: int, indexes: list[int], now: datetime) -> list[Variant]:
    pools = POOLS[split]
    out = []
    count = 3
    for i in indexes:
        rng = random.Random(f"{split}:{fault_index}:{i}")
        serial = fault_index * count + i + (0 if split == "dev" else 500)
        apps = rng.sample(pools["apps"], 2)
        out.append(
            Variant(
                split=split,
                index=i,
                serial=serial,
                ns=f"{pools['ns'][(fault_index + i) % len(pools['ns'])]}-{fault_index:02d}{i}",
                app=apps[0],
                dep=rng.choice(pools["deps"]),
                neighbor=apps[1],
                registry=pools["registry"][i % len(pools["registry"])],
                port=rng.choice([8080, 8000, 9000, 3000, 5000]),
                now=now,
                rng=rng,
            )
        )
    return out
