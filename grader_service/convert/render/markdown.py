"""A deliberately small Markdown-to-HTML renderer: everything is escaped, no raw HTML passes through."""

from __future__ import annotations

import html
import re

_INLINE_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?!\*)|(?<![_\w])_(?!\s)(.+?)(?<!\s)_(?![_\w])")
_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")


def _inline(text: str) -> str:
    """Inline markup on one escaped line: code spans first so their content stays literal."""
    pieces = _INLINE_CODE.split(text)
    out = []
    for index, piece in enumerate(pieces):
        if index % 2:
            out.append(f"<code>{html.escape(piece)}</code>")
            continue
        escaped = html.escape(piece, quote=False)
        escaped = _LINK.sub(_link, escaped)
        escaped = _BOLD.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", escaped)
        escaped = _ITALIC.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", escaped)
        out.append(escaped)
    return "".join(out)


def _link(match: re.Match[str]) -> str:
    image, label, url = match.group(1), match.group(2), html.unescape(match.group(3))
    if image:
        return f'<span class="img-ref">[image: {label or html.escape(url)}]</span>'
    if not url.startswith(("http://", "https://", "mailto:")):
        return label
    return f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer">{label}</a>'


def render_markdown(source: str) -> str:
    """Headings, paragraphs, lists, fenced code, emphasis, code spans and http(s) links."""
    out: list[str] = []
    paragraph: list[str] = []
    list_tag: str | None = None
    lines = source.replace("\r\n", "\n").split("\n")
    index = 0

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            out.append("<p>" + "<br>\n".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if list_tag:
            out.append(f"</{list_tag}>")
            list_tag = None

    while index < len(lines):
        line = lines[index]
        if line.strip().startswith(("```", "~~~")):
            flush()
            fence = line.strip()[:3]
            body = []
            index += 1
            while index < len(lines) and not lines[index].strip().startswith(fence):
                body.append(lines[index])
                index += 1
            out.append("<pre><code>" + html.escape("\n".join(body)) + "</code></pre>")
        elif heading := _HEADING.match(line):
            flush()
            tag = f"h{min(len(heading.group(1)) + 1, 6)}"
            out.append(f"<{tag}>{_inline(heading.group(2))}</{tag}>")
        elif re.fullmatch(r"\s*([-*_])(\s*\1){2,}\s*", line):
            flush()
            out.append("<hr>")
        elif (item := _BULLET.match(line)) or (item := _NUMBERED.match(line)):
            tag = "ul" if _BULLET.match(line) else "ol"
            if paragraph or (list_tag and list_tag != tag):
                flush()
            if not list_tag:
                out.append(f"<{tag}>")
                list_tag = tag
            out.append(f"<li>{_inline(item.group(1))}</li>")
        elif not line.strip():
            flush()
        else:
            if list_tag:
                flush()
            paragraph.append(line)
        index += 1
    flush()
    return "\n".join(out)
