"""VADER's compound score, exactly as vaderSentiment 3.3.2 computes it, in a fifth less of the work.

The sentiment component reads only ``polarity_scores(text)["compound"]``. VADER's own code lower-cases the whole
post's word list again for every negation and idiom check of every sentiment word, walks every character of
every post looking for emojis, and computes the neg/neu/pos shares nobody reads. ``Compound`` computes the same
compound with the same rules in the same order (the same floating-point operations, so the same value, not a
close one):

- the emoji pass runs only on text with a non-ASCII character (every emoji in VADER's lexicon is non-ASCII; an
  ASCII text comes out of VADER's pass stripped and otherwise unchanged);
- each word is lower-cased once, and the checks read that list;
- the contrastive "but" rule is VADER's own function (it has quirks worth keeping exactly), run only when the
  post holds "but".

``tests/nlp/test_vader_compound.py`` holds it equal to ``SentimentIntensityAnalyzer.polarity_scores`` on the
sample world's posts, the development texts when present, and cases written for each rule.
"""

from __future__ import annotations

import string

from vaderSentiment import vaderSentiment as vader

NEGATE = frozenset(vader.NEGATE)
BOOSTER = vader.BOOSTER_DICT
SPECIAL_CASES = vader.SPECIAL_CASES
N_SCALAR = vader.N_SCALAR
C_INCR = vader.C_INCR
PUNCTUATION = string.punctuation


def _negated(word_lower: str) -> bool:
    """``vaderSentiment.negated([word])`` for one lower-cased word."""
    return word_lower in NEGATE or "n't" in word_lower


