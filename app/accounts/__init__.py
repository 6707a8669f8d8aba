"""Accounts: Google sign-in, page sessions, API tokens, users and administrators."""
