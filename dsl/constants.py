"""The 28 named constants of the DSL, as in arc-dsl, in the order of constants.tsv."""

F = False
T = True

ZERO = 0
ONE = 1
TWO = 2
THREE = 3
FOUR = 4
FIVE = 5
SIX = 6
SEVEN = 7
EIGHT = 8
NINE = 9
TEN = 10
NEG_ONE = -1
NEG_TWO = -2

DOWN = (1, 0)
RIGHT = (0, 1)
UP = (-1, 0)
LEFT = (0, -1)
ORIGIN = (0, 0)
UNITY = (1, 1)
NEG_UNITY = (-1, -1)
UP_RIGHT = (-1, 1)
DOWN_LEFT = (1, -1)
ZERO_BY_TWO = (0, 2)
TWO_BY_ZERO = (2, 0)
TWO_BY_TWO = (2, 2)
THREE_BY_THREE = (3, 3)

CONSTANTS: dict[str, object] = {
    "F": F, "T": T,
    "ZERO": ZERO, "ONE": ONE, "TWO": TWO, "THREE": THREE, "FOUR": FOUR, "FIVE": FIVE,
    "SIX": SIX, "SEVEN": SEVEN, "EIGHT": EIGHT, "NINE": NINE, "TEN": TEN,
    "NEG_ONE": NEG_ONE, "NEG_TWO": NEG_TWO,
    "DOWN": DOWN, "RIGHT": RIGHT, "UP": UP, "LEFT": LEFT,
    "ORIGIN": ORIGIN, "UNITY": UNITY, "NEG_UNITY": NEG_UNITY,
    "UP_RIGHT": UP_RIGHT, "DOWN_LEFT": DOWN_LEFT,
    "ZERO_BY_TWO": ZERO_BY_TWO, "TWO_BY_ZERO": TWO_BY_ZERO,
    "TWO_BY_TWO": TWO_BY_TWO, "THREE_BY_THREE": THREE_BY_THREE,
}
"""Constant name -> value, in the row order of constants.tsv (the ids of the native side)."""
