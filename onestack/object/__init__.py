"""Object storage: the Swift API over a replicated store (issue 23)."""
