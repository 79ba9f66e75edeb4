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

    /// The first line written to the pipe.
    ///
    /// Reads on its own thread; the open blocks until a writer appears.
    package func firstLine() async -> String {
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
        await done.wait()
        return box.value
    }
}

private final class LineBox: @unchecked Sendable {
    // SAFETY: written once by the reader thread before `done.signal()`, read after `done.wait()` returns.
    private var stored = ""
    func set(_ value: String) { stored = value }
    var value: String { stored }
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

    /// Writes one line.
    ///
    /// Opening blocks until the reader has opened the pipe, so call it once the reader runs.
    package func send(_ line: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        handle.write(Data((line + "\n").utf8))
        try handle.close()
    }
}
