"""Bringing wallets up to date: the push worker and the scheduled jobs."""
