"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 for fault tests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def models_body(owned_by: str, model: str = "m") -> bytes:
    """What /v1/models answers, as a server of some family would."""
    return json.dumps({"object": "list", "data": [{"id": model, "object": "model",
                                                   "owned_by": owned_by}]}).encode()


def completion_body(n: int, text: str = " Paris", chat: bool = False) -> bytes:
    if chat:
        choices = [{"index": i, "message": {"role": "assistant", "content": text.strip()},
                    "finish_reason": "stop", "logprobs": None} for i in range(n)]
        obj = "chat.completion"
    else:
        choices = [{"index": i, "text": text, "finish_reason": "stop",
                    "logprobs": {"tokens": [text], "token_logprobs": [-0.5],
                                 "top_logprobs": None, "text_offset": [0]}}
                   for i in range(n)]
        obj = "text_completion"
    return json.dumps({"id": "x", "object": obj, "created": 0, "model": "m",
                       "choices": choices,
                       "usage": {"prompt_tokens": 7, "completion_tokens": n,
                                 "total_tokens": 7 + n}}).encode()


class FakeServer:
    """``script``: a list of actions taken by successive requests; when it runs out, ``default``
    answers. An action is a callable (request dict) -> (status, headers, body bytes) or the
    string "hang" (answer nothing until the server stops: only the client's own timeout ends the
    request, however fast or slow this machine is) or "drip" (send the headers, then a byte now
    and then until the server stops: each byte would restart a per-read timeout). A callable
    that returns None drops the connection unanswered."""

    def __init__(self, script=None, default=None, get=None):
        self.script = list(script or [])
        self.default = default or (lambda req: (200, {}, completion_body(req.get("n", 1))))
        self.get = get or (lambda path: (404, {}, b'{"error": {"message": "not here"}}'))
        self.requests: list[dict] = []
        self.stopping = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                status, headers, payload = outer.get(self.path)
                self._answer(status, headers, payload)

            def _answer(self, status, headers, payload):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                action = outer.script.pop(0) if outer.script else outer.default
                if action == "hang":
                    outer.stopping.wait()
                    return
                if action == "drip":  # headers, then a byte at a time until the server stops
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(1 << 20))
                    self.end_headers()
                    while not outer.stopping.wait(0.05):
                        try:
                            self.wfile.write(b" ")
                            self.wfile.flush()
                        except OSError:  # the client gave up
                            return
                    return
                answer = action(body)
                if answer is None:  # drop the connection without a word, as a dying process
                    self.close_connection = True
                    return
                self._answer(*answer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def status(code, headers=None, body=b'{"error": {"message": "scripted"}}'):
    return lambda req: (code, headers or {}, body)
