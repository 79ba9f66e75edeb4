"""Tests of the evaluation's pure parts: the statistics against values worked by hand, the mutations, the
visible/hidden split. Run: python3 -m unittest discover -s scripts/evaluation -p 'test_*.py' (swift test runs
it too)."""
import ast
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import freeze  # noqa: E402
import mutate  # noqa: E402
import split  # noqa: E402
import stats  # noqa: E402


class StatisticsTests(unittest.TestCase):
    def test_wilson_matches_the_protocols_intervals(self):
        low, high = stats.wilson(1, 10)
        self.assertAlmostEqual(low, 0.0179, places=4)
        self.assertAlmostEqual(high, 0.4042, places=4)
        low, high = stats.wilson(2, 9)
        self.assertAlmostEqual(low, 0.0632, places=4)
        self.assertAlmostEqual(high, 0.5474, places=4)
        self.assertEqual(stats.wilson(0, 0), (0.0, 1.0))

    def test_exact_mcnemar_is_the_binomial_tail_of_the_discordant_tasks(self):
        self.assertAlmostEqual(stats.mcnemar(1, 1), 0.75)
        self.assertAlmostEqual(stats.mcnemar(1, 1, one_sided=False), 1.0)
        # 10 of 12 discordant tasks to the treatment: (C(12,10) + C(12,11) + C(12,12)) / 2^12.
        self.assertAlmostEqual(stats.mcnemar(2, 10), 79 / 4096)
        self.assertAlmostEqual(stats.mcnemar(2, 10, one_sided=False), 2 * 79 / 4096)
        self.assertEqual(stats.mcnemar(0, 0), 1.0)

    def test_holm_adjusts_in_rank_order_and_never_decreases(self):
        adjusted = stats.holm([0.01, 0.04, 0.03])
        for got, expected in zip(adjusted, [0.03, 0.06, 0.06]):
            self.assertAlmostEqual(got, expected)

    def test_the_cluster_bootstrap_is_reproducible_and_brackets_the_mean(self):
        pairs = [("p1", 0, 1), ("p1", 0, 1), ("p2", 1, 1), ("p2", 0, 0), ("p3", 0, 1), ("p3", 1, 0)]
        first = stats.cluster_bootstrap(pairs, replicates=2000)
        self.assertEqual(first, stats.cluster_bootstrap(pairs, replicates=2000))
        self.assertLessEqual(first[0], 2 / 6)
        self.assertGreaterEqual(first[1], 2 / 6)
        self.assertEqual(stats.cluster_bootstrap([("p", 1, 1), ("q", 0, 0)], replicates=100), (0.0, 0.0))

    def test_comparisons_pair_tasks_by_run(self):
        rows = []
        for task, a, b in (("t1", 0, 1), ("t2", 0, 1), ("t3", 1, 1), ("t4", 1, 0), ("t5", 0, 0)):
            rows.append({"run": 1, "task": task, "project": task, "arm": "A", "solved": a})
            rows.append({"run": 1, "task": task, "project": task, "arm": "B", "solved": b})
        # A task that only one arm ran is not paired.
        rows.append({"run": 1, "task": "t6", "project": "t6", "arm": "B", "solved": 1})
        result = stats.compare(rows, "B", "A")
        self.assertEqual((result["pairs"], result["b"], result["c"]), (5, 1, 2))
        self.assertAlmostEqual(result["p_mcnemar"], 0.5)
        self.assertAlmostEqual(result["difference"], 0.2)
        table = stats.markdown(rows)
        self.assertIn("| B vs A | 5 | 1 | 2 | 0.5 | primary |", table)


