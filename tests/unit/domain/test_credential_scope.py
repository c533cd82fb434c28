"""The domains a worker's credentials cover (domain/credential_scope.py)."""

from __future__ import annotations

from nightshift.domain.credential_scope import credential_domains


def test_an_agent_without_a_model_gets_exactly_the_spec_domains() -> None:
    assert credential_domains(["kubernetes", "database"], {}) == ("kubernetes", "database")
    assert credential_domains(["kubernetes"], None) == ("kubernetes",)


def test_an_agent_with_a_model_also_gets_the_application_domain_for_its_key() -> None:
    llm = {"llm": {"provider": "anthropic", "model": "claude"}}
    assert credential_domains(["kubernetes"], llm) == ("kubernetes", "application")
    assert credential_domains([], llm) == ("application",)
    assert credential_domains(None, llm) == ("application",)


def test_the_application_domain_is_never_named_twice() -> None:
    llm = {"llm": {"provider": "openai"}}
    assert credential_domains(["application", "database"], llm) == ("application", "database")


def test_an_empty_model_setting_is_no_model() -> None:
    assert credential_domains(["database"], {"llm": {}}) == ("database",)
    assert credential_domains(["database"], {"llm": None}) == ("database",)
