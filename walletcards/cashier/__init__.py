"""The till: staff accounts and roles, and the cashier API (scan, earn, redeem)."""
