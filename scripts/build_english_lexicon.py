#!/usr/bin/env python3
"""Build data/lexicon/english.txt, the common-English word list behind the language
detector's second fast path (src/clean/language.rs).

Why: whatlang guesses badly on short texts made of content words and numbers (earnings
tables such as "Shr 31 cts vs 28 cts / Net 11.9 mln vs 10.9 mln" come out as French), and a
trigram comparison against every language costs ~600k instructions per call. A word list
recognises such English text cheaply and correctly.

What: the lowercased common words of CoNLL-2003 eng.train (Reuters RCV1 news, 1996; tokens
tagged O and not proper nouns, numerals or foreign words) seen at least MIN_COUNT times,
plus the English newswire abbreviations, number, month and weekday words below (written by
the team), minus words that are frequent function words in other Latin-script languages,
so that text in those languages never reaches the list's threshold by them. Only word
frequencies are kept (facts derived from the corpus); no text of it.

Usage: scripts/build_english_lexicon.py [path/to/eng.train] > data/lexicon/english.txt
"""
import collections
import re
import sys

MIN_COUNT = 3

# English newswire abbreviations and words the tagger marks as numerals or proper nouns.
EXTRA = """
vs cts ct dlrs dlr mln bln pct qtr qtrs shr shrs revs rev avg oper qtly mthly semi div divs
inc corp co ltd plc pty prior payable record note notes nine-month six-month ytd yr yrs
net loss profit sales earnings dividend dividends tonnes tons bushels barrels
zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
ninety hundred thousand million millions billion billions trillion half quarter
first second third fourth fifth
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
monday tuesday wednesday thursday friday saturday sunday
""".split()

# Frequent words of French, Spanish, Portuguese, Italian, German, Dutch and the Scandinavian
# languages that also occur as English tokens or name parts ("par", "plus", "prix", "come").
DENY = """
a al als am au aux da dal das de degli dei del della delle dem den der des det die
do dos du e een ein eine el em en er es et fra für het il im in ist la las le les lo los
come door hat man met mit na nas no nos o og om op par per plus por prix que se si som son
su sur te til um un una une und van vom von war y zu
""".split()


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/conll2003/eng.train"
    counts: collections.Counter[str] = collections.Counter()
    with open(path, encoding="ascii") as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4 or parts[0] == "-DOCSTART-":
                continue
            word, pos, _chunk, ner = parts
            if ner != "O" or pos in ("NNP", "NNPS", "CD", "FW", "SYM"):
                continue
            if not re.fullmatch(r"[A-Za-z]+", word):
                continue
            counts[word.lower()] += 1
    words = {w for w, n in counts.items() if n >= MIN_COUNT}
    words |= set(EXTRA)
    words -= set(DENY)
    words = {w for w in words if len(w) >= 2 and re.fullmatch(r"[a-z]+", w)}
    out = sys.stdout
    out.write("# Common English words for the language detector's word-list fast path.\n")
    out.write("# Built by scripts/build_english_lexicon.py: lowercased common words of CoNLL-2003\n")
    out.write(f"# eng.train (Reuters RCV1, 1996; word frequencies only, count >= {MIN_COUNT}) plus\n")
    out.write("# English newswire abbreviations, numbers, months and weekdays, minus frequent\n")
    out.write("# function words of other Latin-script languages. One word per line, sorted.\n")
    for w in sorted(words):
        out.write(w + "\n")


if __name__ == "__main__":
    main()
