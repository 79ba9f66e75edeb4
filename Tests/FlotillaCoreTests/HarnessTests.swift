import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

/// What judges a mission, followed through what the verify command delegates to; and the changes that reach into it.
@Suite("The harness and the grader guard", .tags(.small))
struct HarnessTests {
    static func harness(_ command: String, _ files: [String: String]) async -> Harness {
        await Harness.resolve(commands: [command]) { files[$0] }
    }

    @Test func scriptsTheVerifyRunsAreFollowedWhereverTheyAreCalledFrom() async {
        let files = [
            "verify.sh": "#!/bin/sh\nset -e\n# sh scripts/old.sh is a comment\nsh scripts/checks.sh\n",
            "scripts/checks.sh": "python3 -m pytest -q tests\n. ./scripts/env.sh\n",
            "scripts/env.sh": "export X=1\n",
            "scripts/old.sh": "exit 0\n",
            "app/verify.sh": "#!/bin/bash\n./run-tests\n",
            "app/run-tests": "#!/usr/bin/env bash\nexit 1\n",
            "src/app.py": "print('hi')\n",
        ]
        let root = await Self.harness("./verify.sh", files)
        #expect(Set(root.files.keys) == ["verify.sh", "scripts/checks.sh", "scripts/env.sh"])
        #expect(root.files["scripts/checks.sh"] == "verify.sh")
        #expect(root.runners == [.pytest])
        // `cd` is followed: the script is the directory's, not the root's.
        let nested = await Self.harness("cd app && ./verify.sh", files)
        #expect(Set(nested.files.keys) == ["app/verify.sh", "app/run-tests"])
    }

    @Test func makeNpmAndToxAreFollowedToWhatTheyRun() async {
        let files = [
            "Makefile": "include common.mk\ncheck: build\n\t@sh scripts/checks.sh\n\t-python -m unittest\n",
            "common.mk": "build:\n\t./tools/build.sh\n",
            "scripts/checks.sh": "exit 1\n",
            "tools/build.sh": "true\n",
            "package.json": #"{"scripts": {"pretest": "node tools/lint.js", "test": "jest --ci", "dev": "sh dev.sh"}}"#,
            "tools/lint.js": "process.exit(1)\n",
            "dev.sh": "true\n",
            "tox.ini":
                "[tox]\nenvlist = py3\n[testenv]\ndeps = pytest\ncommands =\n    pytest tests\n    sh ci/extra.sh\n",
            "ci/extra.sh": "true\n",
        ]
        let make = await Self.harness("make -s check", files)
        #expect(Set(make.files.keys) == ["Makefile", "common.mk", "scripts/checks.sh", "tools/build.sh"])
        #expect(make.runners == [.make, .unittest])
        let npm = await Self.harness("npm test", files)
        #expect(Set(npm.files.keys) == ["package.json", "tools/lint.js"])
        #expect(npm.runners == [.npm, .jest])
        let tox = await Self.harness("tox -e py3", files)
        #expect(Set(tox.files.keys) == ["tox.ini", "ci/extra.sh"])
        #expect(tox.runners.contains(.pytest))
    }

    @Test func whatAScriptRunsIsTheGradersAndWhatItReadsIsTheWork() async {
        let files = [
            "verify.sh": """
            #!/bin/sh
            grep -q greeting README.md || exit 1
            cat VERSION > /dev/null 2>&1
            cd tools
            sh -c "./lint.sh --strict" && python3 run_tests.py
            uv run pytest -c ../ci.ini >> ../out.log 2>&1
            """,
            "README.md": "greeting\n", "VERSION": "1\n", "out.log": "",
            "tools/lint.sh": "true\n", "tools/run_tests.py": "import sys\n", "ci.ini": "[pytest]\n",
        ]
        let harness = await Self.harness("./verify.sh", files)
        // The data it reads (README.md, VERSION) and the log it writes are the work, not the grader.
        #expect(Set(harness.files.keys) == ["verify.sh", "tools/lint.sh", "tools/run_tests.py", "ci.ini"])
        #expect(harness.runners == [.pytest])
        // On the verify command's own line, every file it names counts, as before.
        #expect(Set(await Self.harness("./verify.sh README.md", files).files.keys).contains("README.md"))
    }

