"""Reading a text/event-stream as WHATWG HTML's "event stream interpretation" says.

Lines end at CRLF, LF or CR, and nowhere else: `str.splitlines()` (what requests' `iter_lines`
uses) also splits at U+2028, U+0085 and others, which a JSON document may hold raw inside a string.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Event:
    type: str
    data: str


def events(chunks: Iterable[bytes]) -> Iterator[Event]:
    """The events of a stream arriving in chunks of any size; comments, `id` and `retry` are passed
    over, and an event the stream ends in the middle of is not given."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")  # one leading BOM is dropped
    reader = _Reader()
    pending = ""
    for chunk in chunks:
        text = pending + decoder.decode(chunk)
        # a CR at the end may be the first half of a CRLF: it is kept until the next chunk says
        whole = len(text) - 1 if text.endswith("\r") else len(text)
        *lines, rest = LINE_END.split(text[:whole])
        pending = rest + text[whole:]
        for line in lines:
            if (event := reader.line(line)) is not None:
                yield event
    for line in LINE_END.split(pending + decoder.decode(b"", final=True))[:-1]:
        if (event := reader.line(line)) is not None:
            yield event


class _Reader:
    def __init__(self) -> None:
        self.type, self.data = "", list[str]()

    def line(self, line: str) -> Event | None:
        """The event a blank line ends, or None."""
        if line == "":
            event = Event(self.type or "message", "\n".join(self.data)) if self.data else None
            self.type, self.data = "", []
            return event
        if line.startswith(":"):
            return None  # a comment: heartbeats
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self.type = value
        elif field == "data":
            self.data.append(value)
        return None
