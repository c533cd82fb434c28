"""GitOps: what a Git working copy declares, and agents' changes written back to it.

When an agent's approved action changes an object that Git declares, Git must
say so too, or the GitOps controller undoes the fix at its next sync (or, with
sync off, the repository silently stops describing production). This package
reads the working copy (which objects it declares, in which file), writes the
equivalent commit, reverts it on rollback, and attributes drift to its author.
"""
