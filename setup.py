"""The build step of the message catalogs; everything else about the package is in
pyproject.toml. Each gui/xdrconf/locale/<lang>/LC_MESSAGES/xdrconf.po is compiled to its .mo
with Babel: into the built package (wheels, and installs from a source tree or an sdist), or
beside the .po for an editable install (`pip install -e`, as packaging/bootstrap.sh does).
The .mo files are build outputs, never committed; packaging/i18n.sh compile is the same step
for a developer who has just edited a .po."""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithCatalogs(build_py):
    def run(self) -> None:
        super().run()
        self.compile_catalogs()

    def catalogs(self) -> list[tuple[Path, Path]]:
        """(source .po, target .mo) pairs."""
        source = Path(self.get_package_dir("xdrconf")) / "locale"
        editable = getattr(self, "editable_mode", False)
        target = source if editable else Path(self.build_lib) / "xdrconf" / "locale"
        return [
            (po, target / po.relative_to(source).with_suffix(".mo"))
            for po in sorted(source.glob("*/LC_MESSAGES/*.po"))
        ]

    def compile_catalogs(self) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po, mo in self.catalogs():
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=po.parent.parent.name)
            mo.parent.mkdir(parents=True, exist_ok=True)
            with mo.open("wb") as fh:
                write_mo(fh, catalog)
            self.announce(f"compiled {po} -> {mo}", level=2)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not getattr(self, "editable_mode", False):
            outputs.extend(str(mo) for _po, mo in self.catalogs())
        return outputs


setup(cmdclass={"build_py": BuildPyWithCatalogs})
