"""`python -m walletcards.cli`."""

from walletcards.cli import main

main()
