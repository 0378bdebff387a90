"""The case report typeset by Typst as PDF: a fixed template reads the report's blocks as JSON."""

from __future__ import annotations

import json

from app.report import Case, document

__all__ = ["case_pdf"]


TEMPLATE = r"""
#let d = json(bytes(sys.inputs.data))
#set document(title: d.title, author: "repsim", date: if d.date == none { none } else {
  datetime(year: d.date.at(0), month: d.date.at(1), day: d.date.at(2))
})
#set page(paper: "a4", margin: (x: 15mm, top: 14mm, bottom: 16mm), footer: context {
  set text(7pt, fill: luma(90))
  d.footer
  h(1fr)
  [page #counter(page).display() of #counter(page).final().first()]
})
#set text(font: "Libertinus Serif", size: 9.5pt, lang: "en", hyphenate: false)
#set par(leading: 0.5em, spacing: 0.75em)
#show heading.where(level: 1): it => block(above: 1.0em, below: 0.5em, text(12.5pt, it.body))
#show heading.where(level: 2): it => block(above: 0.8em, below: 0.4em, text(10.5pt, it.body))
#set table(stroke: 0.4pt + luma(170), inset: (x: 3pt, y: 2.2pt))
#show table.cell.where(y: 0): set text(weight: "bold")
#show figure.caption: set text(8pt)
#let sizes = (normal: 9.5pt, small: 8pt, tiny: 6.6pt)
#let runs(rs) = rs.map(r => if r.bold { strong(r.text) } else { r.text }).join()
#for b in d.blocks {
  if b.kind == "title" {
    block(below: 0.65em, text(17pt, weight: "bold", b.text))
    block(below: 0.8em, text(9pt, fill: luma(70), b.sub))
  } else if b.kind == "heading" {
    heading(level: b.level, b.text)
  } else if b.kind == "para" {
    block(text(sizes.at(b.size), runs(b.runs)))
  } else if b.kind == "list" {
    text(sizes.at(b.size), list(spacing: 0.5em, ..b.items.map(runs)))
  } else if b.kind == "table" {
    text(sizes.at(b.size), table(
      columns: b.widths.map(w => w * 1fr),
      table.header(..b.columns),
      ..b.rows.flatten(),
    ))
  } else if b.kind == "figures" {
    block(breakable: false, {
    heading(level: 1, b.title)
    block(text(sizes.small, b.note))
    grid(columns: (1fr,) * b.columns, column-gutter: 10pt, row-gutter: 8pt,
      ..b.items.map(f => figure(
        image(bytes(sys.inputs.at(f.key)), format: "svg", width: 100%),
        caption: f.caption, numbering: none)))
    })
  } else if b.kind == "code" {
    text(font: "DejaVu Sans Mono", size: 6pt, columns(b.columns, gutter: 12pt,
      raw(b.text, block: true)))
  } else if b.kind == "pagebreak" {
    pagebreak()
  }
}
"""


def case_pdf(case: Case) -> bytes:
    """The report as PDF bytes: the same case gives the same bytes (no clock time: the
    document's date is the scenario's `today`, or none)."""
    import typst

    doc = document(case)
    inputs = {"data": json.dumps(doc, ensure_ascii=False)}
    for block in doc["blocks"]:
        if block["kind"] == "figures":
            for item in block["items"]:
                inputs[item["key"]] = case.svg(item["key"].removeprefix("chart-"))
    return typst.compile(
        TEMPLATE.encode("utf-8"), format="pdf", sys_inputs=inputs, ignore_system_fonts=True
    )
