"""One-time tokens and session tokens: 256 random bits out, only their SHA-256 stored."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32  # 256 bits; DESIGN.md asks for at least 128


def new_token() -> tuple[str, str]:
    """(token to hand out, hash to store)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    # A plain hash is enough: the token has 256 bits of entropy, so there is nothing to
    # brute-force, and a stolen table of hashes signs nobody in.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
