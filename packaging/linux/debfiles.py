"""Files of the Debian package that are made from the build, not kept in the repository.
Run by packaging/build.sh with the build environment's Python (xdrconf installed in it):

    python debfiles.py copyright OUT     DEP-5 copyright of xdrconf and of all it carries
    python debfiles.py manpage OUT       xdrconf.1 from `xdrconf --help` (read on stdin)
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "pyinstaller"))
from dists import requirement_closure

APP = "xdrconf"
INTERNAL = "opt/xdrconf/_internal"
# Licence classifiers of distributions that declare no SPDX expression.
CLASSIFIERS = {
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: BSD License": "BSD-3-Clause",
    "License :: OSI Approved :: Apache Software License": "Apache-2.0",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "License :: OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.1-or-later",
    "License :: OSI Approved :: Python Software Foundation License": "PSF-2.0",
}
# Free-text licence fields seen in the metadata of xdrconf's dependencies, as SPDX names.
ALIASES = {"LGPL v3": "LGPL-3.0-only", "LGPL": "LGPL-3.0-only"}
# Where Debian keeps the full text of a licence (base-files, /usr/share/common-licenses).
COMMON = {
    "Apache-2.0": "Apache-2.0",
    "GPL-2.0-only": "GPL-2",
    "GPL-2.0-or-later": "GPL-2",
    "GPL-3.0-only": "GPL-3",
    "LGPL-2.1": "LGPL-2.1",
    "LGPL-2.1-only": "LGPL-2.1",
    "LGPL-2.1-or-later": "LGPL-2.1",
    "LGPL-3.0-only": "LGPL-3",
    "MPL-2.0": "MPL-2.0",
}


def licence_of(meta) -> str:
    expr = meta.get("License-Expression")
    if expr:
        return expr.strip()
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) < 80:
        return ALIASES.get(text, text)
    for classifier in meta.get_all("Classifier") or ():
        if classifier in CLASSIFIERS:
            return CLASSIFIERS[classifier]
    return "unknown"


def holders_of(meta) -> str:
    for key in ("Author", "Author-email", "Maintainer", "Maintainer-email"):
        value = (meta.get(key) or "").strip().replace('"', "")
        if value and value.lower() != "unknown":
            return " ".join(value.split())
    return f"the authors of {meta['Name']}"


def copyright_text() -> str:
    year = dt.datetime.fromtimestamp(int(os.environ.get("SOURCE_DATE_EPOCH", "0")) or None, dt.UTC).year
    paragraphs = [
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        f"Upstream-Name: {APP}\n"
        "Comment: xdrconf is frozen with PyInstaller. The folder /opt/xdrconf/_internal holds\n"
        " the Python interpreter and the libraries below; the Python modules are in the\n"
        " application's archive, and each library's licence files are in its .dist-info\n"
        " folder there.",
        f"Files: *\nCopyright: {year} The xdrconf developers\nLicense: LicenseRef-proprietary",
        "Files: opt/xdrconf/xdrconf\n"
        "Copyright: 2005-2026 PyInstaller Development Team\n"
        "License: GPL-2.0-or-later WITH Bootloader-exception\n"
        " The bootloader of PyInstaller may be distributed with a program of any licence\n"
        " (the bootloader exception of PyInstaller's licence).",
        f"Files: {INTERNAL}/libpython* {INTERNAL}/base_library.zip {INTERNAL}/python3*\n"
        "Copyright: 2001-2026 Python Software Foundation\n"
        "License: PSF-2.0",
    ]
    used = {"PSF-2.0"}
    for dist in requirement_closure(APP):
        meta = dist.metadata
        if meta["Name"] == APP:
            continue
        licence = licence_of(meta)
        files = [str(f) for f in dist.files or () if ".dist-info/" in str(f)]
        info = files[0].split("/")[0] if files else None
        where = f"{INTERNAL}/{info}/*" if info else f"{INTERNAL}/*"
        has_text = any(Path(f).name.upper().startswith(("LICEN", "COPYING")) for f in files)
        note = (
            "the licence text is in its .dist-info folder"
            if has_text
            else "the licence as its metadata names it"
        )
        paragraphs.append(
            f"Files: {where}\nCopyright: {holders_of(meta)}\nLicense: {licence}\n"
            f" {meta['Name']} {meta['Version']}: {note}."
        )
        used.update(part.strip("()") for part in licence.replace(" OR ", " ").replace(" AND ", " ").split())
    paragraphs.append(
        "License: LicenseRef-proprietary\n"
        " No licence has been granted for xdrconf yet: all rights are reserved by its authors."
    )
    for name in sorted(used - {"WITH"}):
        if name in COMMON:
            text = f" On Debian systems the full text is in /usr/share/common-licenses/{COMMON[name]}."
        elif name == "PSF-2.0":
            text = (
                " The Python Software Foundation License, version 2: https://docs.python.org/3/license.html"
            )
        else:
            text = " The full text is in the licence files of the distributions that use it (above)."
        paragraphs.append(f"License: {name}\n{text}")
    return "\n\n".join(paragraphs) + "\n"


def manpage_text(help_text: str, version: str) -> str:
    """A man page whose body is the command line's own --help, so it never drifts."""
    date = dt.datetime.fromtimestamp(int(os.environ.get("SOURCE_DATE_EPOCH", "0")) or None, dt.UTC)
    body = "\n".join(
        ("\\&" + line if line.startswith((".", "'")) else line).replace("\\", "\\\\").replace("\\\\&", "\\&")
        for line in help_text.rstrip().splitlines()
    )
    return (
        f'.TH XDRCONF 1 "{date:%Y-%m-%d}" "xdrconf {version}" "User Commands"\n'
        ".SH NAME\n"
        "xdrconf \\- configure and verify Kaspersky Next XDR Expert and KUMA integrations per tenant\n"
        ".SH SYNOPSIS\n"
        ".B xdrconf\n"
        "[\\fIOPTIONS\\fR] [\\fICOMMAND\\fR ...]\n"
        ".SH DESCRIPTION\n"
        "Without a command, xdrconf opens its window. With a command it is the command line;\n"
        "each command has its own \\fB\\-\\-help\\fR.\n"
        ".PP\n"
        ".nf\n"
        f"{body}\n"
        ".fi\n"
        ".SH FILES\n"
        ".TP\n"
        ".I ~/.config/xdrconf/settings.json\n"
        "the settings (secrets are kept in the OS keyring, never in this file)\n"
    )


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "copyright":
        Path(argv[1]).write_text(copyright_text(), encoding="utf-8")
        return 0
    if len(argv) == 3 and argv[0] == "manpage":
        Path(argv[1]).write_text(manpage_text(sys.stdin.read(), argv[2]), encoding="utf-8")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