    @Test func simpleCommandsLeaveRedirectionsOut() {
        #expect(
            ShellWords.simpleCommands("a x > out.txt 2>&1 && b < in.txt | c 'd e';f") == [
                ["a", "x"], ["b"], ["c", "d e"], ["f"],
            ]
        )
    }

    @Test func aScriptThatCallsItselfIsFollowedOnce() async {
        let files = ["a.sh": "sh b.sh\n", "b.sh": "sh a.sh\nsh b.sh\n"]
        #expect(Set(await Self.harness("sh a.sh", files).files.keys) == ["a.sh", "b.sh"])
    }

    @Test func runnerConfigurationStartUpHooksAndShadowsAreHeldAndOrdinaryCodeIsNot() {
        let guardian = GraderGuard()
        let changes: [(path: String, change: GraderGuard.Change)] = [
            ("tests/conftest.py", .added), ("pytest.ini", .added), ("src/sitecustomize.py", .added),
            ("lib/x.pth", .added), ("pytest.py", .added), ("_pytest/__init__.py", .added),
            ("jest.config.js", .modified), ("src/app.py", .modified), ("tests/test_new.py", .added),
        ]
        let reaches = guardian.check(changes, added: [:], base: { _ in nil }, new: { _ in nil })
        #expect(
            reaches.map(\.path) == [
                "tests/conftest.py", "pytest.ini", "src/sitecustomize.py", "lib/x.pth", "pytest.py",
                "_pytest/__init__.py", "jest.config.js",
            ]
        )
        #expect(reaches[0].reason == "adds pytest's hooks and fixtures, which loads into the verify run")
        // A group's Allow: line opens what it names.
        let allowed = GraderGuard(allowed: ["tests/conftest.py"])
        #expect(
            allowed.check([("tests/conftest.py", .added)], added: [:], base: { _ in nil }, new: { _ in nil }).isEmpty
        )
    }

    @Test func onlyTheRunnersPartOfASharedFileIsTheGraders() {
        let guardian = GraderGuard()
        let base = "[project]\nname = \"x\"\n[tool.pytest.ini_options]\naddopts = \"-q\"\n"
        let dependency =
            "[project]\nname = \"x\"\ndependencies = [\"requests\"]\n[tool.pytest.ini_options]\naddopts = \"-q\"\n"
        let collectOnly = "[project]\nname = \"x\"\n[tool.pytest.ini_options]\naddopts = \"--co\"\n"
        func check(_ new: String) -> [GraderGuard.Reach] {
            guardian.check([("pyproject.toml", .modified)], added: [:], base: { _ in base }, new: { _ in new })
        }
        #expect(check(dependency).isEmpty)
        #expect(check(collectOnly).map(\.reason) == ["changes the test runner's configuration ([tool.pytest])"])
        let package = #"{"name": "x", "scripts": {"test": "jest"}, "dependencies": {}}"#
        let faked = #"{"name": "x", "scripts": {"test": "true"}, "dependencies": {}}"#
        let added = #"{"name": "x", "scripts": {"test": "jest"}, "dependencies": {"left-pad": "1"}}"#
        func checkPackage(_ new: String) -> [GraderGuard.Reach] {
            guardian.check([("package.json", .modified)], added: [:], base: { _ in package }, new: { _ in new })
        }
        #expect(checkPackage(added).isEmpty)
        #expect(checkPackage(faked).count == 1)
    }

    @Test func addedCodeThatEndsTheRunOrReadsFlotillasVariablesIsHeld() {
        let patch = """
            diff --git a/src/calc.py b/src/calc.py
            --- a/src/calc.py
            +++ b/src/calc.py
            @@ -1 +1,3 @@
            +import os
            +os._exit(0)
             def add(a, b): return a + b
            diff --git a/tests/test_x.py b/tests/test_x.py
            --- /dev/null
            +++ b/tests/test_x.py
            @@ -0,0 +1 @@
            +open(os.environ["FLOTILLA_REPORT"], "w").write("{}")
            """
        let added = GraderGuard.addedLines(inPatch: patch)
        #expect(added["src/calc.py"] == ["import os", "os._exit(0)"])
        let reaches = GraderGuard().check(
            [("src/calc.py", .modified), ("tests/test_x.py", .added)],
            added: added,
            base: { _ in nil },
            new: { _ in nil }
        )
        #expect(reaches.map(\.path) == ["src/calc.py", "tests/test_x.py"])
        #expect(reaches[0].reason.contains("os._exit"))
        #expect(reaches[1].reason.contains("FLOTILLA_"))
    }
}
