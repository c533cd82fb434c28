"""The simulated incident world's scenarios, as the submission path sees them."""

from __future__ import annotations

from nightshift.services.ports import ScenarioBrief


class ShippedScenarios:
    """The simulated incident world's scenarios, as the submission path sees them.

    Parsing a large scenario costs tens of milliseconds, so briefs are cached
    for the life of the process (a changed scenario file is seen after a restart).
    """

    def __init__(self) -> None:
        self._cache: dict[str, ScenarioBrief | None] = {}

    def warm(self) -> None:
        """Every shipped scenario's brief, now: the first submission naming one paid
        ~0.3 s for importing the simulated world and parsing its file."""
        from nightshift.scenarios import list_scenarios

        for info in list_scenarios():
            self.describe(info.name)

    def describe(self, name: str) -> ScenarioBrief | None:
        if name not in self._cache:
            self._cache[name] = self._load(name)
        return self._cache[name]

    @staticmethod
    def _load(name: str) -> ScenarioBrief | None:
        from nightshift.scenarios import ScenarioError, load_installed

        try:
            sc = load_installed(name)  # a name from a request: never a path
        except ScenarioError:
            return None
        trigger = sc.trigger
        question = trigger.question or (
            f"{trigger.alert}: {trigger.summary}" if trigger.alert else trigger.summary
        )
        return ScenarioBrief(
            name=sc.metadata.name,
            question=" ".join(question.split()),
            tier=sc.metadata.tier,
            domains=tuple(sc.metadata.domains),
            alert={"alertname": trigger.alert} if trigger.alert else {},
        )
