"""The Qt layer: a thin window over xdrconf.core. Nothing here talks to the network or the
keyring on the GUI thread; see workers.py."""
