"""JSON API controllers (/api/v1)."""