class FreezeTests(unittest.TestCase):
    """The selection rule on a calibration whose scores are known."""

    def candidates(self):
        found, rows = [], []
        for number in range(90):
            candidate = {"id": f"p{number % 15}:f{number}", "project": f"p{number % 15}",
                         "tier": ("T1", "T2", "T3")[number % 3]}
            found.append(candidate)
            score = (0, 1, 1, 2)[number % 4]
            for sample in (0, 1):
                rows.append({"run": 0, "arm": "A", "task": candidate["id"], "sample": sample,
                             "solved": sample < score})
        # A candidate whose session failed for the infrastructure is never chosen.
        rows[0]["infrastructure_failure"] = "the server died"
        return found, rows

    def test_the_sets_keep_the_shares_the_caps_and_apart(self):
        found, rows = self.candidates()
        score = freeze.scores(found, rows)
        self.assertNotIn("p0:f0", score)
        test = freeze.choose(found, score, 40, set())
        development = freeze.choose(found, score, 20, {c["id"] for c in test})
        self.assertEqual((len(test), len(development)), (40, 20))
        self.assertFalse({c["id"] for c in test} & {c["id"] for c in development})
        counts = [sum(1 for c in test if score[c["id"]] == s) for s in (0, 1, 2)]
        self.assertEqual(counts, [14, 16, 10])
        self.assertFalse([c for c in test if score[c["id"]] == 0 and c["tier"] == "T3"])
        for project in {c["project"] for c in test}:
            self.assertLessEqual(sum(1 for c in test if c["project"] == project), freeze.PER_PROJECT)
        self.assertEqual(test, freeze.choose(list(reversed(found)), score, 40, set()), "by hash, not by order")

    def test_the_hash_is_of_the_canonical_list(self):
        self.assertEqual(freeze.canonical_hash([{"b": 1, "a": 2}]), freeze.canonical_hash([{"a": 2, "b": 1}]))
        self.assertNotEqual(freeze.canonical_hash([{"a": 1}]), freeze.canonical_hash([{"a": 2}]))


class MutationTests(unittest.TestCase):
    SOURCE = '''def clamp(value, low, high):
    """Value kept between low and high."""
    if value < low:
        return low
    limit = high - 0
    if value > limit:
        return limit
    return value + 0
'''

    def test_every_mutation_compiles_changes_the_function_and_keeps_the_docstring(self):
        found = mutate.mutations(self.SOURCE, "clamp")
        operations = {m["op"] for m in found}
        self.assertTrue({"flip_comparison", "flip_operator", "change_constant", "invert_if", "remove_if",
                         "remove_assignment", "swap_operands"} <= operations, operations)
        for mutation in found:
            changed = mutate.apply(self.SOURCE, [mutation])
            ast.parse(changed)
            self.assertNotEqual(changed, self.SOURCE)
            self.assertIn('"""Value kept between low and high."""', changed)

    def test_a_flipped_comparison_is_the_one_edit(self):
        flip = next(m for m in mutate.mutations(self.SOURCE, "clamp") if m["op"] == "flip_comparison")
        self.assertEqual(mutate.apply(self.SOURCE, [flip]), self.SOURCE.replace("value < low", "value <= low", 1))

    def test_two_mutations_apply_together_and_overlapping_ones_are_refused(self):
        found = mutate.mutations(self.SOURCE, "clamp")
        first = next(m for m in found if m["op"] == "flip_comparison")
        second = next(m for m in found if m["op"] == "change_constant" and m["line"] == 8)
        both = mutate.apply(self.SOURCE, [first, second])
        self.assertIn("value <= low", both)
        self.assertIn("return value + 1", both)
        invert = next(m for m in found if m["op"] == "invert_if" and m["line"] == 3)
        self.assertTrue(mutate.overlaps(first, invert))
        with self.assertRaises(ValueError):
            mutate.apply(self.SOURCE, [first, invert])

    def test_a_removal_that_would_empty_a_block_is_not_offered(self):
        source = "def f(x):\n    if x:\n        y = 1\n    return x\n"
        self.assertNotIn("remove_assignment", {m["op"] for m in mutate.mutations(source, "f")})


