"""Reading a page's HTML by CSS selector in tests (with the HTML parser and selector
engine WeasyPrint already brings)."""

from __future__ import annotations

from xml.etree.ElementTree import Element

import cssselect2  # type: ignore[import-untyped]
import tinyhtml5  # type: ignore[import-untyped]


class Page:
    def __init__(self, html: str) -> None:
        self._root = cssselect2.ElementWrapper.from_html_root(tinyhtml5.parse(html))

    def all(self, selector: str) -> list[Element]:
        return [wrapper.etree_element for wrapper in self._root.query_all(selector)]

    def one(self, selector: str) -> Element:
        found = self.all(selector)
        assert found, f"nothing matches {selector!r}"
        return found[0]


def text(element: Element) -> str:
    return "".join(element.itertext()).strip()
