"""Read models computed from the log of events; each can be dropped and rebuilt at any time."""
