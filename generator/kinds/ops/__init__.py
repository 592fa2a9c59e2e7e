"""Rule ops: how a token fills response fields. One module each."""
