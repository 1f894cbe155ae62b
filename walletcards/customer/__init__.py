"""The customer's card page: add-to-wallet buttons, QR code, balance."""
