"""X12 EDI codec: tokens, envelopes, transaction-set bodies (pure, no IO)."""
