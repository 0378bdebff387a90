"""The words the dashboard shows about the model: its limits, and the docs as Markdown."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["DOCS", "LIMITS", "LIMITS_SHORT", "markdown_money", "read_doc"]

DOCS = Path(__file__).resolve().parents[1] / "docs"
# MODEL.md, "Known limits (say them in the app)"
LIMITS = """
**What this model can and cannot tell you**

- The platform's exact formulas and weights are private. The Job Success Score, the weights of
  the six criteria and how clients react to stars are reconstructed from what the platform
  publishes and from research on other marketplaces.
- Every default tagged **[A]** is our assumption. Each one is a setting in the sidebar: change it
  and see how much the answer moves.
- The figures describe many possible futures of a typical freelancer in this situation. They are
  for understanding and documenting a case, **not a prediction of one person's income**.
"""
LIMITS_SHORT = (
    "**Known limits.** The platform's formulas and weights are private; every default tagged [A] "
    "is our guess, exposed as a setting. Use these figures to understand and document a case, not "
    "as a prediction of one person's income. See *About the model*."
)


def markdown_money(text: str) -> str:
    """Escape dollar signs outside code: the docs mean money where Streamlit would read LaTeX,
    and inside code a backslash would show."""
    parts = re.split(r"(```.*?```|`[^`\n]*`)", text, flags=re.S)
    return "".join(p if i % 2 else p.replace("$", "\\$") for i, p in enumerate(parts))


def read_doc(name: str) -> str | None:
    """A file of docs/ ready for st.markdown, or None while it is not written."""
    path = DOCS / name
    return markdown_money(path.read_text(encoding="utf-8")) if path.exists() else None
