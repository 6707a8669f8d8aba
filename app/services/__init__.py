"""Domain rules and all database access."""
