"""xdrconf: configure and verify Kaspersky Next XDR Expert and KUMA integrations per tenant."""

__version__ = "0.1.0"
APP_NAME = "xdrconf"
