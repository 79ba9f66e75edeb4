/// Which files are tests, so that an attempt cannot weaken the tests that judge it.
///
/// Without configuration an attempt may add test files but not change or delete existing ones (those of its start
/// commit, which includes tests landed by earlier groups): such edits are taken back before its gate, and the agent
/// is told. A group's `Allow:` line, or `--allow-test-edits` for the whole mission, lets edits through.
package struct TestFiles: Sendable, Equatable {
    /// The usual places of tests, as ``ProtectedPaths`` patterns (a name without `/` matches at any depth).
    package static let defaultPatterns = [
        "test/", "tests/", "spec/", "specs/", "__tests__/", "Tests/", "testing/", "**/src/test/",
        "test_*.py", "*_test.py", "conftest.py", "*_test.go", "*_test.rs", "*_test.exs", "*_spec.rb", "*_test.rb",
        "*.test.js", "*.test.ts", "*.test.jsx", "*.test.tsx", "*.test.mjs", "*.test.cjs",
        "*.spec.js", "*.spec.ts", "*.spec.jsx", "*.spec.tsx",
        "*Test.java", "*Tests.java", "*Test.kt", "*Tests.kt", "*Test.swift", "*Tests.swift", "*Test.php", "*Tests.cs",
        "*_test.c", "*_test.cc", "*_test.cpp", "test_*.c", "test_*.cpp",
    ]

    private let tests: ProtectedPaths
    private let allowed: ProtectedPaths

    /// Tests as `patterns` say, except those `allowed` (a group's `Allow:` line) lets an attempt edit.
    package init(patterns: [String] = TestFiles.defaultPatterns, allowed: [String] = []) {
        tests = ProtectedPaths(patterns)
        self.allowed = ProtectedPaths(allowed)
    }

    /// Whether `path` is a test whose edits are taken back.
    package func isProtected(_ path: String) -> Bool {
        tests.pattern(protecting: path) != nil && allowed.pattern(protecting: path) == nil
    }
}
