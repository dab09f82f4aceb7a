"""Progress in a log (not a terminal): a line per step with the time left at the pace so far,
the clock injected; sparse counters print about one line per 5%; a new cell starts afresh."""

from workbench.cli.common import LiveProgress


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _lines(capsys):
    return capsys.readouterr().err.splitlines()


def test_lines_carry_the_time_left_at_the_pace_so_far(capsys):
    clock = Clock()
    with LiveProgress(clock=clock) as progress:
        for done, at in ((8, 100.0), (16, 104.0), (24, 110.0), (32, 400.0), (96, 900.0)):
            clock.now = at
            progress(done, 96)
    assert _lines(capsys) == [
        "sampled 8/96 questions",  # no pace yet (the first count comes after the model loads)
        "sampled 16/96 questions, about 40 s left",  # 4 s per 8, 80 left
        "sampled 24/96 questions, about 45 s left",  # 10 s per 16, 72 left
        "sampled 32/96 questions, about 13 min left",  # 300 s per 24, 64 left: 800 s
        "sampled 96/96 questions"]


def test_a_new_cell_starts_its_pace_afresh_and_sparse_counts_print_every_5_percent(capsys):
    clock = Clock()
    with LiveProgress(clock=clock) as progress:
        for label, done, at in (("a", 2, 0.0), ("a", 4, 1000.0), ("b", 2, 1001.0),
                                ("b", 4, 1002.0)):
            clock.now = at
            progress(done, 6, label)
    assert _lines(capsys) == ["a: sampled 2/6 questions",
                              "a: sampled 4/6 questions, about 17 min left",
                              "b: sampled 2/6 questions",
                              "b: sampled 4/6 questions, about 1 s left"]
    with LiveProgress("judged", "classes", sparse=True, clock=clock) as progress:
        for done in range(1, 201):
            progress(done, 200)
    lines = _lines(capsys)
    assert len(lines) == 21 and lines[-1] == "judged 200/200 classes"  # the first, then 5%s
