"""Read the tables back out of a report's HTML (a test helper, with the stdlib's parser only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class ParsedTable:
    """One ``<figure class="vf">`` of a report: its heading, caption text, header, rows and classes."""

    heading: str = ""
    caption: str = ""
    header: list[str] = field(default_factory=list)
    body: list[list[str]] = field(default_factory=list)
    foot: list[list[str]] = field(default_factory=list)
    classes: list[list[str]] = field(default_factory=list)  # the class of each body cell

    def column(self, name: str, *, foot: bool = False) -> list[str]:
        """The cells of the first column headed ``name``, in the body (or the footer)."""
        i = self.header.index(name)
        return [row[i] for row in (self.foot if foot else self.body)]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[ParsedTable] = []
        self.heading = ""
        self.stack: list[str] = []
        self.text: list[str] = []
        self.section = ""
        self.row: list[str] = []
        self.row_classes: list[str] = []
        self.current: ParsedTable | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        cls = dict(attrs).get("class") or ""
        if tag == "figure" and cls == "vf":
            self.current = ParsedTable(heading=self.heading)
            self.tables.append(self.current)
        elif tag in {"h2", "figcaption", "th", "td"}:
            self.text = []
        if tag in {"thead", "tbody", "tfoot"}:
            self.section = tag
        elif tag == "tr":
            self.row, self.row_classes = [], []
        elif tag == "td":
            self.row_classes.append(cls)
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        text = "".join(self.text).strip()
        table = self.current
        if tag == "h2":
            self.heading = text
        elif tag == "figcaption" and table is not None:
            table.caption = " ".join(text.split())
        elif tag in {"th", "td"}:
            self.row.append(text)
        elif tag == "tr" and table is not None:
            if self.section == "thead":
                table.header = self.row
            elif self.section == "tbody":
                table.body.append(self.row)
                table.classes.append(self.row_classes)
            else:
                table.foot.append(self.row)
        elif tag == "figure":
            self.current = None
        if self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def report_tables(html: str) -> dict[str, ParsedTable]:
    """Every table of the page by its heading (the ``<h2>`` above it)."""
    reader = _Reader()
    reader.feed(html)
    return {t.heading: t for t in reader.tables}


def number(cell: str) -> float:
    """A cell's number: thousands separators dropped, a sign kept."""
    return float(cell.replace(",", ""))
