"""The `bangfu` command line: `main.py` parses and dispatches; one module per command group
(`demo`, `database` for verify/summary/migrate, `projections`, `export`, `serve`, `token`, `files`,
`imports`, `reconcile`, `civil_affairs`, `spotcheck`, `sync`, `keys`, `users`)."""
