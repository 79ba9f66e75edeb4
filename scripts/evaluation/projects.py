"""The projects tasks are drawn from: pinned sdists from PyPI, pure Python, standard library only, each shipping
its own tests. `files` maps paths inside the sdist to paths in a task's repository (src/ layouts flattened, so
`python -m pytest` at the repository's root imports the package); `modules` are the files functions are taken
from, and `tests` the test files that may grade them.

Versions are exact, and generate.py records each sdist's SHA-256 in the task list, so a frozen list can only be
rebuilt from the same sources.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Project:
    name: str
    version: str
    files: dict
    modules: tuple
    tests: tuple
    # Helper files next to the tests that the test files import (copied as they are).
    helpers: tuple = field(default=())

    @property
    def requirement(self):
        return f"{self.name}=={self.version}"

    @property
    def folder(self):
        """The sdist's top folder: PyPI normalises '-' to '_' in newer sdists' names."""
        return f"{self.name.replace('-', '_')}-{self.version}"


PROJECTS = [
    Project("inflection", "0.5.1", {"inflection": "inflection", "test_inflection.py": "test_inflection.py"},
            ("inflection/__init__.py",), ("test_inflection.py",)),
    Project("pytimeparse", "1.1.8", {"pytimeparse": "pytimeparse"},
            ("pytimeparse/timeparse.py",), ("pytimeparse/tests/testtimeparse.py",),
            ("pytimeparse/tests/__init__.py",)),
    Project("roman", "5.2", {"src/roman": "roman", "src/tests.py": "tests.py"},
            ("roman/__init__.py",), ("tests.py",)),
    Project("titlecase", "2.4.1", {"titlecase": "titlecase"},
            ("titlecase/__init__.py",), ("titlecase/tests.py",)),
    Project("parse", "1.22.4", {"parse": "parse", "tests": "tests"},
            ("parse/__init__.py",), ("tests/test_parse.py", "tests/test_bugs.py", "tests/test_parsetype.py",
                                     "tests/test_pattern.py")),
    Project("semver", "3.1.1", {"src/semver": "semver", "tests": "tests"},
            ("semver/version.py", "semver/_deprecated.py"),
            ("tests/test_parsing.py", "tests/test_semver.py", "tests/test_bump.py", "tests/test_compare.py",
             "tests/test_deprecated_functions.py", "tests/test_match.py", "tests/test_max-min.py"),
            ("tests/conftest.py", "tests/coerce.py", "tests/semverwithvprefix.py")),
    Project("isodate", "0.7.2", {"src/isodate": "isodate", "tests": "tests"},
            ("isodate/isoduration.py", "isodate/isodates.py", "isodate/isotime.py", "isodate/isotzinfo.py",
             "isodate/isostrf.py", "isodate/duration.py"),
            ("tests/test_duration.py", "tests/test_date.py", "tests/test_time.py", "tests/test_datetime.py",
             "tests/test_strf.py")),
    Project("webcolors", "25.10.0", {"src/webcolors": "webcolors", "tests": "tests"},
            ("webcolors/_conversion.py", "webcolors/_normalization.py", "webcolors/_html5.py"),
            ("tests/test_conversion.py", "tests/test_normalization.py", "tests/test_html5.py"),
            ("tests/__init__.py", "tests/definitions.py")),
    Project("humanize", "4.17.0", {"src/humanize": "humanize", "tests": "tests"},
            ("humanize/number.py", "humanize/filesize.py", "humanize/lists.py"),
            ("tests/test_number.py", "tests/test_filesize.py", "tests/test_lists.py"),
            ("tests/__init__.py",)),
    Project("toolz", "1.2.0", {"toolz": "toolz"},
            ("toolz/itertoolz.py", "toolz/dicttoolz.py", "toolz/functoolz.py"),
            ("toolz/tests/test_itertoolz.py", "toolz/tests/test_dicttoolz.py", "toolz/tests/test_functoolz.py"),
            ("toolz/tests/__init__.py",)),
    Project("boltons", "26.2.0", {"boltons": "boltons", "tests": "tests"},
            ("boltons/strutils.py", "boltons/iterutils.py", "boltons/mathutils.py", "boltons/timeutils.py",
             "boltons/listutils.py", "boltons/dictutils.py", "boltons/formatutils.py"),
            ("tests/test_strutils.py", "tests/test_iterutils.py", "tests/test_mathutils.py",
             "tests/test_timeutils.py", "tests/test_listutils.py", "tests/test_dictutils.py",
             "tests/test_formatutils.py"),
            ("tests/__init__.py",)),
    Project("more-itertools", "11.2.1", {"more_itertools": "more_itertools", "tests": "tests"},
            ("more_itertools/more.py", "more_itertools/recipes.py"),
            ("tests/test_more.py", "tests/test_recipes.py"), ("tests/__init__.py",)),
    Project("xmltodict", "1.0.4", {"xmltodict.py": "xmltodict.py", "tests": "tests"},
            ("xmltodict.py",), ("tests/test_xmltodict.py", "tests/test_dicttoxml.py"), ("tests/__init__.py",)),
    Project("uritemplate", "4.2.0", {"uritemplate": "uritemplate", "tests": "tests"},
            ("uritemplate/variable.py", "uritemplate/api.py"), ("tests/test_uritemplate.py",)),
    Project("packaging", "24.2", {"src/packaging": "packaging", "tests": "tests"},
            ("packaging/utils.py", "packaging/version.py", "packaging/specifiers.py", "packaging/tags.py"),
            ("tests/test_utils.py", "tests/test_version.py", "tests/test_specifiers.py", "tests/test_tags.py"),
            ("tests/__init__.py",)),
    Project("pathspec", "0.12.1", {"pathspec": "pathspec", "tests": "tests"},
            ("pathspec/util.py", "pathspec/patterns/gitwildmatch.py"),
            ("tests/test_01_util.py", "tests/test_02_gitwildmatch.py"), ("tests/__init__.py", "tests/util.py")),
    Project("sqlparse", "0.5.3", {"sqlparse": "sqlparse", "tests": "tests"},
            ("sqlparse/utils.py", "sqlparse/formatter.py"), ("tests/test_utils.py", "tests/test_format.py"),
            ("tests/__init__.py", "tests/conftest.py")),
    Project("idna", "3.10", {"idna": "idna", "tests": "tests"}, ("idna/core.py", "idna/intranges.py"),
            ("tests/test_idna.py", "tests/test_intranges.py"), ("tests/__init__.py",)),
    Project("rfc3986", "2.0.0", {"src/rfc3986": "rfc3986", "tests": "tests"},
            ("rfc3986/normalizers.py", "rfc3986/misc.py", "rfc3986/validators.py"),
            ("tests/test_normalizers.py", "tests/test_misc.py", "tests/test_validators.py"),
            ("tests/__init__.py", "tests/conftest.py", "tests/base.py")),
    Project("cron-descriptor", "2.2.1", {"cron_descriptor": "cron_descriptor", "tests": "tests"},
            ("cron_descriptor/ExpressionValidator.py", "cron_descriptor/ExpressionParser.py"),
            ("tests/test_validator.py", "tests/test_formats.py")),
    Project("funcy", "2.1", {"funcy": "funcy", "tests": "tests"},
            ("funcy/strings.py", "funcy/calc.py"),
            ("tests/test_strings.py", "tests/test_calc.py"), ("tests/__init__.py",)),
]


def project(name):
    for candidate in PROJECTS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no project named {name!r} in projects.py")
