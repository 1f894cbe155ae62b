"""Joining without a purchase: the sign-up page ``/join/<slug>``, its confirmation link and
the counter poster (docs/joining.md). ``links`` holds what the worker needs too (no Flask)."""
