"""The API's JSON: UTF-8 text, and still a valid answer when an error message quotes bad input.

JSON may spell a lone UTF-16 surrogate (`"\\ud800"`), and a refusal that names the bad value
quotes it back; UTF-8 cannot carry it. Such an answer is written with ASCII escapes instead, which
every JSON reader decodes to the same strings.
"""

from __future__ import annotations

import json

from rest_framework.renderers import JSONRenderer


class TextJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            text = json.dumps(data, cls=self.encoder_class, ensure_ascii=True, allow_nan=not self.strict)
            return text.encode("ascii")
