"""PyInstaller runtime hook: TLS trust for a frozen xdrconf.

xdrconf verifies servers with ssl.create_default_context(), which loads the system's CA store
through OpenSSL's default paths (Debian: /etc/ssl/certs). The frozen application carries the
libssl of the machine that built it; where that library's default paths hold no certificates
(a build machine whose OpenSSL lives elsewhere, macOS with python.org's OpenSSL), point OpenSSL
at certifi's bundle, which is frozen with the application. Windows is left alone: there
load_default_certs() reads the system's certificate stores. A CA file or folder the user
named (SSL_CERT_FILE, SSL_CERT_DIR) always wins."""


def _trust_certifi_if_no_system_store() -> None:
    import os
    import ssl
    import sys

    if sys.platform == "win32" or os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return
    paths = ssl.get_default_verify_paths()
    if paths.cafile and os.path.isfile(paths.cafile):
        return
    if paths.capath and os.path.isdir(paths.capath) and any(os.scandir(paths.capath)):
        return
    try:
        import certifi
    except ImportError:
        return
    os.environ["SSL_CERT_FILE"] = certifi.where()


_trust_certifi_if_no_system_store()
