"""The vault's passphrase on the command line: from the terminal without echo (getpass on
the controlling terminal, so it works while standard input carries --secret values), or
from the file named by XDRCONF_VAULT_PASSPHRASE_FILE (for automation; refused when group
or others may read it). Never from an argument or the value of an environment variable.
The passphrase is handed to the vault and not kept."""

from __future__ import annotations

import getpass
import os
import stat
import sys
from pathlib import Path

from xdrconf.core.i18n import _

from ..core.errors import XdrconfError
from ..core.secrets import SecretStores
from ..core.vault import Unlocker, VaultStore, WrongPassphrase, passphrase_strength

ENV_FILE = "XDRCONF_VAULT_PASSPHRASE_FILE"
TRIES = 3


class PassphraseError(XdrconfError):
    """The passphrase could not be read: exit status 2."""


def read_passphrase_file(path_text: str) -> str:
    path = Path(path_text).expanduser()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise PassphraseError(
            _("{env_file}: file '{path}' does not exist.").format(env_file=ENV_FILE, path=path)
        ) from None
    except OSError as exc:
        raise PassphraseError(
            _("{env_file}: cannot read '{path}' ({strerror}).").format(
                env_file=ENV_FILE, path=path, strerror=exc.strerror
            )
        ) from None
    if sys.platform != "win32" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PassphraseError(
            _(
                "{env_file}: '{path}' may be read by group or others (mode "
                "{mode:04o}); make it private with chmod 600 '{path}' and try again."
            ).format(env_file=ENV_FILE, path=path, mode=stat.S_IMODE(st.st_mode))
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PassphraseError(
            _("{env_file}: cannot read '{path}' ({name}).").format(
                env_file=ENV_FILE, path=path, name=type(exc).__name__
            )
        ) from None
    passphrase = text.splitlines()[0] if text else ""
    if not passphrase:
        raise PassphraseError(
            _("{env_file}: '{path}' is empty; its first line is the vault passphrase.").format(
                env_file=ENV_FILE, path=path
            )
        )
    return passphrase


def _terminal() -> bool:
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def unlocker(stores: SecretStores) -> Unlocker:
    """The vault's unlocker for the command line (core.vault.Unlocker)."""

    def unlock_vault(store: VaultStore, creating: bool) -> None:
        unlock(store, creating, why=stores.auto_reason)

    return unlock_vault


def unlock(store: VaultStore, creating: bool, *, why: str = "") -> None:
    path_text = os.environ.get(ENV_FILE)
    if path_text:
        passphrase = read_passphrase_file(path_text)
        if creating:
            store.create(passphrase)
            _say(
                _("xdrconf: created the vault {path} with the passphrase in {env_file}.").format(
                    path=store.path, env_file=ENV_FILE
                )
            )
        else:
            store.unlock(passphrase)
        return
    if not _terminal():
        if creating:
            raise PassphraseError(
                (f"{why} " if why else "")
                + _(
                    "Secrets go into an encrypted vault, {name}, which needs a passphrase: "
                    "type it on a terminal, or name a file holding it (mode 600) in "
                    "{env_file}; nothing was changed."
                ).format(name=store.path.name, env_file=ENV_FILE)
            )
        raise PassphraseError(
            _(
                "The vault {name} is locked and there is no terminal to type its "
                "passphrase on; name a file holding it (mode 600) in {env_file}; nothing "
                "was changed."
            ).format(name=store.path.name, env_file=ENV_FILE)
        )
    if creating:
        _create_on_terminal(store, why)
        return
    for attempt in range(1, TRIES + 1):
        passphrase = getpass.getpass(_("Passphrase of the vault {path}: ").format(path=store.path))
        try:
            store.unlock(passphrase)
            return
        except WrongPassphrase as exc:
            if attempt == TRIES:
                raise
            _say(f"xdrconf: {exc}")


def _create_on_terminal(store: VaultStore, why: str) -> None:
    _say(
        "xdrconf: "
        + (f"{why} " if why else "")
        + _(
            "Secrets are kept in an encrypted KeePass vault, {path} (KeePassXC opens "
            "it too). Choose its passphrase."
        ).format(path=store.path)
    )
    for _unused in range(TRIES):
        first = getpass.getpass(_("New vault passphrase: "))
        if not first:
            _say(_("xdrconf: the passphrase is empty; type one."))
            continue
        bits, word = passphrase_strength(first)
        _say(_("xdrconf: strength: {word} (about {bits} bits).").format(word=word, bits=bits))
        second = getpass.getpass(_("The same passphrase again: "))
        if second != first:
            _say(_("xdrconf: the two passphrases differ; type them again."))
            continue
        store.create(first)
        return
    raise PassphraseError(_("No vault passphrase was chosen; nothing was changed."))
