"""Small status icons drawn in code (no image files to ship), cached."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

COLOURS = {
    "ok": "#2e7d32",
    "warning": "#ef8f00",
    "error": "#c62828",
    "off": "#9e9e9e",
    # A check that passed but proved only reachability (the credentials were not checked).
    "unverified": "#546e7a",
    "running": "#1565c0",
}


@cache
def mark_icon(level: str, *, ring: bool = False) -> QIcon:
    """A dot of the level's colour ("none": blank); ring=True draws a ring instead (a
    tenant whose own integrations are fine but something below it is not). "unverified"
    has a shape of its own, a circle filled on its left half, so that it never reads as a
    verified check."""
    from PySide6.QtCore import Qt  # the Qt namespace is loaded after the first paint

    pix = QPixmap(14, 14)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if level != "none":
        c = QColor(COLOURS.get(level, COLOURS["off"]))
        if level == "unverified" and not ring:
            from PySide6.QtGui import QPen

            # Half a dot in a circle: passed, but only half proven.
            painter.setPen(QPen(c, 1.6))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(2, 2, 10, 10)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(c)
            painter.drawPie(2, 2, 10, 10, 90 * 16, 180 * 16)
        elif ring:
            from PySide6.QtGui import QPen

            painter.setPen(QPen(c, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(3, 3, 8, 8)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(c)
            painter.drawEllipse(2, 2, 10, 10)
    painter.end()
    return QIcon(pix)


def colour(level: str) -> QColor:
    return QColor(COLOURS.get(level, COLOURS["off"]))
