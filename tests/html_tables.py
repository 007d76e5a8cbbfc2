"""An HTML reader for the suite that knows HTML's implied end tags in tables.

The site's and the quality report's tables leave out the end tags HTML lets a table
leave out (`</td>`, `</th>`, `</tr>`): a cell ends where the next cell or row starts,
a row where the next row or the row group ends (the HTML standard's "optional tags").
`html.parser.HTMLParser` reports only the tags written, so a reader of cells would
never see a cell end. `TableReader` reports the implied end tags too, in the order a
browser's parser closes the elements, so the suite's readers keep their start/end
logic: subclasses write `start(tag, attrs)` and `end(tag)` instead of
`handle_starttag` and `handle_endtag`.
"""

from __future__ import annotations

from html.parser import HTMLParser

_ROW_GROUPS = ("thead", "tbody", "tfoot")


class TableReader(HTMLParser):
    def __init__(self, **options) -> None:
        super().__init__(**options)
        self._open_cell: str | None = None  # "td" or "th" while a cell is open
        self._open_row = False

    def start(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """A start tag (written)."""

    def end(self, tag: str) -> None:
        """An end tag, written or implied."""

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "th"):
            self._end_cell()
        elif tag == "tr" or tag in _ROW_GROUPS:
            self._end_row()
        self.start(tag, attrs)
        if tag in ("td", "th"):
            self._open_cell = tag
        elif tag == "tr":
            self._open_row = True

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._end_cell()
        elif tag == "tr" or tag in _ROW_GROUPS or tag == "table":
            self._end_row()
            if tag != "tr":
                self.end(tag)
        else:
            self.end(tag)

    def _end_cell(self) -> None:
        if self._open_cell is not None:
            tag, self._open_cell = self._open_cell, None
            self.end(tag)

    def _end_row(self) -> None:
        self._end_cell()
        if self._open_row:
            self._open_row = False
            self.end("tr")
