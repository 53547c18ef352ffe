"""What a person reads on a page, for the page tests."""

from __future__ import annotations

import html
import re
from typing import Any


def text_of(response: Any) -> str:
    """The page's words as a person reads them: tags dropped, entities decoded (so "Alice's"
    reads as it shows), white space folded."""
    raw = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(raw)).strip()
