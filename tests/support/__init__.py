"""Real peers for the tests: a test PKI, HTTPS servers on loopback, the Secret Service."""
