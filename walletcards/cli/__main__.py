"""`python -m walletcards.cli`."""

from walletcards.cli import main

if __name__ == "__main__":
    main()
