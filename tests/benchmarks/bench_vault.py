"""The vault's costs with the default Argon2id parameters (64 MiB, 8 passes, 2 lanes):
creating it, unlocking it, storing and reading a secret, and opening and saving a vault of
many entries. Prints figures (median of --runs)."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401 - sets up sys.path

from xdrconf.core.secrets import SecretLabel
from xdrconf.core.vault import DEFAULT_KDF, VaultStore

PASSPHRASE = "a benchmark passphrase of some length"


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--entries", type=int, default=1000)
    args = parser.parse_args()
    creates, unlocks, puts, gets = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        import pykeepass  # noqa: F401

        imported = time.perf_counter() - t
        for run in range(args.runs):
            folder = Path(tmp) / f"run{run}"
            folder.mkdir()
            store = VaultStore(folder)
            creates.append(timed(lambda s=store: s.create(PASSPHRASE)))
            label = SecretLabel("Root tenant/EU/Acme", "KUMA REST API", "API token")
            ref = ""

            def put(s=store, lab=label) -> None:
                nonlocal ref
                ref = s.put("token-value", lab)

            puts.append(timed(put))
            store.lock()
            unlocks.append(timed(lambda s=store: s.unlock(PASSPHRASE)))
            gets.append(timed(lambda s=store, r=ref: s.get(r)))
        big = VaultStore(Path(tmp) / "big")
        big.create(PASSPHRASE)
        with big.batch():
            for i in range(args.entries):
                big.put(
                    f"token-{i}", SecretLabel(f"Root tenant/T{i % 50}/C{i}", "KUMA REST API", "API token")
                )
        size = big.path.stat().st_size
        big.lock()
        unlock_big = timed(lambda: big.unlock(PASSPHRASE))
        put_big = timed(
            lambda: big.put("one more", SecretLabel("Root tenant/X", "KUMA REST API", "API token"))
        )

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.0f} ms"

    kdf = DEFAULT_KDF
    print(f"Argon2id: {kdf.memory_kib // 1024} MiB, {kdf.iterations} passes, {kdf.parallelism} lanes")
    print(f"import pykeepass (first use in a process): {imported * 1000:.0f} ms")
    print(f"create a vault:                {ms(creates)}")
    print(f"unlock (derive the key, read): {ms(unlocks)}")
    print(f"store one secret (one save):   {ms(puts)}")
    print(f"read one secret:               {ms(gets)}")
    print(
        f"{args.entries} entries: file {size / 1024:.0f} KiB, unlock {unlock_big * 1000:.0f} ms, "
        f"store one more {put_big * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
