import FlotillaCore
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum OutputStream: Sendable {
    case standardOutput
    case standardError
}

/// Keeps what a process wrote within the limits of its request: the transcript file (capped), the head of
/// stdout, and tails of stderr and of both streams together.
final class OutputCollector: Sendable {
    private struct State {
        var file: CInt?
        var fileWritten = 0
        var fileDropped = 0
        var head: [UInt8] = []
        var headTruncated = false
        var standardErrorTail: Tail
        var combinedTail: Tail
        var total = 0
        var standardOutputRedaction: SecretRedaction
        var standardErrorRedaction: SecretRedaction
        /// Each stream's unfinished line, held so that the transcript never mixes the streams inside a line.
        var standardOutputLine: [UInt8] = []
        var standardErrorLine: [UInt8] = []
    }

    /// A line longer than this is written in pieces rather than held.
    private static let longestHeldLine = 8 << 10

    private let state: Mutex<State>
    private let fileLimit: Int
    private let captureLimit: Int

    init(request: ProcessRequest) throws {
        var file: CInt?
        if let path = request.outputFile {
            try? FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw ProcessRunnerError.outputFileUnwritable(path, errno) }
            file = fd
        }
        fileLimit = request.outputFileLimit
        captureLimit = request.captureLimit
        // Secrets the process was given are removed from everything it prints, before anything keeps it.
        let redaction = SecretRedaction(secrets: SecretRedaction.secrets(for: request.environment))
        state = Mutex(
            State(
                file: file,
                standardErrorTail: Tail(limit: 64 << 10),
                combinedTail: Tail(limit: request.tailLimit),
                standardOutputRedaction: redaction,
                standardErrorRedaction: redaction
            )
        )
    }

    func append(_ raw: ArraySlice<UInt8>, from stream: OutputStream) {
        state.withLock { state in
            state.total += raw.count
            let bytes: ArraySlice<UInt8> =
                switch stream {
                case .standardOutput: state.standardOutputRedaction.redact(raw)[...]
                case .standardError: state.standardErrorRedaction.redact(raw)[...]
                }
            keep(bytes, from: stream, in: &state)
        }
    }

    private func keep(_ bytes: ArraySlice<UInt8>, from stream: OutputStream, in state: inout State) {
        if stream == .standardOutput {
            let room = max(0, captureLimit - state.head.count)
            state.head.append(contentsOf: bytes.prefix(room))
            if bytes.count > room { state.headTruncated = true }
        } else {
            state.standardErrorTail.append(bytes)
        }
        // The transcript and the combined tail take whole lines only.
        var line = stream == .standardOutput ? state.standardOutputLine : state.standardErrorLine
        line.append(contentsOf: bytes)
        let end =
            line.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }
            ?? (line.count >= Self.longestHeldLine ? line.count : 0)
        if end > 0 {
            share(line[..<end], in: &state)
            line.removeFirst(end)
        }
        if stream == .standardOutput { state.standardOutputLine = line } else { state.standardErrorLine = line }
    }

    /// Writes to what both streams share: the transcript file and the combined tail.
    private func share(_ bytes: ArraySlice<UInt8>, in state: inout State) {
        if let file = state.file {
            let room = max(0, fileLimit - state.fileWritten)
            let kept = bytes.prefix(room)
            if !kept.isEmpty {
                kept.withUnsafeBytes { buffer in
                    var offset = 0
                    while offset < buffer.count {
                        let written = write(file, buffer.baseAddress?.advanced(by: offset), buffer.count - offset)
                        if written < 0 && errno == EINTR { continue }
                        if written <= 0 { break }
                        offset += written
                    }
                }
            }
            state.fileWritten += kept.count
            state.fileDropped += bytes.count - kept.count
        }
        state.combinedTail.append(bytes)
    }

    /// Closes the transcript, noting in it how much was dropped.
    func finish() {
        state.withLock { state in
            // What redaction held back is the streams' last bytes.
            keep(state.standardOutputRedaction.flush()[...], from: .standardOutput, in: &state)
            keep(state.standardErrorRedaction.flush()[...], from: .standardError, in: &state)
            share(state.standardOutputLine[...], in: &state)
            share(state.standardErrorLine[...], in: &state)
            state.standardOutputLine = []
            state.standardErrorLine = []
            guard let file = state.file else { return }
            if state.fileDropped > 0 {
                let note =
                    "\n[flotilla: output capped at \(state.fileWritten) bytes; \(state.fileDropped) more dropped]\n"
                _ = note.withCString { write(file, $0, strlen($0)) }
            }
            close(file)
            state.file = nil
        }
    }

    func result(termination: Termination, timedOut: Bool, duration: Duration) -> ProcessResult {
        finish()
        return state.withLock { state in
            ProcessResult(
                termination: termination,
                timedOut: timedOut,
                standardOutput: String(decoding: state.head, as: UTF8.self),
                standardOutputTruncated: state.headTruncated,
                standardError: state.standardErrorTail.text,
                outputTail: state.combinedTail.text,
                outputBytes: state.total,
                duration: duration
            )
        }
    }
}

/// The last `limit` bytes of a stream, in amortised constant time per byte.
struct Tail {
    let limit: Int
    private var bytes: [UInt8] = []

    init(limit: Int) {
        self.limit = limit
    }

    mutating func append(_ more: ArraySlice<UInt8>) {
        bytes.append(contentsOf: more.suffix(limit))
        if bytes.count > 2 * limit { bytes.removeFirst(bytes.count - limit) }
    }

    var text: String {
        String(decoding: bytes.suffix(limit), as: UTF8.self).utf8Tail(limit)
    }
}

/// Reads one pipe to its end on a dedicated thread, so that a blocking read never holds a task-pool thread.
final class PipeDrain: Sendable {
    private let fileDescriptor: CInt
    private let stream: OutputStream
    private let collector: OutputCollector
    private let abandoned = Atomic<Bool>(false)
    /// Signalled when the pipe reached its end (or reading was abandoned) and the descriptor is closed.
    let finished = CompletionSignal()

    init(fileDescriptor: CInt, stream: OutputStream, collector: OutputCollector) {
        self.fileDescriptor = fileDescriptor
        self.stream = stream
        self.collector = collector
    }

    func start() {
        let thread = Thread { [self] in
            readToEnd()
        }
        thread.name = "flotilla-pipe-drain"
        thread.start()
    }

    /// Stops reading soon, even if the pipe is still open.
    func abandon() {
        abandoned.store(true, ordering: .relaxed)
    }

    private func readToEnd() {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while !abandoned.load(ordering: .relaxed) {
            var descriptor = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
            // The timeout only bounds how long an abandon request waits to be noticed.
            let ready = poll(&descriptor, 1, 100)
            if ready == 0 { continue }
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            let count = buffer.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                collector.append(buffer[0..<count], from: stream)
            } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                break
            }
        }
        close(fileDescriptor)
        finished.signal()
    }
}
