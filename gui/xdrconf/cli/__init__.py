"""The command line: xdrconf.cli.main.run(argv)."""
