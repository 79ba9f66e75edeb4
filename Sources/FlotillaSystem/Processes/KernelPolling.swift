/// Short pauses between looks at the kernel's process tables (`/proc`), while a child registers, is reaped, or
/// enters its namespace.
///
/// Deliberately real time, not an injected clock: what is waited for happens in the kernel, which no test clock
/// moves; the waits are a few milliseconds, bounded by deadlines on the same clock.
enum KernelPolling {
    static let clock = ContinuousClock()

    static func pause(_ duration: Duration) async {
        try? await clock.sleep(for: duration)
    }
}
