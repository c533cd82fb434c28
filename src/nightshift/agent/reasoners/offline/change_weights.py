"""How much a change explains: time awareness and what its record names.

A change that preceded the symptom onset, not long before, and names what
fails (its target, its namespace, the keys it wrote that the failing output
quotes) absorbs the weight of the findings it explains; they hang under it
in the causal chain. A change after the onset explains little.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable

from nightshift.agent.reasoners.offline.belief import Belief, Key, noisy_or, revised
from nightshift.agent.reasoners.offline.changes import change_subject
from nightshift.agent.reasoners.offline.faults import EXPLAINS, SYMPTOM_FAULTS
from nightshift.agent.reasoners.offline.findings import Change
from nightshift.agent.reasoners.offline.timeline import preceded
from nightshift.domain.diagnosis import ResourceRef

# what a network change explains wherever it shows, named by its record or not
_NETWORKISH = frozenset(
    {
        "network-policy-blocking",
        "high-latency-dependency",
        "connection-pool-exhaustion",
        "db-connection-limit",
        "packet-loss",
        "dns-resolution-failure",
        "db-unavailable",
    }
)

_CREATED = re.compile(r"\bcreated (?:Service|ConfigMap|Ingress)/")
_FIRST_REVISION = re.compile(r"\brevision 1 \(first\)")
_WRITTEN = re.compile(r"\b(?:data|stringData|binaryData)\.([A-Za-z_][\w.-]*[\w])")


def _written_keys(change: Change) -> frozenset[str]:
    """The ConfigMap/Secret keys a change record says it wrote ("fields: data.LEDGER_URL")."""
    return frozenset(k for k in _WRITTEN.findall(f"{change.line} {change.detail}") if len(k) >= 3)


def _quotes(line: str, keys: frozenset[str]) -> bool:
    return (
        bool(keys)
        and "data." not in line
        and any(re.search(rf"\b{re.escape(k)}\b", line) for k in keys)
    )


# a change's own weight, and how much of the findings it explains it absorbs, by
# whether it preceded the onset (None: the clocks cannot tell)
_BASE: dict[bool | None, float] = {True: 0.35, None: 0.2, False: 0.05}
_ABSORBED: dict[bool | None, float] = {True: 1.0, None: 0.6, False: 0.2}
_NETWORK_CHANGES = ("firewall-rule-change", "network-policy-change")


def weigh_changes(
    out: dict[Key, Belief],
    changes: list[tuple[Change, str]],
    onset: float | None,
    resource: Callable[[ResourceRef], ResourceRef],
) -> None:
    """Each change's belief, and the findings it explains hung under it.

    ``resource`` resolves the change's subject to the precise ref the run has
    learned for it (kind and namespace), so the change and its target meet."""
    for change, eid in changes:
        if not _nothing_to_revert(change):
            _weigh_change(out, change, eid, onset, resource)


def _nothing_to_revert(change: Change) -> bool:
    """A change that created what it names: there was no earlier state to go back to."""
    if change.fault == "bad-deployment-rollout" and _FIRST_REVISION.search(change.line):
        return True  # a workload's first revision is its creation: nothing to roll back to
    # a new Service or ConfigMap had no earlier setting to regress from
    return change.fault == "config-change-regression" and bool(_CREATED.search(change.line))


def _weigh_change(
    out: dict[Key, Belief],
    change: Change,
    eid: str,
    onset: float | None,
    resource: Callable[[ResourceRef], ResourceRef],
) -> None:
    before = preceded(change.at, onset)
    base = _by_onset(_BASE, before, change, onset)
    explains = EXPLAINS.get(change.fault, frozenset())
    linked = _named_findings(out, change, explains)
    # "logs refer to the changed setting": a finding that quotes a key the change
    # wrote (data.LEDGER_URL) is that change's effect, whatever the clocks say
    quoting = _quoting_findings(out, change, explains)
    if quoting:
        before = True
        linked = list(dict.fromkeys([*linked, *quoting]))
    symptoms = [k for k in linked if k[1] in SYMPTOM_FAULTS or k[1] in _NETWORKISH]
    concrete = [k for k in linked if k not in symptoms]
    factor = _by_onset(_ABSORBED, before, change, onset)
    conf = _confidence(out, base, factor, symptoms, concrete)
    key = (_change_ref(change, resource), change.fault)
    prior = out.get(key)
    if prior is not None:  # direct evidence on the change (rules it touched)
        conf = noisy_or([conf, prior.confidence])
    if prior is None or prior.confidence <= conf:
        explained = [out[k] for k in linked]
        out[key] = _change_belief(change, eid, conf, prior, explained, before, bool(quoting))
    if before is not False:
        for k in symptoms:
            out[k] = revised(out[k], out[k].confidence * 0.75, parent=key)
        for k in concrete:
            out[k] = revised(out[k], out[k].confidence, parent=key)


def _by_onset(
    weights: dict[bool | None, float], before: bool | None, change: Change, onset: float | None
) -> float:
    """The weight for the change's timing: the closer before the onset, the likelier
    the cause (2 h half-life-ish)."""
    weight = weights[before]
    if before and change.at is not None and onset is not None:
        weight *= math.exp(-(onset - change.at) / 7200.0)
    return weight


def _named_findings(out: dict[Key, Belief], change: Change, explains: frozenset[str]) -> list[Key]:
    """Findings the change can explain on what its record names (a network change: anywhere)."""
    network = change.fault in _NETWORK_CHANGES
    return [
        k
        for k in out
        if k[1] in explains
        and k[1] != change.fault
        and (_touches(change, k[0]) or (network and k[1] in _NETWORKISH))
    ]


def _quoting_findings(
    out: dict[Key, Belief], change: Change, explains: frozenset[str]
) -> list[Key]:
    """Findings the change can explain whose lines quote a key the change wrote."""
    keys = _written_keys(change)
    return [k for k in out if k[1] in explains and any(_quotes(ln, keys) for ln in out[k].lines)]


def _confidence(
    out: dict[Key, Belief],
    base: float,
    factor: float,
    symptoms: list[Key],
    concrete: list[Key],
) -> float:
    """The change's own weight and the strongest symptom and concrete fault it explains."""
    s_strong = max((out[k].confidence for k in symptoms), default=0.0)
    c_strong = max((out[k].confidence for k in concrete), default=0.0)
    conf = noisy_or([base, 0.8 * s_strong * factor, 0.5 * c_strong * factor])
    if concrete:  # a concrete fault is what to fix; the change stays its context
        conf = min(conf, 0.95 * c_strong)
    return conf


