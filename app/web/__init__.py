"""Litestar glue: templating, htmx helpers, guards and error handlers (no business rules)."""