class Compound:
    """``analyzer.polarity_scores(text)["compound"]``, computed with less work (see the module)."""

    def __init__(self, analyzer: vader.SentimentIntensityAnalyzer) -> None:
        self.lexicon = analyzer.lexicon
        self.emojis = analyzer.emojis
        if any(key.isascii() for key in self.emojis):  # the ASCII shortcut would then differ from VADER
            raise ValueError("VADER's emoji lexicon holds an ASCII key: the ASCII shortcut does not apply")

    def _without_emojis(self, text: str) -> str:
        """VADER's emoji pass: each emoji replaced by its description, spaced as VADER spaces it."""
        if text.isascii():
            return text.strip()
        out = []
        prev_space = True
        for char in text:
            description = self.emojis.get(char)
            if description is not None:
                if not prev_space:
                    out.append(" ")
                out.append(description)
                prev_space = False
            else:
                out.append(char)
                prev_space = char == " "
        return "".join(out).strip()

    def __call__(self, text: str) -> float:
        text = self._without_emojis(text)
        words = []
        for token in text.split():  # SentiText: punctuation stripped unless that leaves two characters or fewer
            stripped = token.strip(PUNCTUATION)
            words.append(token if len(stripped) <= 2 else stripped)
        count = len(words)
        capitals = sum(1 for word in words if word.isupper())
        is_cap_diff = 0 < count - capitals < count
        lower = [word.lower() for word in words]
        lexicon = self.lexicon
        sentiments: list[float] = []
        for i, item_lower in enumerate(lower):
            if item_lower in BOOSTER or (i < count - 1 and item_lower == "kind" and lower[i + 1] == "of"):
                sentiments.append(0)
                continue
            valence = 0
            if item_lower in lexicon:
                valence = self._valence(words, lower, i, is_cap_diff)
            sentiments.append(valence)
        if "but" in lower:
            sentiments = vader.SentimentIntensityAnalyzer._but_check(words, sentiments)
        if not sentiments:
            return 0.0
        total = float(sum(sentiments))
        exclamations = min(text.count("!"), 4) * 0.292
        questions = text.count("?")
        emphasis = exclamations + ((questions * 0.18 if questions <= 3 else 0.96) if questions > 1 else 0)
        if total > 0:
            total += emphasis
        elif total < 0:
            total -= emphasis
        return round(vader.normalize(total), 4)

    def _valence(self, words: list[str], lower: list[str], i: int, is_cap_diff: bool) -> float:
        """``SentimentIntensityAnalyzer.sentiment_valence`` for a lexicon word, on the lower-cased list."""
        lexicon = self.lexicon
        item_lower = lower[i]
        count = len(lower)
        valence = lexicon[item_lower]
        if item_lower == "no" and i != count - 1 and lower[i + 1] in lexicon:
            valence = 0.0
        if (i > 0 and lower[i - 1] == "no") or (i > 1 and lower[i - 2] == "no") \
                or (i > 2 and lower[i - 3] == "no" and lower[i - 1] in ("or", "nor")):
            valence = lexicon[item_lower] * N_SCALAR
        if words[i].isupper() and is_cap_diff:
            if valence > 0:
                valence += C_INCR
            else:
                valence -= C_INCR
        for start_i in range(0, 3):
            j = i - (start_i + 1)
            if i > start_i and lower[j] not in lexicon:
                s = 0.0  # scalar_inc_dec
                if lower[j] in BOOSTER:
                    s = BOOSTER[lower[j]]
                    if valence < 0:
                        s *= -1
                    if words[j].isupper() and is_cap_diff:
                        if valence > 0:
                            s += C_INCR
                        else:
                            s -= C_INCR
                if start_i == 1 and s != 0:
                    s = s * 0.95
                if start_i == 2 and s != 0:
                    s = s * 0.9
                valence = valence + s
                valence = self._negation(valence, lower, start_i, i)
                if start_i == 2:
                    valence = self._idioms(valence, lower, i)
        # _least_check
        if i > 1 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
            if lower[i - 2] != "at" and lower[i - 2] != "very":
                valence = valence * N_SCALAR
        elif i > 0 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
            valence = valence * N_SCALAR
        return valence

    @staticmethod
    def _negation(valence: float, lower: list[str], start_i: int, i: int) -> float:
        """``SentimentIntensityAnalyzer._negation_check`` on the lower-cased list."""
        if start_i == 0:
            if _negated(lower[i - 1]):
                valence = valence * N_SCALAR
        if start_i == 1:
            if lower[i - 2] == "never" and (lower[i - 1] == "so" or lower[i - 1] == "this"):
                valence = valence * 1.25
            elif lower[i - 2] == "without" and lower[i - 1] == "doubt":
                pass
            elif _negated(lower[i - 2]):
                valence = valence * N_SCALAR
        if start_i == 2:
            if lower[i - 3] == "never" and (lower[i - 2] == "so" or lower[i - 2] == "this") \
                    or (lower[i - 1] == "so" or lower[i - 1] == "this"):
                valence = valence * 1.25
            elif lower[i - 3] == "without" and (lower[i - 2] == "doubt" or lower[i - 1] == "doubt"):
                pass
            elif _negated(lower[i - 3]):
                valence = valence * N_SCALAR
        return valence

    @staticmethod
    def _idioms(valence: float, lower: list[str], i: int) -> float:
        """``SentimentIntensityAnalyzer._special_idioms_check`` on the lower-cased list."""
        onezero = f"{lower[i - 1]} {lower[i]}"
        twoonezero = f"{lower[i - 2]} {lower[i - 1]} {lower[i]}"
        twoone = f"{lower[i - 2]} {lower[i - 1]}"
        threetwoone = f"{lower[i - 3]} {lower[i - 2]} {lower[i - 1]}"
        threetwo = f"{lower[i - 3]} {lower[i - 2]}"
        for sequence in (onezero, twoonezero, twoone, threetwoone, threetwo):
            if sequence in SPECIAL_CASES:
                valence = SPECIAL_CASES[sequence]
                break
        if len(lower) - 1 > i:
            zeroone = f"{lower[i]} {lower[i + 1]}"
            if zeroone in SPECIAL_CASES:
                valence = SPECIAL_CASES[zeroone]
        if len(lower) - 1 > i + 1:
            zeroonetwo = f"{lower[i]} {lower[i + 1]} {lower[i + 2]}"
            if zeroonetwo in SPECIAL_CASES:
                valence = SPECIAL_CASES[zeroonetwo]
        for n_gram in (threetwoone, threetwo, twoone):
            if n_gram in BOOSTER:
                valence = valence + BOOSTER[n_gram]
        return valence
