"""What is said about a secret and a store, shared by the keyring (core.secrets) and the
vault (core.vault) without either importing the other."""

from __future__ import annotations

from dataclasses import dataclass

# Where secrets are kept: the app setting secret_store (core.secrets chooses and moves).
STORE_KINDS = ("keyring", "vault")


@dataclass(frozen=True)
class SecretLabel:
    """What a secret is, given when it is stored: the vault files the entry under the
    tenant's path and titles it `<integration> / <field>`. Never part of a reference."""

    tenant: str  # the tenant's path, e.g. "Root tenant/EU/Acme"
    integration: str  # the integration's title, e.g. "KUMA REST API"
    field: str  # the secret's label, e.g. "API token"


@dataclass(frozen=True)
class StoreStatus:
    """kind: keyring or vault; name: the store in words ("OS keyring: Secret Service",
    "Vault: secrets.kdbx, unlocked"); usable: a secret can be stored now (a locked vault
    counts: it asks for its passphrase); reason: why not, or what happens next."""

    kind: str
    name: str
    usable: bool
    reason: str = ""
