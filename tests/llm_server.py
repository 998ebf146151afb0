"""A real local HTTP server speaking the OpenAI-compatible and Ollama chat protocols, replying from a script."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    delay_s: float = 0.0


@dataclass
class ScriptedLLM:
    """Serves the scripted replies in order (the last one repeats) and records every request body."""

    replies: list[Reply] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)

    def next_reply(self) -> Reply:
        index = min(len(self.requests) - 1, len(self.replies) - 1)
        return self.replies[index] if self.replies else Reply("{}")


def _handler(script: ScriptedLLM):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if self.path == "/api/show":  # Ollama clients ask what the model is before chatting
                self._send(
                    200,
                    {
                        "modelfile": "",
                        "parameters": "",
                        "template": "",
                        "capabilities": ["completion"],
                        "details": {"family": "llama"},
                        "model_info": {"general.architecture": "llama", "llama.context_length": 8192},
                    },
                )
                return
            script.requests.append({"path": self.path, "body": body})
            reply = script.next_reply()
            time.sleep(reply.delay_s)
            if reply.status != 200:
                self._send(reply.status, {"error": {"message": "scripted failure", "type": "server_error"}})
            elif self.path.endswith("/chat/completions"):
                self._send(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": reply.content},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    },
                )
            elif self.path == "/api/chat":
                self._send(
                    200,
                    {
                        "model": body.get("model"),
                        "created_at": "2026-01-01T00:00:00Z",
                        "message": {"role": "assistant", "content": reply.content},
                        "done": True,
                        "done_reason": "stop",
                    },
                )
            else:
                self._send(404, {"error": f"no route {self.path}"})

        def _send(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

    return Handler


class LLMServer:
    """Runs a ScriptedLLM on 127.0.0.1 at a free port, in a background thread."""

    def __init__(self):
        self.script = ScriptedLLM()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.script))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def script_replies(self, *replies: Reply) -> None:
        self.script.replies[:] = list(replies)
        self.script.requests.clear()

    def __enter__(self) -> LLMServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
