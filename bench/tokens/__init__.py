"""Token benchmark: prompt tokens the LLM path sends per investigation."""
