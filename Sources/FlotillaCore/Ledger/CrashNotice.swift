/// What the daemon's supervisor found and did about a mission whose process died without finishing it.
package struct CrashNotice: Sendable, Equatable {
    /// The process that died.
    package var runner: ProcessIdentity
    /// The restart this crash leads to (1 for the first), or nil when the restart policy gave up.
    package var restart: Int?
    /// How long the supervisor waits before that restart.
    package var delay: Duration
    /// The restarts the policy allows in a row.
    package var limit: Int

    package init(runner: ProcessIdentity, restart: Int?, delay: Duration, limit: Int) {
        self.runner = runner
        self.restart = restart
        self.delay = delay
        self.limit = limit
    }
}

extension MissionEvent {
    /// For a `mission.crashed` event: the process whose death it is about.
    package var crashedRunner: ProcessIdentity? { payload(MissionCrashed.self)?.runner }

    /// For a `mission.crashed` event: the restart it announced, nil when the supervisor gave up.
    package var announcedRestart: Int? { payload(MissionCrashed.self)?.restart }
}