class SplitTests(unittest.TestCase):
    TESTS = '''import pytest
import mod

TABLE = [
    (1, 2),
    (2, 3),
    (3, 4),
    (4, 5),
]
ONLY_HIDDEN = [(9, 9)]


@pytest.mark.parametrize(("a", "b"), TABLE)
def test_increment_table(a, b):
    assert mod.increment(a) == b


def test_increment_zero():
    assert mod.increment(0) == 1


def test_increment_hidden_table():
    for a, b in ONLY_HIDDEN:
        assert mod.increment(a - 1) == b


def test_other():
    assert mod.other() == 0
'''

    def test_units_are_rows_of_a_single_table_or_whole_tests(self):
        units = split.units(self.TESTS, "increment")
        self.assertEqual([u["id"] for u in units], ["test_increment_table[0]", "test_increment_table[1]",
                                                    "test_increment_table[2]", "test_increment_table[3]",
                                                    "test_increment_zero", "test_increment_hidden_table"])

    def test_a_table_with_an_id_list_is_cut_with_its_ids(self):
        source = self.TESTS.replace('@pytest.mark.parametrize(("a", "b"), TABLE)',
                                    '@pytest.mark.parametrize(("a", "b"), TABLE, ids=["one", "two", "three", "four"])')
        units = split.units(source, "increment")
        self.assertEqual(len([u for u in units if u["row"] is not None]), 4)
        hidden = [u for u in units if u["id"] in ("test_increment_table[1]", "test_increment_table[3]")]
        visible = split.visible_source(source, "increment", hidden)
        ast.parse(visible)
        self.assertIn('ids=["one",  "three", ]', visible)
        self.assertNotIn("(2, 3)", visible)

    def test_a_table_whose_ids_are_not_one_literal_a_row_is_one_unit(self):
        for ids in ('ids=["one", "two"]', "ids=str", 'indirect=True'):
            source = self.TESTS.replace('@pytest.mark.parametrize(("a", "b"), TABLE)',
                                        f'@pytest.mark.parametrize(("a", "b"), TABLE, {ids})')
            units = split.units(source, "increment")
            self.assertIn({"id": "test_increment_table", "test": "test_increment_table", "row": None}, units)
            self.assertFalse([u for u in units if u["row"] is not None])

    def test_a_table_two_tests_read_is_dealt_by_test_and_the_visible_file_parses(self):
        source = self.TESTS + '''

@pytest.mark.parametrize(("a", "b"), TABLE)
def test_increment_again(a, b):
    assert mod.increment(a) == b
'''
        units = split.units(source, "increment")
        self.assertFalse([u for u in units if u["row"] is not None])
        for hidden in ([units[0]], units[:2], units[1::2]):
            ast.parse(split.visible_source(source, "increment", hidden))

    def test_a_table_a_test_of_another_function_reads_is_still_dealt_by_row(self):
        source = self.TESTS + '''

@pytest.mark.parametrize(("a", "b"), TABLE)
def test_other_table(a, b):
    assert mod.other(a) < b
'''
        units = split.units(source, "increment")
        self.assertEqual(len([u for u in units if u["row"] is not None]), 4)
        hidden = [u for u in units if u["id"] == "test_increment_table[1]"]
        visible = split.visible_source(source, "increment", hidden)
        self.assertNotIn("(2, 3)", visible)
        self.assertIn("def test_other_table", visible)

    def test_rows_holding_letters_beyond_ascii_are_cut_whole(self):
        """ast counts columns in UTF-8 bytes: a cut made in characters left half a row (inflection's tables)."""
        source = self.TESTS.replace("(2, 3),", '(u"Malmö", "日本語"),').replace("(1, 2),", '("Ærø", 2),')
        units = split.units(source, "increment")
        hidden = [u for u in units if u["id"] in ("test_increment_table[1]", "test_increment_table[2]")]
        visible = split.visible_source(source, "increment", hidden)
        ast.parse(visible)
        self.assertIn('("Ærø", 2),', visible)
        self.assertNotIn("Malmö", visible)
        self.assertNotIn("(3, 4)", visible)
        self.assertIn("(4, 5),", visible)

    def test_visible_rows_are_renumbered_past_the_hidden_ones(self):
        units = split.units(self.TESTS, "increment")
        hidden = [u for u in units if u["id"] in ("test_increment_table[0]", "test_increment_table[2]")]
        visible = [u for u in units if u not in hidden]
        self.assertEqual([(u["id"], u["row"]) for u in split.renumbered(visible, hidden)],
                         [("test_increment_table[1]", 0), ("test_increment_table[3]", 1),
                          ("test_increment_zero", None), ("test_increment_hidden_table", None)])

    def test_the_deal_is_by_hash_alternating_and_stable(self):
        units = split.units(self.TESTS, "increment")
        visible, hidden = split.deal("test_mod.py", units)
        self.assertEqual((len(visible), len(hidden)), (3, 3))
        self.assertEqual((visible, hidden), split.deal("test_mod.py", list(reversed(units))))
        self.assertFalse({u["id"] for u in visible} & {u["id"] for u in hidden})

    def test_the_visible_file_holds_no_hidden_row_test_or_table(self):
        units = split.units(self.TESTS, "increment")
        hidden = [u for u in units if u["id"] in ("test_increment_table[1]", "test_increment_table[3]",
                                                  "test_increment_hidden_table")]
        visible = split.visible_source(self.TESTS, "increment", hidden)
        ast.parse(visible)
        self.assertIn("(1, 2),", visible)
        self.assertIn("(3, 4),", visible)
        self.assertNotIn("(2, 3)", visible)
        self.assertNotIn("(4, 5)", visible)
        self.assertNotIn("test_increment_hidden_table", visible)
        self.assertNotIn("ONLY_HIDDEN", visible)
        self.assertIn("def test_increment_zero", visible)
        self.assertIn("def test_other", visible)

    def test_node_ids_follow_pytests_order_of_rows(self):
        collected = ["test_mod.py::test_increment_table[1-2]", "test_mod.py::test_increment_table[2-3]",
                     "test_mod.py::test_increment_table[3-4]", "test_mod.py::test_increment_table[4-5]",
                     "test_mod.py::test_increment_zero", "test_mod.py::test_other"]
        chosen = [{"id": "test_increment_table[2]", "test": "test_increment_table", "row": 2},
                  {"id": "test_increment_zero", "test": "test_increment_zero", "row": None}]
        self.assertEqual(split.node_ids(collected, "test_mod.py", chosen),
                         ["test_mod.py::test_increment_table[3-4]", "test_mod.py::test_increment_zero"])


