"""Where a text says where secrets are kept, it says the truth: the settings choose the OS
keyring or the encrypted vault (core/secrets.py SecretStores), so no help text, wizard page
or message may promise "the OS keyring only" — in English or in Russian."""

from __future__ import annotations

import contextlib
import io

import pytest

from xdrconf.core import catalog, i18n


def spec_texts(kind: str) -> list[str]:
    """Every text of an integration's spec that may say where its secrets go, as shown."""
    spec = catalog.spec_for(kind)
    texts = [f.help for f in spec.fields]
    texts += [t for page in spec.pages for t in (page.title, page.subtitle, page.about)]
    return [i18n._(t) for t in texts if t]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_no_spec_text_promises_the_os_keyring_only(lang: str) -> None:
    i18n.set_language(lang)
    keyring, vault = ("keyring", "vault") if lang == "en" else ("связк", "хранилищ")
    wrong = [
        (kind, text)
        for kind in catalog.KINDS
        for text in spec_texts(kind)
        if keyring in text.lower() and vault not in text.lower()
    ]
    assert wrong == []


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("kind", ["kasap", "tip", "custom"])
def test_kind_help_names_both_stores(kind: str, lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`xdrconf KIND --help` (the fields' help, as the wizard's hints show it too)."""
    monkeypatch.setenv("XDRCONF_LANG", lang)
    from xdrconf.cli.main import run

    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), pytest.raises(SystemExit) as done:
        run([kind, "--help"])
    assert done.value.code == 0
    out = " ".join(shown.getvalue().split())
    if lang == "en":
        assert "keyring only" not in out
        assert "the OS keyring or the encrypted vault (whichever the settings use)" in out
    else:
        assert "только в связке ключей ОС." not in out and "только в связке ключей ОС;" not in out
        assert (
            "в связке ключей ОС или в зашифрованном хранилище секретов (в зависимости от параметров)" in out
        )


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_kuma_command_with_the_token_names_both_stores(
    cli, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    """A KUMA connector command that sets Authorization itself is refused; the reason says
    where xdrconf takes the token from without claiming it is the OS keyring."""
    monkeypatch.setenv("XDRCONF_LANG", lang)
    assert cli("tenant", "add", "Acme").code == 0
    r = cli(
        "command",
        "add",
        "Acme",
        "Close",
        "--method",
        "POST",
        "--path",
        "alerts/close",
        "--header",
        "Authorization=Bearer x",
    )
    assert r.code == 2, r
    err = " ".join(r.err.split())
    if lang == "en":
        assert "from the token kept in the OS keyring or the encrypted vault" in err, err
        assert err.startswith("xdrconf: Header of command 'Close': "), err
    else:
        assert "в связке ключей ОС или в зашифрованном хранилище секретов" in err, err
        assert err.startswith("xdrconf: Заголовок команды «Close»: "), err
