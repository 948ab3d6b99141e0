"""Attribution: guess which vendor made a stealth model, with evidence and calibrated odds.

One module per signal (``style`` compares answers to shared prompts with reference
models), ``calibration`` turns scores into honest probabilities, ``corpus`` loads
reference answers, and ``benchmark`` measures how often the signal is right.
"""
