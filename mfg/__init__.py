"""mfg: manufacturing and lot-release tracker for a pooled OM-MSC cell therapy."""

__version__ = "0.1.0"
PRODUCT_NAME = "mfg"
