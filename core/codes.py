"""Codes people read aloud (order, customer, return and appointment numbers), and secret codes
people type (pickup codes).

Readable codes use an alphabet without look-alikes (no 0/O, 1/I/L, U) so a number spelled over
the phone is heard right. They are random, not sequential, and unique by a database constraint.
"""

import math
import secrets

READABLE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

# Crockford's base32: 32 symbols, no I, L, O or U; on input I/L read as 1 and O as 0.
CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SECRET_CODE_LENGTH = 13  # 13 × 5 = 65 bits of randomness
SECRET_CODE_GROUPS = (4, 4, 5)  # shown as XXXX-XXXX-XXXXX: 15 characters
SECRET_CODE_BITS = SECRET_CODE_LENGTH * math.log2(len(CROCKFORD_ALPHABET))
_CROCKFORD_READS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def readable_code(prefix: str, length: int = 8) -> str:
    """A prefix and `length` characters: 30**8 ≈ 6.6e11 values. A clash is that rare; should one
    happen, the unique constraint refuses the row and the client gets a 409 it can retry.
    One draw from `secrets` spelled in base 30 (uniform, like a draw per character, and eight
    times cheaper: imports make thousands a second)."""
    base = len(READABLE_ALPHABET)
    value = secrets.randbelow(base**length)
    chars = []
    for _ in range(length):
        value, digit = divmod(value, base)
        chars.append(READABLE_ALPHABET[digit])
    return prefix + "".join(chars)


def customer_number() -> str:
    return readable_code("C")


def _grouped(symbols: str) -> str:
    groups, start = [], 0
    for size in SECRET_CODE_GROUPS:
        groups.append(symbols[start : start + size])
        start += size
    return "-".join(groups)


def secret_code() -> str:
    """A one-time secret a person reads out or types (a pickup code): 65 bits from `secrets`, too
    many to guess at the rate the look-up endpoints allow, in Crockford base32 grouped by dashes."""
    return _grouped("".join(secrets.choice(CROCKFORD_ALPHABET) for _ in range(SECRET_CODE_LENGTH)))


def secret_code_formatted(text: str) -> str | None:
    """What a person typed, as a stored code (XXXX-XXXX-XXXXX), or None when it cannot be one:
    for looking a code up by equality (the column is unique and indexed)."""
    symbols = secret_code_normalise(str(text))
    if len(symbols) != SECRET_CODE_LENGTH or not set(symbols) <= set(CROCKFORD_ALPHABET):
        return None
    return _grouped(symbols)


def secret_code_normalise(text: str) -> str:
    """What was typed, as the symbols it stands for: case, dashes and spaces do not matter, and
    O, I and L are read as the digits they look like (Crockford's decoding rule)."""
    return "".join(text.split()).replace("-", "").upper().translate(_CROCKFORD_READS)
