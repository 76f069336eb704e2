"""The pure domain of bangfu: the household file, its rules, and the union tree.

Nothing here does I/O, reads the clock or imports a framework. Adapters call in through the
use cases (`domain.usecases`) and the ports they declare (`domain.ports`).
"""
