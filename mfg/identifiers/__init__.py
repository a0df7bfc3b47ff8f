"""Identifiers and scanning: ISBT 128, local codes, GS1, keyboard-layout recovery, resolution."""
