"""The case report as one self-contained HTML file (inline CSS and SVG; all text escaped)."""

from __future__ import annotations

import html
import re
from typing import Any

from app.report import Case, document

__all__ = ["case_html"]


CSS = """
body { font-family: Georgia, 'Libertinus Serif', serif; font-size: 10.5pt; color: #111;
  max-width: 190mm; margin: 1.5em auto; padding: 0 1em; line-height: 1.35; }
h1.title { font-size: 1.7em; margin-bottom: 0.2em; }
p.sub { color: #444; margin-top: 0; }
h2 { font-size: 1.25em; margin: 1.2em 0 0.4em; break-after: avoid; }
h3 { font-size: 1.05em; margin: 1em 0 0.3em; break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 0.4em 0 0.8em; }
th, td { border: 1px solid #bbb; padding: 2px 4px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
tr { break-inside: avoid; }
.small { font-size: 0.85em; } .tiny { font-size: 0.72em; }
.figures { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; }
figure { margin: 0; break-inside: avoid; } figure svg { width: 100%; height: auto; }
figcaption { font-size: 0.8em; text-align: center; }
pre { font-size: 7.5pt; columns: 2; column-gap: 16px; white-space: pre-wrap;
  word-break: break-all; }
footer { color: #555; font-size: 0.8em; border-top: 1px solid #ccc; margin-top: 2em; }
@media (max-width: 600px) { table { display: block; overflow-x: auto; }
  .figures { grid-template-columns: 1fr; } pre { columns: 1; } }
@page { size: A4; margin: 14mm; }
@media print { body { margin: 0; max-width: none; font-size: 9.5pt; }
  .pagebreak { break-before: page; } }
"""


def _html_runs(runs: list[dict[str, Any]]) -> str:
    return "".join(
        f"<strong>{html.escape(r['text'])}</strong>" if r["bold"] else html.escape(r["text"])
        for r in runs
    )


def _svg_sized(svg: str) -> str:
    """The chart's SVG scaled to its column: a viewBox from its own width and height."""
    m = re.match(r'<svg[^>]*?\swidth="([0-9.]+)"[^>]*?\sheight="([0-9.]+)"', svg)
    if m and "viewBox" not in svg[: svg.find(">")]:
        svg = svg.replace("<svg", f'<svg viewBox="0 0 {m.group(1)} {m.group(2)}"', 1)
    return svg


def case_html(case: Case) -> bytes:
    """The report as one self-contained HTML file (inline CSS and SVG, no external reference)."""
    doc = document(case)
    parts = []
    for b in doc["blocks"]:
        k = b["kind"]
        if k == "title":
            parts.append(f'<h1 class="title">{html.escape(b["text"])}</h1>')
            parts.append(f'<p class="sub">{html.escape(b["sub"])}</p>')
        elif k == "heading":
            tag = "h2" if b["level"] == 1 else "h3"
            parts.append(f"<{tag}>{html.escape(b['text'])}</{tag}>")
        elif k == "para":
            parts.append(f'<p class="{b["size"]}">{_html_runs(b["runs"])}</p>')
        elif k == "list":
            items = "".join(f"<li>{_html_runs(i)}</li>" for i in b["items"])
            parts.append(f'<ul class="{b["size"]}">{items}</ul>')
        elif k == "table":
            head = "".join(f"<th>{html.escape(c)}</th>" for c in b["columns"])
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                for row in b["rows"]
            )
            parts.append(
                f'<table class="{b["size"]}"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>"
            )
        elif k == "figures":
            figs = "".join(
                f"<figure>{_svg_sized(case.svg(i['key'].removeprefix('chart-')))}"
                f"<figcaption>{html.escape(i['caption'])}</figcaption></figure>"
                for i in b["items"]
            )
            parts.append(f"<h2>{html.escape(b['title'])}</h2>")
            parts.append(f'<p class="small">{html.escape(b["note"])}</p>')
            parts.append(f'<div class="figures">{figs}</div>')
        elif k == "code":
            parts.append(f"<pre>{html.escape(b['text'])}</pre>")
        elif k == "pagebreak":
            parts.append('<div class="pagebreak"></div>')
    title = html.escape(doc["title"])
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{CSS}</style></head><body>"
        + "\n".join(parts)
        + f"<footer>{html.escape(doc['footer'])}</footer></body></html>\n"
    )
    return page.encode("utf-8")
