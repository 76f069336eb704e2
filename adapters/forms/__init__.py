"""Paper forms: the seeds' forms printed from a file's events, with a verification code."""
