"""Where investigation workers run (a local sandboxed process or a Kubernetes Job),
and what a worker is given: its non-secret settings and the files it may read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nightshift.runtime.executors.local import LocalExecutor
from nightshift.runtime.executors.local_sandbox import detect as detect_sandbox
from nightshift.runtime.executors.local_sandbox import hidden_paths
from nightshift.runtime.executors.protocol import Executor, ExitHandler
from nightshift.settings import Settings
from nightshift.sources.config import SourceKind, SourcesFile, load_sources_file
from nightshift.sources.files import named_files

ExecutorFactory = Callable[[Settings, ExitHandler], Executor]


def load_sources(settings: Settings) -> SourcesFile:
    """The declared evidence sources; none without a sources file (simulated only).
    A broken file stops the start with its message: better than investigations that
    silently read nothing."""
    if settings.sources_file is None:
        return SourcesFile()
    return load_sources_file(settings.sources_file)


def worker_env(settings: Settings, sources: SourcesFile) -> dict[str, str]:
    """Non-secret settings a worker needs: its secret backend, and whether it reads the
    cluster as its pod's own ServiceAccount (a kubernetes source with no address)."""
    env = settings.worker_settings().env()
    in_cluster = any(
        s.kind is SourceKind.KUBERNETES and not s.url and not s.setting("kubeconfig")
        for s in sources.sources
    )
    if in_cluster:
        env["NIGHTSHIFT_WORKER_CLUSTER_IDENTITY"] = "serviceaccount"
    return env


def worker_files(settings: Settings, sources: SourcesFile) -> tuple[Path, ...]:
    """The local files a worker reads: its sources' and its settings' (the sandbox
    shows it these, read-only, and no others of the host's)."""
    named = list(named_files(sources))
    if settings.secrets_backend == "vault" and settings.vault_cacert:
        named.append(Path(settings.vault_cacert))
    return tuple(named)


def local_executor(settings: Settings, on_exit: ExitHandler) -> Executor:
    hidden = hidden_paths(
        settings.data_dir,
        settings.database_url,
        (settings.secrets_path, settings.audit_anchor_key_path),
    )
    return LocalExecutor(
        settings.logs_dir,
        on_exit,
        template=settings.worker_template,
        sandbox=detect_sandbox(
            settings.worker_sandbox, hidden, worker_files(settings, load_sources(settings))
        ),
    )


def kubernetes_executor(settings: Settings, on_exit: ExitHandler) -> Executor:
    """One Job per investigation; the python client is imported only when chosen."""
    from nightshift.k8s.client import KubeApi, load_access
    from nightshift.k8s.jobs import JobTemplate
    from nightshift.runtime.executors.kubernetes import KubernetesExecutor

    access = load_access(settings.k8s_kubeconfig or None, settings.k8s_context or None)
    template = JobTemplate(
        namespace=settings.k8s_namespace,
        image=settings.k8s_worker_image,
        ttl_seconds_after_finished=settings.k8s_job_ttl_seconds,
        kueue_queue=settings.k8s_kueue_queue or None,
        kueue_priority_class=settings.k8s_kueue_priority,
    )
    return KubernetesExecutor(KubeApi(access), template, on_exit)


EXECUTORS: dict[str, ExecutorFactory] = {
    "local": local_executor,
    "kubernetes": kubernetes_executor,
}
