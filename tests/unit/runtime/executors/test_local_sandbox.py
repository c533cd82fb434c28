"""Choosing the workers' sandbox: without bubblewrap, ``auto`` starts unsandboxed
with a loud warning and ``bwrap`` refuses to start; ``off`` never sandboxes. And
what the bwrap command line shows: nothing of the host but what it names."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from nightshift.runtime.executors.local_sandbox import Sandbox, SandboxUnavailable, detect


@pytest.fixture
def no_bwrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))


def test_auto_without_bwrap_runs_unsandboxed_and_says_so_loudly(
    no_bwrap: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "nightshift.executor.sandbox"):
        assert detect("auto", ()) is None
    assert "LOCAL WORKERS RUN UNSANDBOXED" in caplog.text
    assert "bubblewrap" in caplog.text


def test_bwrap_required_without_bwrap_refuses_to_start(no_bwrap: None) -> None:
    with pytest.raises(SandboxUnavailable, match="NIGHTSHIFT_WORKER_SANDBOX=bwrap"):
        detect("bwrap", ())


def test_off_never_sandboxes(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert detect("off", ()) is None
    assert caplog.text == ""


def _mounts(argv: list[str]) -> dict[str, str]:
    """Destination -> how it is mounted, from a bwrap command line."""
    got: dict[str, str] = {}
    i = 1
    while argv[i] != "--":
        flag = argv[i]
        if flag in ("--ro-bind", "--ro-bind-try", "--bind", "--symlink"):
            got[argv[i + 2]] = f"{flag} {argv[i + 1]}"
            i += 3
        elif flag in ("--tmpfs", "--dev", "--proc", "--remount-ro", "--chdir"):
            got.setdefault(argv[i + 1], flag)
            i += 2
        elif flag == "--cap-drop":
            i += 2
        else:
            i += 1
    return got


def test_the_host_shows_only_the_system_python_and_named_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    named = tmp_path / "ca.crt"
    inside = data / "copied-ca.crt"  # named, but inside the plane's data
    sandbox = Sandbox("bwrap", (data.resolve(),), (named, inside))
    argv = sandbox.command(["true"], [tmp_path / "scratch"], tmp_path / "scratch", {})
    mounts = _mounts(argv)
    assert argv[:3] == ["bwrap", "--tmpfs", "/"]
    assert mounts[str(named)] == f"--ro-bind-try {named}"
    assert str(inside) not in mounts
    assert mounts[str(tmp_path / "scratch")].startswith("--bind ")
    assert mounts["/usr"] == "--ro-bind /usr"
    assert Path(sys.base_prefix).resolve() == Path("/usr") or any(
        Path(dest) == Path(sys.base_prefix).resolve() for dest in mounts
    )
    # Nothing binds the host's root, its home or its /tmp.
    binds = {d: m for d, m in mounts.items() if m.startswith(("--ro-bind", "--bind"))}
    assert "/" not in binds and "/tmp" not in binds and str(Path.home()) not in binds
    assert mounts["/tmp"] == "--tmpfs"
    for flag in ("--unshare-pid", "--die-with-parent", "--remount-ro"):
        assert flag in argv
