"""did-publish: England's Diagnostic Imaging Dataset statistics from record-level submissions."""

__version__ = "0.1.0"
