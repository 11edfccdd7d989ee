"""Readable codes (order, customer numbers): the alphabet without look-alikes, every character
drawn uniformly."""

from collections import Counter

from core.codes import READABLE_ALPHABET, readable_code


def test_codes_use_the_prefix_and_the_readable_alphabet_only():
    for _ in range(500):
        code = readable_code("R")
        assert len(code) == 9 and code[0] == "R"
        assert set(code[1:]) <= set(READABLE_ALPHABET)


def test_every_position_takes_every_character_about_equally_often():
    draws = [readable_code("", length=8) for _ in range(30_000)]
    expected = len(draws) / len(READABLE_ALPHABET)  # 1,000 per character and position
    for position in (0, 3, 7):
        counts = Counter(code[position] for code in draws)
        assert set(counts) == set(READABLE_ALPHABET)
        assert all(abs(n - expected) < 160 for n in counts.values()), counts  # ~5 standard deviations
