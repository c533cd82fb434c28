"""Model adapters: the agent's ``ChatModel`` protocol over the official SDKs.

The agent layer never imports an SDK (an import-linter contract); this package
does, and ``factory.build_reasoner`` composes an LLM reasoner from an agent's
plain configuration and the API key the secret broker handed out. The SDKs
are the optional ``llm`` extra; only the backend modules import them, and only
``factory`` imports those, when a provider is configured.
"""
