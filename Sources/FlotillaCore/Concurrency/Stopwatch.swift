/// Measures time elapsed since it was started, on any clock (including an existential one).
package struct Stopwatch: Sendable {
    private let read: @Sendable () -> Duration

    package init(clock: any Clock<Duration>) {
        read = Self.start(clock)
    }

    private static func start<C: Clock<Duration>>(_ clock: C) -> @Sendable () -> Duration {
        let origin = clock.now
        return { origin.duration(to: clock.now) }
    }

    package var elapsed: Duration { read() }
}
