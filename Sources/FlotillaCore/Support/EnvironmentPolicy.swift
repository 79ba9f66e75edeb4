/// Builds a child's environment from an allowlist of the parent's variables plus explicit additions,
/// so that secrets and stray settings (`GIT_DIR`, API keys…) reach only the processes meant to see them.
package struct EnvironmentPolicy: Sendable, Equatable {
    /// Variables every child may inherit: locating programs, the user, locale, terminal and time zone.
    package static let baseNames: Set<String> = [
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TERM", "TMPDIR", "TZ",
    ]

    package var names: Set<String>
    package var prefixes: [String]

    package init(names: Set<String> = EnvironmentPolicy.baseNames, prefixes: [String] = ["LC_"]) {
        self.names = names
        self.prefixes = prefixes
    }

    /// The policy plus more inherited names.
    package func allowing(_ more: some Sequence<String>) -> EnvironmentPolicy {
        var copy = self
        copy.names.formUnion(more)
        return copy
    }

    package func environment(
        from parent: [String: String],
        adding additions: [String: String] = [:]
    ) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in parent where names.contains(name) || prefixes.contains(where: { name.hasPrefix($0) }) {
            result[name] = value
        }
        if result["PATH"] == nil { result["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        result.merge(additions) { _, added in added }
        return result
    }
}
