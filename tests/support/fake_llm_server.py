"""A local model server for tests: speaks the OpenAI chat-completions and the
Anthropic messages wire formats on 127.0.0.1 and replays scripted replies.

The real SDKs talk to it over real HTTP, so the code path is the production
one with only the base URL changed. A script item is a ``Reply`` (status,
JSON body, headers, an optional delay to provoke client timeouts, or a list
of server-sent events for streaming) or a function of the received request.
When the script runs out, ``responder`` (if set) answers.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any

from nightshift.agent.reasoners.llm.provider import ChatRequest, ChatResponse, ToolDef

_ids = count(1)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def is_anthropic(self) -> bool:
        return self.path.rstrip("/").endswith("/messages") and "/chat/" not in self.path


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    sse: Sequence[str] | None = None
    raw: bytes | None = None


Script = Reply | Callable[[Received], Reply]


class FakeLLMServer:
    def __init__(self) -> None:
        self.script: deque[Script] = deque()
        self.received: list[Received] = []
        self.responder: Callable[[Received], Reply] | None = None
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # a deliberately hanging reply must not block stop()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def openai_base(self) -> str:
        return f"{self.url}/v1"

    def start(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def push(self, *items: Script) -> None:
        self.script.extend(items)

    def next_reply(self, received: Received) -> Reply:
        with self._lock:
            self.received.append(received)
            item = self.script.popleft() if self.script else self.responder
        if item is None:
            return Reply(500, {"error": {"message": "fake server: script exhausted"}})
        return item if isinstance(item, Reply) else item(received)


def _handler(server: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            body = json.loads(raw or b"{}")
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = server.next_reply(Received(self.path, headers, body))
            if reply.delay_s:
                time.sleep(reply.delay_s)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._send(reply)  # a client that timed out is gone: nothing to tell it

        def _send(self, reply: Reply) -> None:
            if reply.sse is not None:
                self.send_response(reply.status)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                for event in reply.sse:
                    self.wfile.write(event.encode() + b"\n\n")
                    self.wfile.flush()
                self.close_connection = True
                return
            data = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

    return Handler


# -- OpenAI chat completions -------------------------------------------------
def openai_reply(
    calls: Sequence[tuple[str, str]] = (),
    *,
    content: str | None = None,
    prompt_tokens: int = 1200,
    completion_tokens: int = 80,
    cached_tokens: int = 0,
    model: str = "gpt-test",
) -> Reply:
    """``calls``: (tool name, raw JSON arguments) pairs, malformed JSON allowed."""
    tool_calls = [
        {"id": f"call_{next(_ids)}", "type": "function", "function": {"name": n, "arguments": a}}
        for n, a in calls
    ]
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return Reply(
        body={
            "id": f"chatcmpl-{next(_ids)}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if tool_calls else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": cached_tokens},
            },
        }
    )


def openai_stream(
    calls: Sequence[tuple[str, str]],
    *,
    prompt_tokens: int = 1200,
    completion_tokens: int = 80,
    cached_tokens: int = 0,
    model: str = "gpt-test",
) -> Reply:
    """The same answer as SSE chunks; each call's arguments arrive in two deltas."""
    base = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": model}
    events = []
    for i, (name, args) in enumerate(calls):
        half = len(args) // 2
        for j, piece in enumerate((args[:half], args[half:])):
            fn: dict[str, Any] = {"arguments": piece}
            tc: dict[str, Any] = {"index": i, "function": fn}
            if j == 0:
                tc |= {"id": f"call_s{i}", "type": "function"}
                fn["name"] = name
            delta = {"role": "assistant", "tool_calls": [tc]}
            choice = {"index": 0, "delta": delta, "finish_reason": None}
            events.append("data: " + json.dumps(base | {"choices": [choice]}))
    done = {"index": 0, "delta": {}, "finish_reason": "tool_calls"}
    events.append("data: " + json.dumps(base | {"choices": [done]}))
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_tokens},
    }
    events.append("data: " + json.dumps(base | {"choices": [], "usage": usage}))
    events.append("data: [DONE]")
    return Reply(sse=events)