class SliceTests(unittest.TestCase):
    def test_a_literal_all_is_kept_cut_to_the_names_the_slice_defines(self):
        from make_task import extract
        source = '__all__ = ["a", "b", "c"]\n\n\ndef a():\n    return c()\n\n\ndef b():\n    return 2\n\n\n' \
            'def c():\n    return 3\n'
        sliced = extract(source, "a", stub=False)
        self.assertIn("__all__ = ['a', 'c']", sliced)
        self.assertNotIn("def b", sliced)
        namespace = {}
        exec(sliced, namespace)
        self.assertEqual(namespace["a"](), 3)


class GeneratorTests(unittest.TestCase):
    """The generator, the task and the grade on a small project packed as an sdist (no network): a package
    whose __init__ re-exports the module (all of it, and one name under another), a module with functions the tests
    do not need, and a test file that imports more than the function's tests use."""
    MODULE = '''"""Small text helpers."""
import re

VOWELS = "aeiou"


def shout(text):
    """The text in capitals, with an exclamation mark."""
    return text.upper() + "!"


def count_vowels(text):
    """How many vowels the text has, in either case."""
    total = 0
    for letter in text.lower():
        if letter in VOWELS:
            total = total + 1
    return total


def squeeze(text):
    """Runs of spaces made one."""
    return re.sub(" +", " ", text)
'''
    TESTS = '''import pytest
from tiny import count_vowels, shout, squeeze


# A list in a row makes pytest number the rows' ids (`counts0`…): cut rows renumber the rest.
@pytest.mark.parametrize(("text", "counts"), [("", [0]), ("abc", [1]), ("AEIOU", [5]), ("rhythm", [0]),
                                              ("banana", [3]), ("Queue", [4])])
def test_count_vowels(text, counts):
    assert count_vowels(text) == counts[0]


def test_count_vowels_of_a_sentence():
    assert count_vowels("The quick brown fox") == 5


def test_shout():
    assert shout("hi") == "HI!"


def test_squeeze():
    assert squeeze("a   b") == "a b"
'''

    def setUp(self):
        import projects
        self.work = tempfile.mkdtemp(prefix="eval-test-")
        self.cache = os.path.join(self.work, "cache")
        os.makedirs(self.cache)
        with tarfile.open(os.path.join(self.cache, "tinyproj-1.0.tar.gz"), "w:gz") as archive:
            for name, text in (("tinyproj-1.0/tiny/__init__.py", "from .text import *\nfrom .text import shout as loud\n"),
                               ("tinyproj-1.0/tiny/text.py", self.MODULE),
                               ("tinyproj-1.0/tests/test_text.py", self.TESTS)):
                data = text.encode()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        self.project = projects.Project("tinyproj", "1.0", {"tiny": "tiny", "tests": "tests"}, ("tiny/text.py",),
                                        ("tests/test_text.py",))
        projects.PROJECTS.append(self.project)

    def tearDown(self):
        import projects
        import shutil
        projects.PROJECTS.remove(self.project)
        shutil.rmtree(self.work, ignore_errors=True)

    def test_instances_are_sound_and_their_grade_holds_hidden_tests_back(self):
        import generate
        import tasks
        generator = generate.Generator(self.cache, sys.executable, 150, verbose=False)
        instances = generator.project(self.project)
        made = {i["id"]: i for i in instances}
        self.assertIn("tinyproj:count_vowels:body", made, generator.skipped)
        removed = made["tinyproj:count_vowels:body"]
        self.assertEqual(removed["tier"], "T2")
        self.assertEqual(len(removed["visible"]) + len(removed["hidden"]), 7)
        self.assertTrue(removed["visible"] and removed["hidden"])
        # The functions the tests need no more than import are not in the slice, and nothing imports them.
        self.assertEqual(removed["keep"], [])
        self.assertTrue(any(i["kind"] == "mutation" for i in instances), generator.skipped)
        for instance in instances:
            task = os.path.join(self.work, instance["id"].replace(":", "-"))
            visible = tasks.make_task(instance, self.cache, sys.executable, task)
            with open(os.path.join(task, "tiny/text.py"), encoding="utf-8") as handle:
                broken = handle.read()
            self.assertNotIn("def squeeze", broken)
            hidden_tests = {node.split("::")[-1] for node in instance["hidden"] if "[" not in node}
            for test in hidden_tests:
                self.assertNotIn(f"def {test}(", visible)
            log = subprocess.run(["git", "log", "-p", "--all"], cwd=task, text=True, capture_output=True).stdout
            self.assertNotIn("def squeeze", log, "the rest of the module is nowhere in the task's history")
            verify = subprocess.run(["./verify.sh"], cwd=task, capture_output=True, text=True)
            self.assertNotEqual(verify.returncode, 0, verify.stdout)
            original = tasks.slices(instance, tasks.module_source(instance, self.cache))[0]
            with open(os.path.join(task, "tiny/text.py"), "w", encoding="utf-8") as handle:
                handle.write(original)
            verify = subprocess.run(["./verify.sh"], cwd=task, capture_output=True, text=True)
            self.assertEqual(verify.returncode, 0, verify.stdout)
            self.assertIn(f"{len(instance['visible'])} passed", verify.stdout)
            self.assertTrue(tasks.grade(instance, self.cache, sys.executable, original)["solved"])
            graded = tasks.grade(instance, self.cache, sys.executable, broken)
            self.assertFalse(graded["solved"])
            self.assertLess(graded["hidden"], graded["hidden_of"])

    def test_a_module_that_forges_the_grade_passes_nothing_and_is_flagged(self):
        """The module runs in the grade: one prints pytest's summary for every test once pytest is done and writes
        outside its project; another writes a report of its own where its environment named one and exits 0."""
        import generate
        import tasks
        instance = {i["id"]: i for i in generate.Generator(self.cache, sys.executable, 150, False)
                    .project(self.project)}["tinyproj:count_vowels:body"]
        original = tasks.slices(instance, tasks.module_source(instance, self.cache))[0]
        outside = os.path.join(self.work, "outside.txt")
        with open(outside, "w") as handle:
            handle.write("before\n")
        ids = instance["visible"] + instance["hidden"] + instance["pass_to_pass"]
        forged = original.replace("    total = 0\n", "    total = 1\n") + f'''
import atexit
atexit.register(lambda: print("\\n".join("PASSED " + node for node in {ids!r})))
try:
    with open({outside!r}, "a") as handle:
        handle.write("written by the module\\n")
except OSError:
    pass
'''
        graded = tasks.grade(instance, self.cache, sys.executable, forged)
        self.assertFalse(graded["solved"])
        self.assertEqual(graded["visible"] + graded["hidden"], 0)
        self.assertEqual(graded["suspect"], ["PASSED", "atexit", "open"])
        with open(outside) as handle:
            self.assertEqual(handle.read(), "before\n")
        self.assertEqual(tasks.grade(instance, self.cache, sys.executable, original)["suspect"], [])
        # A report of its own, every test passed, written where the process's first environment names it.
        quits = original + f'''
import json, os
outcomes = json.dumps({{"outcomes": {{node: "PASSED" for node in {ids!r}}}, "exitstatus": 0}})
for entry in open("/proc/self/environ", "rb").read().split(b"\\0"):
    if entry.startswith(b"FLOTILLA_GRADE_REPORT="):
        with open(entry.split(b"=", 1)[1], "w") as report:
            json.dump({{"payload": outcomes, "signature": "0" * 64}}, report)
os._exit(0)
'''
        graded = tasks.grade(instance, self.cache, sys.executable, quits)
        self.assertFalse(graded["solved"])
        self.assertEqual(graded["suspect"], ["PASSED", "_exit", "open", "os"])

if __name__ == "__main__":
    unittest.main()
