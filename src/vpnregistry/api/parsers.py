"""The API's JSON parser: DRF's, refusing JSON nested deeper than any request of ours needs.

Python's JSON decoder recurses once per level of nesting, so a body of a thousand `[` raised
RecursionError, a 500, on every endpoint that reads JSON (the anonymous status lookup included);
a body a little shallower than that got through the decoder and could still exhaust the stack in
whatever walked it next (validation, an error message quoting it back). No request body of this
API nests more than a few levels, so the depth is counted before anything recurses, and a body
deeper than MAX_DEPTH is refused with a 400 that says so. RecursionError is still caught, in case
the decoder is ever entered with less stack than expected.
"""

from __future__ import annotations

import codecs
import re
from itertools import accumulate

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DRFJSONParser
from rest_framework.parsers import get_encoding
from rest_framework.utils import json

MAX_DEPTH = 64

# A JSON string: the brackets inside it are text, not nesting. An unterminated one runs to the end
# of the body (the decoder names the error); the closing quote being optional, a match never fails,
# so the scan is linear whatever the body holds.
_STRING = re.compile(r'"(?:[^"\\]+|\\.)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nested_too_deep(text: str) -> bool:
    """Whether JSON text nests arrays and objects deeper than MAX_DEPTH, counted without recursion."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > MAX_DEPTH


def _too_deep() -> ParseError:
    return ParseError(_("JSON nested deeper than %(n)d levels is refused.") % {"n": MAX_DEPTH})


class JSONParser(DRFJSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read() if stream is not None else ""
            if nested_too_deep(text):
                raise _too_deep()
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except RecursionError as exc:
            raise _too_deep() from exc
        except ValueError as exc:  # UnicodeDecodeError included, as DRF's own parser answers it
            raise ParseError(
                _("JSON parse error: the body is not valid JSON (%(error)s).") % {"error": exc}
            ) from exc
