"""Saving, opening, autosaving and recovering investigations: the dialogs around the application
layer's investigation file, data-file check and recovery file."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rca_app.app.data_file import DataFileCheck, check_data_file, read_data, read_options
from rca_app.app.investigation_file import (
    FILE_SUFFIX,
    Investigation,
    load_investigation,
    safe_file_stem,
    save_investigation,
)
from rca_app.app.recovery import discard_recovery, read_recovery, write_recovery
from rca_app.app.session import STEPS
from rca_app.core.errors import RcaInputError
from rca_app.core.layout import parse_layout
from rca_app.gui import dialogs

if TYPE_CHECKING:
    from rca_app.gui.main_window import MainWindow

INVESTIGATION_FILTER = f"rca_app investigation (*{FILE_SUFFIX});;All files (*)"
DATA_FILTER = "Sensor data (*.csv *.txt *.tsv *.xlsx *.xlsm *.parquet *.pq);;All files (*)"


class InvestigationFiles:
    """The File menu's investigation commands for one window, and its autosave."""

    def __init__(self, window: MainWindow, recovery_dir: Path) -> None:
        self.window = window
        self.recovery_dir = recovery_dir

    @property
    def session(self):
        return self.window.session

    # ------------------------------------------------------------------ saving
    def save(self, save_as: bool = False) -> bool:
        w, s = self.window, self.session
        path = s.path
        if save_as or path is None:
            stem = safe_file_stem(s.layout.name if s.layout else "investigation")
            suggested = str(path or Path(w.recent.last_folder()) / f"{stem}{FILE_SUFFIX}")
            chosen = dialogs.save_path(w, "Save investigation", INVESTIGATION_FILTER, suggested)
            if not chosen:
                return False
            path = Path(chosen)
            if path.suffix.lower() != FILE_SUFFIX:
                path = path.with_name(path.name + FILE_SUFFIX)
        try:
            save_investigation(s.to_investigation(), path)
        except (OSError, TypeError, ValueError) as e:
            dialogs.show_error(w, "Not saved", f"The investigation could not be written to {path}:\n"
                                               f"{getattr(e, 'strerror', None) or e}")
            return False
        s.saved_as(path)
        discard_recovery(self.recovery_dir)
        w.recent.remember(str(path))
        w.update_title()
        w.jobs.show_status(f"Saved {path}.")
        return True

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False means the engineer cancelled."""
        if not self.session.dirty:
            return True
        answer = dialogs.ask(self.window, "Unsaved changes", "This investigation has changes that are not saved. "
                             "Save them first?", ("save", "discard", "cancel"), default="save")
        if answer == "save":
            return self.save()
        return answer == "discard"

    # ------------------------------------------------------------------ opening
    def open(self, path: str | None = None) -> bool:
        w = self.window
        if not self.maybe_save():
            return False
        if path is None:
            path = dialogs.open_path(w, "Open investigation", INVESTIGATION_FILTER, w.recent.last_folder())
        if not path:
            return False
        try:
            saved = load_investigation(path)
        except RcaInputError as e:
            dialogs.show_problems(w, "Investigation not opened", f"{Path(path).name} cannot be opened:", e.problems)
            return False
        w.recent.remember(str(path))
        return self.restore(saved, Path(path))

    def restore(self, saved: Investigation, path: Path | None, dirty: bool = False) -> bool:
        """Find the investigation's data file (explaining a moved or changed one), read it, and
        put the saved state back."""
        w = self.window
        layout = None
        if saved.layout_toml:
            try:
                layout = parse_layout(saved.layout_toml, saved.layout_source)
            except RcaInputError as e:
                dialogs.show_problems(w, "Investigation not opened", "Its layout is not valid:", e.problems)
                return False
        if saved.data is None:
            self._finish(saved, None, path, dirty)
            return True
        check = check_data_file(saved.data, path)
        while not check.usable:
            buttons = ("locate", "open_without_data", "cancel")
            if check.status == "changed":
                buttons = ("locate", "use_changed_file", "open_without_data", "cancel")
            answer = dialogs.ask(w, "Data file " + ("changed" if check.status == "changed" else "not found"),
                                 check.message, buttons, default="locate")
            if answer == "locate":
                found = dialogs.open_path(w, f"Locate {saved.data.file_name}", DATA_FILTER)
                if not found:
                    continue
                check = check_data_file(saved.data, candidate=found)
            elif answer == "use_changed_file":
                # Explicitly chosen: the saved results described other data, so they are dropped.
                saved.without_results()
                check = DataFileCheck("ok", check.path, "", saved.data.sha256, check.actual_sha256)
                break
            elif answer == "open_without_data":
                self._finish(saved, None, path, dirty)
                return True
            else:
                return False
        if check.status == "moved":
            dialogs.show_info(w, "Data file moved", check.message + " It will be used from there.")

        def done(loaded: dict) -> None:
            self._finish(saved, loaded, path, dirty or check.status == "moved")

        self.session.reset(layout)
        return w.jobs.start(f"Opening {check.path.name}", read_data, str(check.path), read_options(saved.data),
                            layout, on_success=done, cancellable=False, kind="load") is not None

    def _finish(self, saved: Investigation, loaded: dict | None, path: Path | None, dirty: bool) -> None:
        w = self.window
        w.clear_history()
        self.session.restore(saved, loaded, path)
        w.incident_step.sync_preset()
        if dirty:
            self.session.set_dirty(True)
        w.update_title()
        w.go_to(min(max(saved.step, 0), len(STEPS) - 1))
        w.jobs.show_status(f"Opened {path.name if path else 'the recovered investigation'}." +
                           ("" if loaded is not None or saved.data is None else " (without its data file)"))

    # ------------------------------------------------------------------ autosave and recovery
    def autosave(self) -> Path | None:
        s = self.session
        if not s.has_unsaved_work():
            return None
        try:
            return write_recovery(s.to_investigation(), self.recovery_dir, s.path)
        except (OSError, TypeError, ValueError):
            return None   # autosave is a safety net; a failure must not interrupt the work

    def check_recovery(self) -> bool:
        """Offer the investigation autosaved before a crash, if there is one."""
        found = read_recovery(self.recovery_dir)
        if found is None:
            return False
        saved, original = found
        when = saved.saved_at or "an unknown time"
        what = f" (last saved as {original})" if original else ""
        answer = dialogs.ask(self.window, "Recover unsaved work?",
                             f"rca_app did not close properly last time. An investigation{what} was autosaved at "
                             f"{when}. Recover it?", ("recover", "discard"), default="recover")
        if answer != "recover":
            discard_recovery(self.recovery_dir)
            return False
        return self.restore(saved, Path(original) if original else None, dirty=True)

    def discard_recovery(self) -> None:
        discard_recovery(self.recovery_dir)
