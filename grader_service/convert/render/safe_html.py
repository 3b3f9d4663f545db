"""Allow-list sanitising of HTML from notebooks (students' markdown and outputs) for feedback pages, and
LaTeX math rendered to MathML on the server, so a page needs no script at all."""

from __future__ import annotations

import html
import re
import secrets
from typing import Any

import bleach
from latex2mathml.converter import convert as latex_to_mathml

# what Jupyter renders in markdown and rich outputs (tables of pandas, headings, lists, images)
TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details",
        "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
        "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup",
        "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
    }
)  # fmt: skip
ATTRIBUTES = {
    "*": ["class", "title", "align"],
    "a": ["href", "title"],
    "img": ["src", "alt", "width", "height", "title"],
    "td": ["colspan", "rowspan", "align"],
    "th": ["colspan", "rowspan", "align", "scope"],
    "ol": ["start", "type"],
}
# links may point anywhere a reader can follow by hand; images only inline data (the page's CSP agrees)
PROTOCOLS = frozenset({"http", "https", "mailto", "data"})
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$")


def _attribute_ok(tag: str, name: str, value: str) -> bool:
    allowed = ATTRIBUTES.get(tag, []) + ATTRIBUTES["*"]
    if name not in allowed:
        return False
    if tag == "img" and name == "src":
        return bool(_DATA_IMAGE.match(value))
    if tag == "a" and name == "href":
        return not value.lower().startswith("data:")
    return True


def sanitize(fragment: Any) -> str:
    """`fragment` with every tag, attribute and URL scheme outside the allow-list removed (text kept)."""
    text = (
        fragment.decode()
        if isinstance(fragment, bytes)
        else "".join(fragment)
        if isinstance(fragment, list)
        else str(fragment)
    )
    return str(
        bleach.clean(
            text, tags=TAGS, attributes=_attribute_ok, protocols=PROTOCOLS, strip=True, strip_comments=True
        )
    )


def mathml(tex: str, *, display: bool) -> str:
    """MathML of one formula; the escaped TeX when it cannot be converted."""
    try:
        out = latex_to_mathml(tex.strip(), display="block" if display else "inline")
    except Exception:  # noqa: BLE001  (latex2mathml raises many types for input it does not know)
        return f'<code class="gs-tex">{html.escape(tex)}</code>'
    # MathML from the converter is built from escaped tokens; sanitise it once more as defence in depth
    return str(bleach.clean(out, tags=MATHML_TAGS, attributes=MATHML_ATTRIBUTES, protocols=[], strip=True))


MATHML_TAGS = frozenset(
    {
        "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac",
        "msqrt", "mroot", "mstyle", "merror", "mpadded", "mphantom", "mfenced", "menclose", "mover",
        "munder", "munderover", "mtable", "mtr", "mtd", "semantics", "annotation",
    }
)  # fmt: skip
MATHML_ATTRIBUTES = [
    "xmlns", "display", "mathvariant", "stretchy", "fence", "separator", "accent", "accentunder",
    "columnalign", "rowspacing", "columnspacing", "width", "lspace", "rspace", "linethickness",
    "displaystyle", "scriptlevel", "movablelimits", "largeop", "symmetric", "minsize", "maxsize",
    "encoding", "notation", "form",
]  # fmt: skip


class MathSlots:
    """Formulas taken out of markdown before sanitising and put back as MathML after (unguessable marks)."""

    def __init__(self) -> None:
        self.nonce = secrets.token_hex(6)
        self.formulas: list[tuple[str, bool]] = []

    def mark(self, tex: str, display: bool) -> str:
        self.formulas.append((tex, display))
        return f"gsmath{self.nonce}n{len(self.formulas) - 1}x"

    def fill(self, text: str) -> str:
        pattern = re.compile(rf"gsmath{self.nonce}n(\d+)x")

        def one(m: re.Match[str]) -> str:
            tex, display = self.formulas[int(m.group(1))]
            return mathml(tex, display=display)

        return pattern.sub(one, text)


_DISPLAY = re.compile(r"^\s*(\$\$(.+?)\$\$|\\\[(.+?)\\\])\s*$", re.S)


def latex_output(tex: Any) -> str:
    """A `text/latex` output: a display formula as MathML, anything else as escaped text."""
    text = "".join(tex) if isinstance(tex, list) else str(tex)
    m = _DISPLAY.match(text)
    if m:
        return mathml(m.group(2) or m.group(3) or "", display=True)
    inline = re.fullmatch(r"\s*\$(.+?)\$\s*", text, re.S)
    if inline:
        return mathml(inline.group(1), display=False)
    return f"<pre>{html.escape(text)}</pre>"
