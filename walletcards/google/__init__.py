"""Google Wallet: loyalty class/object bodies, the REST client (google-auth), the save link."""
