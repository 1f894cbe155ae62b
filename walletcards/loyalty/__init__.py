"""The loyalty domain: programmes, customers, cards, orders and the points ledger.

No Flask and no HTTP here: entry points open the transaction and pass the session in.
"""
