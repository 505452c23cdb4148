"""The house's own import-linter contracts (pyproject.toml names them; `lint-imports` runs them)."""
