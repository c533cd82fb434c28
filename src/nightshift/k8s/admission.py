"""ValidatingAdmissionPolicies (CEL) that hold whatever RBAC says.

(a) Every ServiceAccount in the agents' namespace names its accountable owner
    and its authority class, or it is refused at the door.
(b) An advisory agent's ServiceAccount can never write: the policy rejects the
    request even if someone bound it to cluster-admin. Which accounts are
    advisory is a ConfigMap parameter rendered from the registry (CEL cannot
    read a ServiceAccount's labels at request time); a missing parameter denies.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nightshift.domain.vocabulary import AuthorityClass

ANNOTATION_OWNER = "nightshift.io/owner"
LABEL_CLASS = "nightshift.io/authority-class"
OWNERSHIP_POLICY = "nightshift-agent-serviceaccount-ownership"
ADVISORY_POLICY = "nightshift-advisory-agents-read-only"
ADVISORY_PARAMS = "nightshift-advisory-agents"
_API = "admissionregistration.k8s.io/v1"
_MANAGED = {"app.kubernetes.io/managed-by": "nightshift"}


def ownership_policy(agents_namespace: str) -> list[dict[str, Any]]:
    classes = ", ".join(f"'{c.value}'" for c in AuthorityClass)
    expression = (
        f"has(object.metadata.annotations) && '{ANNOTATION_OWNER}' in object.metadata.annotations"
        f" && object.metadata.annotations['{ANNOTATION_OWNER}'] != ''"
        f" && has(object.metadata.labels) && '{LABEL_CLASS}' in object.metadata.labels"
        f" && object.metadata.labels['{LABEL_CLASS}'] in [{classes}]"
    )
    policy = {
        "apiVersion": _API,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": OWNERSHIP_POLICY, "labels": dict(_MANAGED)},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["serviceaccounts"],
                    }
                ]
            },
            # The namespace's `default` account is created by Kubernetes itself and is
            # bound to nothing; every other account must be accountable.
            "matchConditions": [
                {
                    "name": "not-the-default-account",
                    "expression": "object.metadata.name != 'default'",
                }
            ],
            "validations": [
                {
                    "expression": expression,
                    "message": (
                        f"ServiceAccounts in {agents_namespace} need an '{ANNOTATION_OWNER}' "
                        f"annotation and a '{LABEL_CLASS}' label (one of {classes})"
                    ),
                    "reason": "Forbidden",
                }
            ],
        },
    }
    binding = {
        "apiVersion": _API,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": OWNERSHIP_POLICY, "labels": dict(_MANAGED)},
        "spec": {
            "policyName": OWNERSHIP_POLICY,
            "validationActions": ["Deny"],
            "matchResources": {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": agents_namespace}
                }
            },
        },
    }
    return [policy, binding]


def advisory_policy(
    agents_namespace: str, advisory_accounts: Iterable[str]
) -> list[dict[str, Any]]:
    prefix = f"system:serviceaccount:{agents_namespace}:"
    params = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": ADVISORY_PARAMS,
            "namespace": agents_namespace,
            "labels": dict(_MANAGED),
        },
        # Keys are ServiceAccount names (ConfigMap keys cannot hold ':').
        "data": {name: "advisory" for name in sorted(set(advisory_accounts))},
    }
    account = f"request.userInfo.username.substring({len(prefix)})"
    policy = {
        "apiVersion": _API,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": ADVISORY_POLICY, "labels": dict(_MANAGED)},
        "spec": {
            "failurePolicy": "Fail",
            "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": ["*"],
                        "apiVersions": ["*"],
                        "operations": ["CREATE", "UPDATE", "DELETE", "CONNECT"],
                        "resources": ["*/*"],  # every resource and subresource
                        "scope": "*",
                    }
                ]
            },
            "matchConditions": [
                {
                    "name": "agent-service-account",
                    "expression": f"request.userInfo.username.startsWith('{prefix}')",
                },
                {
                    # Asking "what may I do?" is not a write.
                    "name": "not-a-review",
                    "expression": (
                        "!(request.resource.group in "
                        "['authorization.k8s.io', 'authentication.k8s.io'])"
                    ),
                },
            ],
            "validations": [
                {
                    "expression": (f"!has(params.data) || !({account} in params.data)"),
                    "messageExpression": (
                        f"'advisory agent ' + {account} + ' may not ' + request.operation"
                        " + ' ' + request.resource.resource + ': advisory identities only"
                        " recommend (Nightshift governance, whatever RBAC allows)'"
                    ),
                    "reason": "Forbidden",
                }
            ],
        },
    }
    binding = {
        "apiVersion": _API,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": ADVISORY_POLICY, "labels": dict(_MANAGED)},
        "spec": {
            "policyName": ADVISORY_POLICY,
            "validationActions": ["Deny"],
            "paramRef": {
                "name": ADVISORY_PARAMS,
                "namespace": agents_namespace,
                "parameterNotFoundAction": "Deny",
            },
        },
    }
    return [params, policy, binding]
