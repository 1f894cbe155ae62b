"""The till: its page and API (scan, earn, redeem), how a code finds a card, and the till's
writes (``till.py``). Staff accounts and sessions: :mod:`walletcards.staff`."""
