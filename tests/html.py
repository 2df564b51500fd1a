"""Find elements by data-testid in rendered HTML, for assertions on what a page shows."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _TestIdText(HTMLParser):
    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid = testid
        self.found: list[str] = []
        self._open: list[list[str]] = []  # text of each matching element being read
        self._depths: list[int] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        self._depth += 1
        if dict(attrs).get("data-testid") == self.testid:
            self._open.append([])
            self._depths.append(self._depth)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if self._depths and self._depths[-1] == self._depth:
            self._depths.pop()
            self.found.append(" ".join("".join(self._open.pop()).split()))
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        for texts in self._open:
            texts.append(data)


def texts_by_testid(html: str | bytes, testid: str) -> list[str]:
    """The whitespace-normalised text of every element with data-testid=`testid`."""
    parser = _TestIdText(testid)
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    return parser.found
