"""Recently opened files and the last folder used, kept in QSettings (the only per-user state
besides window geometry), and the "Recent files" menu that lists them."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

MAX_RECENT = 8


class RecentFiles:
    """The recent-files list in ``settings`` (newest first, at most :data:`MAX_RECENT`)."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def remember(self, path: str) -> None:
        recent = [p for p in self.files() if p != str(path)]
        recent.insert(0, str(path))
        self.settings.setValue("recent", recent[:MAX_RECENT])
        self.settings.setValue("last_folder", str(Path(path).parent))

    def files(self) -> list[str]:
        v = self.settings.value("recent", [])
        if isinstance(v, str):   # QSettings' INI format gives a one-item list back as a string
            v = [v]
        return [str(p) for p in (v or [])]

    def last_folder(self) -> str:
        return str(self.settings.value("last_folder", "") or "")

    def fill_menu(self, menu: QMenu, open_path: Callable[[str], object]) -> None:
        """List the files in ``menu``; the ones no longer there are shown disabled."""
        menu.clear()
        files = self.files()
        if not files:
            menu.addAction("(none yet)").setEnabled(False)
        for p in files:
            act = menu.addAction(p)
            act.setEnabled(Path(p).exists())
            act.triggered.connect(lambda _=False, f=p: open_path(f))
