"""Reading responses in tests, whether streamed (published files) or not."""

from __future__ import annotations

import json


def body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def text(response) -> str:
    return body(response).decode()


def as_json(response):
    return json.loads(body(response))
