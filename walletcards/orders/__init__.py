"""Intake of shop events: adapters verify and parse webhooks, one service applies them."""
