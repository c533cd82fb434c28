"""Reading a huge JSON array element by element, whatever the chunking."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from nightshift.sources.json_stream import GarbageAnswer, StreamCut, array_elements


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def _all(data: bytes, size: int, **kw: object) -> list[dict[str, object]]:
    return [e async for e in array_elements(_chunks(data, size), **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 100_000])
async def test_every_element_is_read_whatever_the_chunk_boundaries(size: int) -> None:
    items = [{"i": i, "s": 'é \\" ] } [ {', "n": [1, 2, {"x": None}]} for i in range(20)]
    data = json.dumps(items).encode()
    assert await _all(data, size, max_bytes=1 << 20) == items


async def test_the_array_can_sit_inside_an_envelope() -> None:
    body = {"status": "success", "data": {"resultType": "matrix", "result": [{"a": 1}, {"b": 2}]}}
    data = json.dumps(body).encode()
    got = await _all(data, 5, opening=r'"result"\s*:\s*\[', max_bytes=1 << 20)
    assert got == [{"a": 1}, {"b": 2}]


async def test_an_empty_array_yields_nothing() -> None:
    assert await _all(b"[ ]", 1, max_bytes=100) == []


async def test_reading_stops_at_the_byte_cap_and_says_how_far_it_got() -> None:
    data = json.dumps([{"i": i, "pad": "x" * 50} for i in range(1000)]).encode()
    seen: list[object] = []

    async def read() -> None:
        async for element in array_elements(_chunks(data, 1000), max_bytes=10_000):
            seen.append(element)

    with pytest.raises(StreamCut) as cut:
        await read()
    assert cut.value.elements == len(seen)
    assert 100 < len(seen) < 200


@pytest.mark.parametrize(
    "body",
    [b"<html>502 Bad Gateway</html>", b'[{"a": 1}, {"b": ', b'[{"a": 1}, 3]', b'{"no": "array"}'],
)
async def test_garbage_is_an_error_not_a_partial_answer(body: bytes) -> None:
    with pytest.raises(GarbageAnswer):
        await _all(body, 4, max_bytes=1 << 20)


async def test_one_element_larger_than_its_cap_is_refused() -> None:
    data = json.dumps([{"big": "y" * 5000}]).encode()
    with pytest.raises(GarbageAnswer, match="larger than"):
        await _all(data, 100, max_bytes=1 << 20, max_element_bytes=1000)
