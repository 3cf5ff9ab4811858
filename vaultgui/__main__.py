"""Run vaultgui with ``python -m vaultgui``."""

import sys

from vaultgui.app import main

sys.exit(main())
