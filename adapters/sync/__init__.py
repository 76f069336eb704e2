"""Upstream sync: a node's feed of its subtree's events, and the pull that stores a downstream's
feed into the upstream's own event log (DESIGN.md decisions 3, 4 and 6)."""
