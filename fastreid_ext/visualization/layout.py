"""Figure layout shared by the figures drawn cell by cell (lengths in inches)."""
import textwrap
from collections.abc import Sequence
from typing import Any

__all__ = ["wrap_title", "title_height", "add_title"]

TITLE_POINTS = 9
_CHARS_PER_INCH = 14  # of a 9-point title
_LINE_HEIGHT = 0.16


def wrap_title(title: str, fig_w: float) -> list[str]:
    """``title`` (may hold line breaks) as lines that fit a figure ``fig_w`` inches wide."""
    return [line for part in title.splitlines() for line in textwrap.wrap(part, int(_CHARS_PER_INCH * fig_w))]


def title_height(lines: Sequence[str]) -> float:
    """Inches the title ``lines`` take at the top of a figure (a margin when there are none)."""
    return 0.1 + _LINE_HEIGHT * len(lines)


def add_title(fig: Any, lines: Sequence[str]) -> None:
    """Centre the title ``lines`` at the top of ``fig``."""
    if lines:
        fig.suptitle("\n".join(lines), fontsize=TITLE_POINTS, y=1 - 0.08 / fig.get_figheight(), va="top")
