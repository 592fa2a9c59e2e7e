"""Output: the header and fingerprint, the folder layout, formatting, writing and checking."""
