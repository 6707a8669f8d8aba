"""Local stand-ins for external services (development and tests only; refused in production)."""
