"""Read the elements of a (possibly huge) JSON array one at a time, with a byte cap.

Alertmanager answers ``/api/v2/alerts`` with every alert in one array, and a
Prometheus range query with every series in ``data.result``; neither can be
asked for less. Decoding such an answer whole would hold it all in memory, so
adapters feed the response stream here and fold each element into a summary
as it arrives: memory is one element plus what the adapter keeps. Reading stops
at ``max_bytes``; the adapter then says the answer was cut.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

_WS = " \t\r\n"


class StreamCut(Exception):
    """The answer went past the byte cap; ``elements`` were read before it."""

    def __init__(self, max_bytes: int, elements: int) -> None:
        super().__init__(f"answer larger than {max_bytes} bytes (cut after {elements} elements)")
        self.max_bytes = max_bytes
        self.elements = elements


class GarbageAnswer(ValueError):
    """The answer is not the JSON the API promises."""


async def array_elements(
    chunks: AsyncIterator[bytes],
    *,
    opening: str = r"\[",
    max_bytes: int,
    max_element_bytes: int = 4 << 20,
) -> AsyncGenerator[dict[str, Any], None]:
    """Yield each object of the array whose opening bracket ``opening`` (a regex
    ending at ``[``) finds, e.g. ``r'"result"\\s*:\\s*\\['`` for Prometheus."""
    decoder = json.JSONDecoder()
    utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
    start = re.compile(opening)
    buf = ""
    pos = 0
    read = 0
    count = 0
    started = False
    ended = False
    over = False
    source = aiter(chunks)
    while True:
        if not started:
            m = start.search(buf)
            if m is not None:
                started, pos = True, m.end()
            elif len(buf) > max_element_bytes:
                raise GarbageAnswer("no JSON array where one was expected")
        while started:
            while pos < len(buf) and (buf[pos] in _WS or buf[pos] == ","):
                pos += 1
            if pos >= len(buf):
                break
            if buf[pos] == "]":
                return
            if buf[pos] != "{":
                raise GarbageAnswer(f"unexpected {buf[pos]!r} in a JSON array of objects")
            try:
                element, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError:
                if ended:
                    raise GarbageAnswer("the answer ends inside a JSON object") from None
                if len(buf) - pos > max_element_bytes:
                    raise GarbageAnswer(
                        f"one element is larger than {max_element_bytes} bytes"
                    ) from None
                break  # incomplete: read more
            count += 1
            yield element
            pos = end
        if ended:
            raise GarbageAnswer("the answer ends before its JSON array does")
        if over:  # every whole element within the cap has been yielded
            raise StreamCut(max_bytes, count)
        buf = buf[pos:] if started else buf[-256:]
        pos = 0
        try:
            chunk = await anext(source)
        except StopAsyncIteration:
            ended = True
            buf += utf8.decode(b"", final=True)
            continue
        read += len(chunk)
        if read > max_bytes:
            chunk, over = chunk[: len(chunk) - (read - max_bytes)], True
        buf += utf8.decode(chunk)
