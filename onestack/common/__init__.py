"""Plumbing every service shares: HTTP app and errors, request bodies, database, logging."""
