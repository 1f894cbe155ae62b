"""A customer's data rights: export (GDPR art. 15/20), erasure (art. 17), and withdrawing
marketing consent (the unsubscribe link in every email, the card page's toggle)."""
