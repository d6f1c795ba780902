"""Heat's Orchestration API v1, served over WSGI (docs/api.md)."""
