"""Labels: layouts as data (``labels/``), bar codes that scan back, PDF/ZPL/SVG, print log."""
