"""Framings: how the response body is cut into tokens. One module each."""
