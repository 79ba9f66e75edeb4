import FlotillaCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A named pipe a child process writes a line to, so a test can wait for "it is running now" without polling.
package final class FIFOSignal: Sendable {
    package let path: String

    package init(in directory: TemporaryDirectory, name: String = "ready.fifo") throws {
        path = directory.file(name)
        guard mkfifo(path, 0o644) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    /// The first line written to the pipe, or "" if nobody writes within `timeout`.
    ///
    /// Reads on its own thread: opening blocks until a writer appears.
    package func firstLine(timeout: Duration = .seconds(300)) async -> String {
        let path = self.path
        let done = CompletionSignal()
        let box = LineBox()
        let thread = Thread {
            if let handle = FileHandle(forReadingAtPath: path) {
                box.set(String(decoding: handle.readDataToEndOfFile(), as: UTF8.self).firstLine)
            }
            done.signal()
        }
        thread.start()
        if await done.wait(timeout: timeout) { return box.value }
        // Nobody came: be the writer, so the reading thread gets its end and finishes.
        if let handle = FileHandle(forWritingAtPath: path) { try? handle.close() }
        _ = await done.wait(timeout: .seconds(5))
        return ""
    }
}

/// A named pipe a test writes to, to release a child process that reads from it.
package struct FIFOWriter: Sendable {
    package let path: String

    package init(in directory: TemporaryDirectory, name: String = "release.fifo") throws {
        path = directory.file(name)
        guard mkfifo(path, 0o644) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    /// Writes one line once a reader has opened the pipe; throws if none does within `timeout`.
    package func send(_ line: String, timeout: Duration = .seconds(300)) async throws {
        let path = self.path
        let done = CompletionSignal()
        let thread = Thread {
            if let handle = FileHandle(forWritingAtPath: path) {
                handle.write(Data((line + "\n").utf8))
                try? handle.close()
            }
            done.signal()
        }
        thread.start()
        if await done.wait(timeout: timeout) { return }
        // Nobody reads: be the reader, so the writing thread finishes, and fail.
        if let handle = FileHandle(forReadingAtPath: path) { try? handle.close() }
        _ = await done.wait(timeout: .seconds(5))
        throw FixtureError("nobody read \(path) within \(timeout)")
    }
}

private final class LineBox: @unchecked Sendable {
    // SAFETY: written once by the reader thread before `done.signal()`, read after `done.wait()` returns.
    private var stored = ""
    func set(_ value: String) { stored = value }
    var value: String { stored }
}
