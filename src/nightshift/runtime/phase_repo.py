"""The GitOps working copy the control plane writes phase changes into.

The automatic demotion (runtime.demotion_git) and the console's promotion
(runtime.promotion_git) write to the same repository, with the same writer
(gitops.promotion), into the same values directory: the configured one, or the
one directory holding the environment's values files. Both resolve it at each
change, not at start-up, so a working copy made or fixed later is picked up.
"""

from __future__ import annotations

from pathlib import Path

from nightshift.domain.actions import ActionCatalog
from nightshift.gitops.promotion import PhaseWriter, find_values_dir
from nightshift.gitops.working_copy import WorkingCopy
from nightshift.secrets.policies import VaultLayout


class PhaseRepo:
    def __init__(
        self,
        repo: Path,
        environment: str,
        catalog: ActionCatalog,
        values_dir: Path | None = None,
        layout: VaultLayout | None = None,
    ) -> None:
        self._repo = repo
        self._environment = environment
        self._catalog = catalog
        self._values_dir = values_dir  # relative to repo; None: the one directory found
        self._layout = layout  # for the agent's Vault policy file in the same commit

    @property
    def environment(self) -> str:
        return self._environment

    def _directory(self) -> Path:
        root = self._repo.resolve()
        if self._values_dir is not None:
            return root / self._values_dir
        return find_values_dir(root, self._environment)

    def _writer(self, directory: Path) -> PhaseWriter:
        return PhaseWriter(
            WorkingCopy(self._repo.resolve()), directory, self._catalog, self._layout
        )
