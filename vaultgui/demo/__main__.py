"""Serve the demo Vault from a terminal with ``python -m vaultgui.demo``."""

from __future__ import annotations

import argparse
import logging
import sys
import threading

from vaultgui.demo import DEMO_PASSWORD, DEMO_USERNAME, DemoVault


def main(argv: list[str] | None = None) -> int:
    """Serve the demo Vault until Ctrl+C, then return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m vaultgui.demo",
        description="Serve the demo Vault on 127.0.0.1 until Ctrl+C.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="TCP port to listen on (default: 0, any free port)",
    )
    parser.add_argument(
        "--advance-seconds",
        type=float,
        default=20.0,
        help="seconds between status steps of the moving demo submissions "
        "00S000000000112 and 00S000000000113 (default: 20)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    with DemoVault(port=args.port, advance_seconds=args.advance_seconds) as vault:
        print(f"Demo Vault address: {vault.address}", flush=True)
        print(f"Username: {DEMO_USERNAME}", flush=True)
        print(f"Password: {DEMO_PASSWORD}", flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        # Short waits keep Ctrl+C responsive on Windows, where a plain wait
        # is not interrupted by it.
        idle = threading.Event()
        try:
            while not idle.wait(0.5):
                pass
        except KeyboardInterrupt:
            print("Stopping the demo Vault.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
