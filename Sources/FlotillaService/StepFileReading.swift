import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reading a file an agent's step left, where the agent may have put a link to anything — in place of the file, or
/// of its `out/` folder: every component below the attempt's folder is opened without following a link, and the file
/// is read only if it is a regular file.
enum StepFileReading {
    /// The last `limit` bytes of `components` (relative to `directory`, which Flotilla made) as text; nil when one
    /// of them is missing or a link, or the file is not a regular file.
    static func tail(of components: [String], under directory: String, limit: Int) -> String? {
        var descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        for (index, component) in components.enumerated() {
            let last = index == components.count - 1
            let next = openat(descriptor, component, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY))
            close(descriptor)
            guard next >= 0 else { return nil }
            descriptor = next
        }
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
