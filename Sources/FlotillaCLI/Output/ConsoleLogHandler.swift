import Logging

/// Writes a log message to stderr as the daemon's own lines read: the message alone, warnings and worse said so.
struct ConsoleLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let prefix =
            switch event.level {
            case .warning: "warning: "
            case .error, .critical: "error: "
            default: ""
            }
        Console.err(prefix + "\(event.message)")
    }
}
