"""Billing: plans, prices, the credit ledger and the checks that decide who may generate."""