# -- Anthropic messages --------------------------------------------------------
def anthropic_reply(
    uses: Sequence[tuple[str, dict[str, Any]]] = (),
    *,
    text: str | None = None,
    input_tokens: int = 300,
    output_tokens: int = 80,
    cache_read: int = 0,
    cache_write: int = 0,
    model: str = "claude-test",
) -> Reply:
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    content += [
        {"type": "tool_use", "id": f"toolu_{next(_ids)}", "name": n, "input": i} for n, i in uses
    ]
    return Reply(
        body={
            "id": f"msg_{next(_ids)}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": "tool_use" if uses else "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cache_read_input_tokens": cache_read,
                "cache_creation_input_tokens": cache_write,
            },
        }
    )


def anthropic_stream(
    uses: Sequence[tuple[str, dict[str, Any]]],
    *,
    input_tokens: int = 300,
    output_tokens: int = 80,
    cache_read: int = 0,
    model: str = "claude-test",
) -> Reply:
    def ev(kind: str, data: dict[str, Any]) -> str:
        return f"event: {kind}\ndata: {json.dumps(data | {'type': kind})}"

    usage = {
        "input_tokens": input_tokens,
        "output_tokens": 1,
        "cache_read_input_tokens": cache_read,
        "cache_creation_input_tokens": 0,
    }
    message: dict[str, Any] = {
        "id": "msg_stream",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    events = [ev("message_start", {"message": message})]
    for i, (name, args) in enumerate(uses):
        block = {"type": "tool_use", "id": f"toolu_s{i}", "name": name, "input": {}}
        events.append(ev("content_block_start", {"index": i, "content_block": block}))
        text = json.dumps(args)
        half = len(text) // 2
        for piece in (text[:half], text[half:]):
            delta = {"type": "input_json_delta", "partial_json": piece}
            events.append(ev("content_block_delta", {"index": i, "delta": delta}))
        events.append(ev("content_block_stop", {"index": i}))
    events.append(
        ev(
            "message_delta",
            {
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        )
    )
    events.append(ev("message_stop", {}))
    return Reply(sse=events)


# -- failures --------------------------------------------------------------------
def error_reply(status: int, message: str = "scripted failure", **headers: str) -> Reply:
    body = {"type": "error", "error": {"type": "api_error", "message": message}}
    return Reply(status, body, {k.replace("_", "-"): v for k, v in headers.items()})


def rate_limited(retry_after: str = "1") -> Reply:
    return error_reply(429, "rate limited", retry_after=retry_after)


def hang(seconds: float) -> Reply:
    """Answers too late: a client with a shorter timeout sees a timeout."""
    return Reply(delay_s=seconds, body={"error": {"message": "too late"}}, status=500)


# -- serving a ChatModel-like function over the wire --------------------------
def chat_responder(answer: Callable[[ChatRequest], ChatResponse]) -> Callable[[Received], Reply]:
    """Serve a synchronous ``ChatRequest -> ChatResponse`` function (a scripted
    model's brain) in whichever wire format the request arrived in."""

    def respond(received: Received) -> Reply:
        body = received.body
        tools = tuple(
            ToolDef(t["name"], t.get("description", ""), t["input_schema"])
            if received.is_anthropic
            else ToolDef(
                t["function"]["name"],
                t["function"].get("description", ""),
                t["function"]["parameters"],
            )
            for t in body.get("tools", ())
        )
        if received.is_anthropic:
            system = "".join(b["text"] for b in body["system"])
            user = str(body["messages"][0]["content"])
        else:
            system = str(body["messages"][0]["content"])
            user = str(body["messages"][1]["content"])
        limit = int(body.get("max_tokens") or body.get("max_completion_tokens") or 1024)
        response = answer(ChatRequest(system, user, tools, limit))
        usage = response.usage
        if received.is_anthropic:
            uses = [(c.name, json.loads(c.arguments)) for c in response.tool_calls]
            return anthropic_reply(
                uses,
                input_tokens=usage.input_tokens - usage.cached_tokens - usage.cache_write_tokens,
                output_tokens=usage.output_tokens,
                cache_read=usage.cached_tokens,
                cache_write=usage.cache_write_tokens,
                model=str(body["model"]),
            )
        return openai_reply(
            [(c.name, c.arguments) for c in response.tool_calls],
            prompt_tokens=usage.input_tokens,
            completion_tokens=usage.output_tokens,
            cached_tokens=usage.cached_tokens,
            model=str(body["model"]),
        )

    return respond
