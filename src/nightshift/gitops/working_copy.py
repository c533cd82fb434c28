"""A Git working copy, driven through the ``git`` command.

Nightshift commits only onto a clean, up-to-date checkout: a dirty tree would mix
someone's unfinished edit into the agent's commit, and a diverged branch would
make the commit conflict at push. Either is refused with the reason, never
"fixed" by resetting someone else's work.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


class GitOpsRefused(Exception):
    """The working copy cannot take a commit now; ``str(self)`` says why."""


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    subject: str


class WorkingCopy:
    def __init__(self, root: Path, *, author: str = "Nightshift <nightshift@localhost>") -> None:
        self.root = root
        self._author = author

    def git(self, *args: str, check: bool = True, stdin: str | None = None) -> str:
        done = subprocess.run(
            ["git", "-C", str(self.root), *args],
            input=stdin, capture_output=True, text=True, env=self._env(), timeout=60, check=False,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise GitOpsRefused(f"git {' '.join(args[:2])} failed: {done.stderr.strip()[:500]}")
        return done.stdout

    def require_ready(self) -> None:
        """Refuse a dirty tree and a branch that diverged from its upstream."""
        if not (self.root / ".git").exists():
            raise GitOpsRefused(f"{self.root} is not a git working copy")
        dirty = self.git("status", "--porcelain", "--untracked-files=no").strip()
        if dirty:
            first = dirty.splitlines()[0]
            raise GitOpsRefused(f"the working copy has uncommitted changes ({first.strip()} ...)")
        upstream = self.git("rev-parse", "--abbrev-ref", "@{upstream}", check=False).strip()
        if upstream and "fatal" not in upstream:
            counts = self.git("rev-list", "--left-right", "--count", "HEAD...@{upstream}").split()
            ahead, behind = (int(c) for c in counts)
            if behind:
                raise GitOpsRefused(
                    f"the branch is {behind} commit(s) behind {upstream} and {ahead} ahead; "
                    "pull before Nightshift can commit"
                )

    def commit(self, files: list[Path], message: str) -> Commit:
        self.git("add", "--", *(str(f.relative_to(self.root)) for f in files))
        if not self.git("diff", "--cached", "--name-only").strip():
            raise GitOpsRefused("Git already declares this state: nothing to commit")
        self.git("commit", "--quiet", "-F", "-", stdin=message)
        return self.head()

    def _env(self) -> dict[str, str]:
        """Only what git needs: no user or system config changes what it does or prints."""
        name, _, email = self._author.partition(" <")
        return {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email.rstrip(">"),
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email.rstrip(">"),
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.root),  # no ~/.gitconfig
            "GIT_CONFIG_NOSYSTEM": "1",
            "LC_ALL": "C",
        }

    def head(self) -> Commit:
        sha, _, subject = self.git("log", "-1", "--format=%H %s").strip().partition(" ")
        return Commit(sha, subject)

    def revert(self, sha: str, message: str) -> Commit:
        self.require_ready()
        try:
            self.git("revert", "--no-edit", "--no-commit", sha)
            self.git("commit", "--quiet", "-F", "-", stdin=message)
        except GitOpsRefused:
            self.git("revert", "--abort", check=False)
            raise
        return self.head()

    def commits_with_trailer(self, key: str, value: str) -> list[Commit]:
        """Commits whose message has ``key: value`` as a trailer line."""
        out = self.git("log", f"--grep=^{key}: {value}$", "--format=%H %s")
        return [Commit(*line.split(" ", 1)) for line in out.splitlines() if " " in line]
