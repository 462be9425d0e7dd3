"""One module per integration; each exposes SPEC (see xdrconf.core.catalog)."""
