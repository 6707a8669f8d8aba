"""Limits that hold across web processes: request rates, open live streams (on Redis when it is configured)."""
