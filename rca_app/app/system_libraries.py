"""Which system libraries Qt's window plugin lacks on this Linux desktop, and how to install them.

Qt aborts the whole process when its xcb platform plugin cannot load a shared library, and its
own message names only the first one it tried. Asking the dynamic linker (``ldd``) about the
plugin before Qt starts names every library that is missing, so the engineer runs one install
command instead of one per attempt. No Qt is imported here.
"""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

# Shared library (soname prefix) -> package providing it, per distribution family.
_PACKAGES = {
    "libxcb-cursor.so": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-render-util.so": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-xkb.so": ("libxcb-xkb1", "libxcb"),
    "libxkbcommon-x11.so": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so": ("libxkbcommon0", "libxkbcommon"),
    "libxcb-shape.so": ("libxcb-shape0", "libxcb"),
    "libxcb-randr.so": ("libxcb-randr0", "libxcb"),
    "libxcb-xfixes.so": ("libxcb-xfixes0", "libxcb"),
    "libxcb-sync.so": ("libxcb-sync1", "libxcb"),
    "libxcb-shm.so": ("libxcb-shm0", "libxcb"),
    "libxcb-render.so": ("libxcb-render0", "libxcb"),
    "libxcb-xinput.so": ("libxcb-xinput0", "libxcb"),
    "libX11-xcb.so": ("libx11-xcb1", "libX11-xcb"),
    "libEGL.so": ("libegl1", "libglvnd-egl"),
    "libGL.so": ("libgl1", "libglvnd-glx"),
    "libOpenGL.so": ("libopengl0", "libglvnd-opengl"),
    "libfontconfig.so": ("libfontconfig1", "fontconfig"),
    "libdbus-1.so": ("libdbus-1-3", "dbus-libs"),
}

# The libraries the README's quick start asks for (Debian/Ubuntu names).
README_PACKAGES = ("libxcb-cursor0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1",
                   "libxcb-render-util0", "libxcb-xkb1", "libxkbcommon-x11-0")


def qt_xcb_plugin() -> Path | None:
    """The xcb platform plugin of the installed PySide6, found without importing Qt.

    Returns
    -------
    Path or None
        None when PySide6 or the plugin is not installed.
    """
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for base in spec.submodule_search_locations:
        plugin = Path(base) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.exists():
            return plugin
    return None


def missing_libraries(binary: Path, ldd: str = "ldd") -> list[str]:
    """Shared libraries ``binary`` needs that the dynamic linker cannot find.

    Directly needed or through its dependencies, as sonames, in the order ldd reports them.

    Parameters
    ----------
    binary : Path
        E.g. Qt's ``libqxcb.so``.
    ldd : str, default "ldd"
        The ldd program (for tests).

    Returns
    -------
    list of str
        Empty when nothing is missing, or when ldd is unavailable: then Qt's own message is all
        there is.
    """
    try:
        out = subprocess.run([ldd, str(binary)], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found: list[str] = []
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)\s*=>\s*not found", line)
        if m and m.group(1) not in found:
            found.append(m.group(1))
    return found


def _distribution_family(os_release: str) -> str:
    """"debian" or "redhat" from /etc/os-release text (ID and ID_LIKE); "" when unknown."""
    ids = " ".join(re.findall(r"^(?:ID|ID_LIKE)=\"?([^\"\n]*)", os_release, flags=re.M)).lower().split()
    if any(i in ("debian", "ubuntu") for i in ids):
        return "debian"
    if any(i in ("fedora", "rhel", "centos", "rocky", "almalinux") for i in ids):
        return "redhat"
    return ""


def install_command(sonames: list[str], os_release: str | None = None) -> str | None:
    """The one command that installs the packages providing ``sonames`` on this distribution.

    Parameters
    ----------
    sonames : list of str
        Missing libraries, e.g. ``libxcb-cursor.so.0``.
    os_release : str, optional
        Text of ``/etc/os-release`` (read when None).

    Returns
    -------
    str or None
        E.g. ``sudo apt-get install -y libxcb-cursor0``; None when the distribution or a library is
        unknown.
    """
    if os_release is None:
        try:
            os_release = Path("/etc/os-release").read_text(encoding="utf-8", errors="replace")
        except OSError:
            os_release = ""
    family = _distribution_family(os_release)
    if not family or not sonames:
        return None
    column = 0 if family == "debian" else 1
    packages: list[str] = []
    for so in sonames:
        key = next((k for k in _PACKAGES if so.startswith(k)), None)
        if key is None:
            return None
        pkg = _PACKAGES[key][column]
        if pkg not in packages:
            packages.append(pkg)
    tool = "apt-get install -y" if family == "debian" else "dnf install -y"
    return f"sudo {tool} {' '.join(packages)}"


def qt_window_libraries_problem() -> str | None:
    """A message naming every system library Qt's window plugin lacks here, with the install command.

    Returns
    -------
    str or None
        None when nothing is missing, off Linux, or when this cannot be checked.
    """
    if not sys.platform.startswith("linux"):
        return None
    plugin = qt_xcb_plugin()
    if plugin is None:
        return None
    missing = missing_libraries(plugin)
    if not missing:
        return None
    msg = f"Qt cannot open a window: these system libraries are missing: {', '.join(missing)}"
    cmd = install_command(missing)
    return msg + (f". Install them with: {cmd}" if cmd else ". Install them with your distribution's "
                  "package manager")
