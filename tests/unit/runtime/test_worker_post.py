"""The worker resends what certainly did not land, and nothing else."""

from __future__ import annotations

import httpx
import pytest

from nightshift.runtime import worker_post


def _client(answers: list[int | type[Exception]], seen: list[str]) -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        answer = answers.pop(0)
        if isinstance(answer, type):
            raise answer("refused", request=request)
        return httpx.Response(answer, headers={"retry-after": "0"})

    return httpx.AsyncClient(base_url="http://cp", transport=httpx.MockTransport(handle))


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_post, "_BACKOFF", (0.0, 0.0, 0.0))


async def test_a_rate_limit_a_busy_store_and_a_refused_connection_are_sent_again() -> None:
    seen: list[str] = []
    async with _client([429, 503, httpx.ConnectError, 200], seen) as client:
        resp = await worker_post.post(client, "/v1/x/worker/proposals", {"proposals": []})
    assert resp.status_code == 200 and len(seen) == 4


async def test_an_answer_that_processed_the_request_is_returned_as_is() -> None:
    seen: list[str] = []
    async with _client([409], seen) as client:
        resp = await worker_post.post(client, "/v1/x/worker/result", {})
    assert resp.status_code == 409 and len(seen) == 1


async def test_a_timeout_is_not_resent_it_may_have_landed() -> None:
    seen: list[str] = []
    async with _client([httpx.ReadTimeout], seen) as client:
        with pytest.raises(httpx.ReadTimeout):
            await worker_post.post(client, "/v1/x/worker/events", {"events": []})
    assert len(seen) == 1


async def test_after_the_last_try_the_refusal_is_the_callers() -> None:
    seen: list[str] = []
    async with _client([503, 503, 503, 503], seen) as client:
        resp = await worker_post.post(client, "/v1/x/worker/events", {"events": []})
    assert resp.status_code == 503 and len(seen) == 4
