"""vaultgui: cancel stuck Submissions Archive jobs in Veeva Vault RIM."""

__version__ = "0.1.0"
