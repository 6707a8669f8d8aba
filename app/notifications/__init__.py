"""Telling people what happened: in-app notifications, email, and their preferences."""
