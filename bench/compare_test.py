"""Tests of compare.py's report arithmetic (run by bench/goepoch's
TestCompareReport, or: cd bench && python3 -m unittest compare_test)."""
import unittest

import compare


def record(rnd, wall, cpu):
    # Two epochs: the first (warm-up) is not timed.
    return {"round": rnd, "epochs": [{"wall_s": 99.0, "cpu_s": 99.0}, {"wall_s": wall, "cpu_s": cpu}]}


class OverheadTest(unittest.TestCase):
    def test_pairs_rounds(self):
        # Round 2's host was slow for both settings: its ratio is still 1.2.
        without = [record(1, 1.0, 2.0), record(2, 2.0, 4.0), record(3, 1.0, 2.0)]
        with_reg = [record(3, 1.5, 3.0), record(1, 1.1, 2.2), record(2, 2.4, 4.8)]
        self.assertEqual(compare.overhead(with_reg, without), "1.20 [1.10–1.50] (1.20)")

    def test_ratio_of_medians_would_differ(self):
        # The same records, unpaired: the medians' ratio (1.5 / 1.0) is not
        # the paired median.
        without = [record(1, 1.0, 1.0), record(2, 3.0, 3.0), record(3, 1.0, 1.0)]
        with_reg = [record(1, 1.1, 1.1), record(2, 3.3, 3.3), record(3, 1.5, 1.5)]
        self.assertEqual(compare.overhead(with_reg, without), "1.10 [1.10–1.50] (1.10)")

    def test_unmatched_rounds(self):
        self.assertEqual(compare.overhead([record(2, 1.0, 1.0)], [record(1, 1.0, 1.0)]), "–")


if __name__ == "__main__":
    unittest.main()
