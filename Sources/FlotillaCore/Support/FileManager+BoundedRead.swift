import Foundation

extension FileManager {
    /// The contents of a file that an untrusted process may have written (a verify report, a trajectory), if it
    /// is a regular file of at most `limit` bytes; nil for anything else: missing, a symlink, a FIFO, a device,
    /// a directory, or too large.
    ///
    /// Call it once the writer has ended: the check and the read are two steps.
    package func regularFileContents(atPath path: String, limit: Int) -> Data? {
        guard let attributes = try? attributesOfItem(atPath: path),
            attributes[.type] as? FileAttributeType == .typeRegular,
            let size = (attributes[.size] as? NSNumber)?.intValue, size <= limit,
            let handle = FileHandle(forReadingAtPath: path)
        else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: limit + 1), data.count <= limit else { return nil }
        return data
    }
}
