"""Webhooks for API clients: endpoints, signed deliveries (Standard Webhooks), retries and the delivery log."""
