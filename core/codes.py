"""Codes people read aloud (order, customer, return and appointment numbers).

Readable codes use an alphabet without look-alikes (no 0/O, 1/I/L, U) so a number spelled over
the phone is heard right. They are random, not sequential, and unique by a database constraint.
"""

import secrets

READABLE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def readable_code(prefix: str, length: int = 8) -> str:
    """A prefix and `length` characters: 30**8 ≈ 6.6e11 values. A clash is that rare; should one
    happen, the unique constraint refuses the row and the client gets a 409 it can retry."""
    return prefix + "".join(secrets.choice(READABLE_ALPHABET) for _ in range(length))


def customer_number() -> str:
    return readable_code("C")
