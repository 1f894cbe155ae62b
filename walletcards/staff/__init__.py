"""Staff accounts, their API tokens and browser sessions: used by the till, the dashboard and
the owner's API alike."""
