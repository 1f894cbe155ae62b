"""The shop owner's side: the owner's API, the dashboard and its numbers, programme settings,
and the customer import from another system."""
