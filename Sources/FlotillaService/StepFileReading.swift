import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reading a file an agent's step left, which the agent may have made a link to anything: opened without following
/// a link, and only if it is a regular file.
enum StepFileReading {
    /// The file's last `limit` bytes as text; nil when it is missing, a link or not a regular file.
    static func tail(_ path: String, limit: Int) -> String? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        let file = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
        let size = UInt64(max(0, status.st_size))
        let bound = UInt64(limit)
        try? file.seek(toOffset: size > bound ? size - bound : 0)
        let text = String(decoding: (try? file.read(upToCount: limit)) ?? Data(), as: UTF8.self)
        return size > bound ? "… (\(size - bound) earlier bytes not shown)\n" + text : text
    }
}
