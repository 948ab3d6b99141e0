"""Attribution: guess which vendor made a stealth model, with evidence and calibrated odds.

One module per signal (``tokenizer`` on prompt-token counts, ``identity`` on self-reports, ``style`` on
answers to shared prompts, with ``lexical`` for the answers joined, ``metadata`` on the listing), the
``combiner`` that ranks vendors, ``calibration`` that turns scores into honest probabilities and learns
when to say "not sure", ``guess`` for the result, and ``corpus`` that loads reference answers.
"""
