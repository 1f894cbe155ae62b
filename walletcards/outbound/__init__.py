"""What leaves the service besides wallet pushes: the card email and signed events to the shop's
CRM. Both are written to an outbox in the same transaction as the change that causes them and
sent by the worker afterwards, with retries: a crash never loses one."""
