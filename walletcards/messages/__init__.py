"""Messages through the card (issue 20): the owner's messages to all members, a segment, tiers
or listed members, put on the Apple pass's back with a lock-screen notice, with the proof of
delivery per card (pushed by APNs, fetched by the phone). See docs/messages.md."""
