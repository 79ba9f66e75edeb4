import Testing

/// How much a test needs: every suite carries one, so a report (or a test plan) can tell the millisecond tests from
/// the ones that run git, processes or the built binary.
extension Tag {
    /// Pure logic and in-memory doubles: no process, no file, no network; milliseconds.
    @Tag package static var small: Self
    /// Real git, real subprocesses, real SQLite, loopback HTTP: seconds.
    @Tag package static var medium: Self
    /// The built `flotilla` binary on fixture repositories, real tools: seconds to minutes.
    @Tag package static var large: Self
}
