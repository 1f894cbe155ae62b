"""Apple Wallet: pass building and signing, the PassKit web service, APNs pushes."""
