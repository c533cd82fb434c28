"""``nightshift changes post`` / ``list`` as the installed script against a real
``nightshift up``: a service principal posts, a viewer reads, bad input exits 2 or 4."""

from __future__ import annotations

import pytest

from tests.integration.cli.conftest import Cli

pytestmark = pytest.mark.slow
EXIT_USAGE, EXIT_API = 2, 4


@pytest.fixture(scope="module")
def sender(cli: Cli) -> str:
    cli("users", "create", "deploy-bot", "--kind", "service", "--role", "change-sender")
    return cli("tokens", "create", "--user", "deploy-bot").out.strip()


def test_a_change_sender_posts_an_object_and_a_free_form_change(cli: Cli, sender: str) -> None:
    out = cli(
        "changes", "post", "--id", "REL-1.5", "--kind", "deploy", "--domain", "application",
        "--actor", "argocd (shop)", "--target", "shop/Deployment/checkout",
        "--summary", "checkout 1.4 -> 1.5", "--link", "https://ci.example/run/77", token=sender,
    ).out  # fmt: skip
    assert "recorded change REL-1.5: deploy shop/Deployment/checkout" in out
    posted = cli(
        "changes", "post", "--kind", "firewall", "--domain", "network", "--actor", "netops",
        "--target", "fw-dc-edge ruleset mail-relays", "--summary", "allow tcp/587 to relay-03",
        "--json", token=sender,
    ).json()  # fmt: skip
    assert posted["target"] == "fw-dc-edge ruleset mail-relays" and posted["ref"].startswith("CHG-")


def test_list_shows_the_feed_newest_first_and_filters(cli: Cli, sender: str) -> None:
    cli("changes", "post", "--id", "CFG-9", "--kind", "config", "--domain", "application",
        "--actor", "h.novak", "--target", "ConfigMap/fx-rates", "--namespace", "pricing",
        "--summary", "REFRESH_INTERVAL 60m -> 30m", "--at", "2026-12-01T01:00:00Z",
        token=sender)  # fmt: skip
    listed = cli("changes", "list", "--since", "7d", "--json").json()
    refs = [c["ref"] for c in listed]
    assert refs.index("CFG-9") == len(refs) - 1  # the oldest comes last
    assert listed[-1]["target"] == "pricing/ConfigMap/fx-rates"
    table = cli("changes", "list", "--since", "7d", "--domain", "network").out
    assert "fw-dc-edge ruleset mail-relays" in table and "REL-1.5" not in table
    by_target = cli("changes", "list", "--since", "7d", "--target", "checkout", "--json").json()
    assert [c["ref"] for c in by_target] == ["REL-1.5"]


def test_a_sender_cannot_read_and_bad_input_is_refused_with_the_field(
    cli: Cli, sender: str
) -> None:
    denied = cli("changes", "list", token=sender, expect=EXIT_API)
    assert "403" in denied.err and "viewer" in denied.err
    bad = cli(
        "changes", "post", "--kind", "rollback", "--domain", "application", "--actor", "me",
        "--target", "x", "--summary", "y", token=sender, expect=EXIT_API,
    )  # fmt: skip
    assert "422" in bad.err and "kind" in bad.err
    usage = cli(
        "changes", "post", "--kind", "deploy", "--domain", "application", "--actor", "me",
        "--target", "free text", "--namespace", "shop", "--summary", "y", expect=EXIT_USAGE,
    )  # fmt: skip
    assert "--namespace goes with an object target" in usage.err