def _change_ref(change: Change, resource: Callable[[ResourceRef], ResourceRef]) -> ResourceRef:
    subject = change_subject(change)
    return resource(subject) if subject.kind != "Change" else subject


def _change_belief(
    change: Change,
    eid: str,
    conf: float,
    prior: Belief | None,
    explained: list[Belief],
    before: bool | None,
    quoting: bool,
) -> Belief:
    """The change's belief: its record, the first finding it explains, then what it rests on."""
    detail = (f"{change.ident}: {change.detail}",) if change.detail else ()
    lines = (change.line, *detail, *(explained[0].lines[:1] if explained else ()))
    lines += prior.lines if prior is not None else ()
    ids = (eid, *(prior.evidence_ids if prior else ()))
    ids += tuple(i for b in explained for i in b.evidence_ids)
    why = f"change {'before' if before else 'near'} symptom onset" + (
        f"; explains {len(explained)} finding(s)" if explained else ""
    )
    if quoting:
        why += "; the failing output names a setting this change wrote"
    return Belief(conf, tuple(dict.fromkeys(ids)), tuple(dict.fromkeys(lines)), why)


def _touches(change: Change, ref: ResourceRef) -> bool:
    """Whether a change record names this resource (or its namespace)."""
    if ref.namespace and ref.namespace in change.names:
        return True
    return any(_related(n, ref.name) for n in (change.target, *change.names))


@functools.lru_cache(maxsize=8192)  # pure; every change is weighed against each name
def _related(a: str, b: str) -> bool:
    if a in b or b in a:
        return True
    ta = {t for t in a.split("-") if len(t) >= 4}
    tb = {t for t in b.split("-") if len(t) >= 4}
    return bool(ta & tb)
