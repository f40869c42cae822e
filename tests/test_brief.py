"""The day in brief: every number is one the note's own tables print, words of magnitude follow the
documented thresholds, sentences follow what happened, and Home carries the latest brief."""
import re

import pytest

from cli_runs import run
from kbgen.notes.prose import moved

WIKILINK = re.compile(r"\[\[[^\]]*\]\]")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
NUMBER = re.compile(r"[+-]?\d[\d,]*(?:\.\d+)?(?:%| pts|x)?(?!st|nd|rd|th)")
LABEL_RUN = re.compile(r"\[\[([^\]]+)\]\] moved most: .* rated ([A-Za-z -]+?) for the (\d+)(?:st|nd|rd|th) straight session")
MAGNITUDE = re.compile(r"(was flat at|edged up|edged down|rose|fell|climbed|slid|surged|slumped|jumped|tumbled|"
                       r"soared|plunged) ([+-]?\d+\.\d)%")
# The thresholds the README documents, written out independently of kbgen/notes/prose.py:
# word -> (smallest size, size below which it is used), in percent
INDEX_SCALE = {"edged": (0.05, 0.3), "rose": (0.3, 1), "fell": (0.3, 1), "climbed": (1, 2), "slid": (1, 2),
               "surged": (2, 1e9), "slumped": (2, 1e9)}
STOCK_SCALE = {"edged": (0.05, 0.3), "rose": (0.3, 1), "fell": (0.3, 1), "climbed": (1, 5), "slid": (1, 5),
               "jumped": (5, 10), "tumbled": (5, 10), "soared": (10, 1e9), "plunged": (10, 1e9)}
SESSIONS = 12


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A demo project with daily notes for the last SESSIONS sessions."""
    import datetime as dt

    from conftest import DEMO_END, MarketClock
    from kbgen.config import load_config
    from kbgen.jobs.init import init_project
    from kbgen.sources.demo import DEMO_SOURCE, simulate_market
    from kbgen.store import Store

    root = tmp_path_factory.mktemp("brief")
    init_project(root)
    config = load_config(root / "kbgen.yml")
    with Store(config.store_path) as store:
        store.upsert(simulate_market(config.securities, end=DEMO_END, sessions=300), DEMO_SOURCE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("kbgen.exchange.now", lambda: MarketClock().now)
        result = run(config, "build", "--from", (DEMO_END - dt.timedelta(days=17)).isoformat(),
                     "--to", DEMO_END.isoformat())
    assert result.exit_code == 0, result.output
    notes = sorted((config.vault_dir / "Daily").glob("*.md"))
    assert len(notes) >= SESSIONS - 1
    return config, {p.stem: p.read_text() for p in notes}


def brief_of(note: str) -> str:
    match = re.search(r"## The day in brief[^\n]*\n\n(.+?)\n", note)
    assert match, "the note has no brief"
    return match.group(1)


def sentences(brief: str) -> list[str]:
    return [s for s in re.split(r"(?<=\.) (?=[A-Z\[])", brief) if s]


def figures(text: str) -> list[str]:
    """The numbers of a text, leaving out note names (links) and dates."""
    return NUMBER.findall(ISO_DATE.sub(" ", WIKILINK.sub(" ", text)))


def sector_counts(note: str) -> set[str]:
    """How many sectors beat the benchmark on the 1D excess column of the sector board, and how many there are."""
    board = note.split("## Sector board", 1)[1].split("\n\n", 2)[1]
    rows = [line.split("|") for line in board.splitlines()[2:]]
    excess = [float(cells[5].strip().rstrip("%")) for cells in rows]
    return {str(sum(1 for e in excess if e > 0)), str(len(excess))}


def test_every_number_of_every_brief_is_printed_by_the_notes_tables(built):
    _, notes = built
    unmatched = []
    for day, note in notes.items():
        brief = brief_of(note)
        tables = note.replace(brief, "")
        printed = set(figures(tables)) | {n.lstrip("+-") for n in figures(tables)}
        counts = sector_counts(note)
        for number in figures(brief):
            if number not in printed and number not in counts:
                unmatched.append((day, number))
    assert unmatched == []


def labels_of(note: str) -> dict[str, str]:
    """Thesis -> impact label, from the daily note's thesis table."""
    table = note.split("## Thesis impacts", 1)[1].split("<!--", 1)[0]
    return {m.group(1): m.group(2) for m in re.finditer(r"\| \[\[([^\]|]+)\]\] \| ([^|]+?) \|", table)}


def test_a_label_streak_in_the_brief_is_counted_from_the_earlier_notes(built):
    _, notes = built
    days = sorted(notes)
    checked = 0
    for i, day in enumerate(days):
        found = LABEL_RUN.search(brief_of(notes[day]))
        if not found or int(found.group(3)) > i:
            continue                     # a run longer than the notes built here cannot be recounted
        thesis, label, run = found.group(1), found.group(2), int(found.group(3))
        earlier = [labels_of(notes[d]).get(thesis) for d in days[:i + 1]]
        assert earlier[-run:] == [label] * run and earlier[-run - 1] != label
        checked += 1
    assert checked >= 1


def test_briefs_have_three_to_six_sentences_and_none_repeats_across_days(built):
    _, notes = built
    seen: dict[str, str] = {}
    for day, note in notes.items():
        said = sentences(brief_of(note))
        assert 3 <= len(said) <= 6, (day, said)
        for sentence in said:
            assert sentence not in seen, f"{day} repeats {seen.get(sentence)}: {sentence}"
            seen[sentence] = day


def test_words_of_magnitude_follow_the_documented_thresholds(built):
    _, notes = built
    checked = 0
    for note in notes.values():
        for sentence in sentences(brief_of(note)):
            scale = STOCK_SCALE if "stocks" in sentence.split(",")[0] or "among stocks" in sentence else INDEX_SCALE
            for word, size in MAGNITUDE.findall(sentence):
                value = abs(float(size))
                if word == "was flat at":
                    assert value == 0.0
                    continue
                low, high = scale[word.split()[0]]
                assert low <= value + 0.05 and value - 0.05 < high, (word, size, sentence)
                checked += 1
    assert checked >= 2 * len(notes)


@pytest.mark.parametrize("value, scale, word", [
    (0.0004, "index", "was flat at"), (-0.0004, "stock", "was flat at"),
    (0.002, "index", "edged up"), (-0.002, "index", "edged down"),
    (0.006, "index", "rose"), (-0.006, "stock", "fell"),
    (0.015, "index", "climbed"), (-0.015, "index", "slid"), (0.025, "index", "surged"), (-0.03, "index", "slumped"),
    (0.04, "stock", "climbed"), (0.07, "stock", "jumped"), (-0.07, "stock", "tumbled"),
    (0.138, "stock", "soared"), (-0.2, "stock", "plunged"),
])
def test_magnitude_words(value, scale, word):
    assert moved(value, scale) == word


def test_home_carries_the_latest_brief_linked_to_its_day(built):
    config, notes = built
    latest = max(notes)
    home = (config.vault_dir / "Home.md").read_text()
    assert f"## The day in brief ([[{latest}]])" in home
    assert brief_of(notes[latest]) in home


def test_the_simulated_warning_still_opens_the_note(built):
    _, notes = built
    for note in notes.values():
        body = note.split("---\n", 2)[2]
        assert body.index("[!warning] Simulated data") < body.index("## The day in brief")
