"""The till: the cashier page and API (scan, earn, redeem), how a code finds its card,
and the till's idempotency records. Staff accounts live in walletcards.staff."""
