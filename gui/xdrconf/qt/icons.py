"""Small status icons drawn in code (no image files to ship), cached."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

COLOURS = {
    "ok": "#2e7d32",
    "warning": "#ef8f00",
    "error": "#c62828",
    "off": "#9e9e9e",
    "running": "#1565c0",
}


@cache
def mark_icon(level: str) -> QIcon:
    pix = QPixmap(14, 14)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    if level != "none":
        painter.setBrush(QColor(COLOURS.get(level, COLOURS["off"])))
        painter.drawEllipse(2, 2, 10, 10)
    painter.end()
    return QIcon(pix)


def colour(level: str) -> QColor:
    return QColor(COLOURS.get(level, COLOURS["off"]))
