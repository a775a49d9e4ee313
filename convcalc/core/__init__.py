"""The vocabulary every package shares: errors and locations, text, exact numbers and formulas that explain
themselves, key converters with their schema fragments, shapes and warning codes. Imports nothing else of convcalc.
"""
