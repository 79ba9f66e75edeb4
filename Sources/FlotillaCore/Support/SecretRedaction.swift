import Synchronization

/// Finds the secrets in an environment and removes them from output as it streams.
///
/// Whatever a child prints (an agent echoing its environment, a verify script dumping config) passes through
/// here before it reaches a transcript, a log, an event or the ledger, so a key handed to a process never comes
/// back out of Flotilla.
package struct SecretRedaction: Sendable {
    package static let replacement: [UInt8] = Array("[redacted]".utf8)

    /// Every key this process holds, wherever it came from (a key file, the configuration, the environment): removed
    /// from every process's output, not only from the output of the process it was given to.
    private static let held = Mutex<Set<[UInt8]>>([])

    /// Adds secrets this process holds (values shorter than 8 bytes are too common to hunt for).
    package static func hold(_ values: some Sequence<String>) {
        let secrets = values.map { Array($0.utf8) }.filter { $0.count >= 8 }
        guard !secrets.isEmpty else { return }
        held.withLock { $0.formUnion(secrets) }
    }

    /// The secrets to remove from the output of a process given `environment`: its own, and every one held.
    package static func secrets(for environment: [String: String]) -> [[UInt8]] {
        let all = Set(secrets(in: environment)).union(held.withLock { $0 })
        return all.sorted { $0.count > $1.count }
    }

    /// Values of variables whose names say they are secret (`*_API_KEY`, `*TOKEN*`, `*SECRET*`, …), longest
    /// first; values shorter than 8 bytes are too common to hunt for.
    package static func secrets(in environment: [String: String]) -> [[UInt8]] {
        let markers = [
            "API_KEY", "APIKEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "ACCESS_KEY", "PRIVATE_KEY", "CREDENTIAL",
        ]
        let values = environment.compactMap { name, value -> [UInt8]? in
            let upper = name.uppercased()
            guard markers.contains(where: { upper.contains($0) }), value.utf8.count >= 8 else { return nil }
            return Array(value.utf8)
        }
        return Array(Set(values)).sorted { $0.count > $1.count }
    }

    private let secrets: [[UInt8]]
    private let holdBack: Int
    private var pending: [UInt8] = []

    package init(secrets: [[UInt8]]) {
        self.secrets = secrets.filter { !$0.isEmpty }
        holdBack = max(0, (self.secrets.map(\.count).max() ?? 0) - 1)
    }

    package var isActive: Bool { !secrets.isEmpty }

    /// Takes the next chunk of a stream; returns what may be written now, with every secret replaced.
    ///
    /// Up to the longest secret's length minus one byte is held back, so a secret split across chunks is found.
    package mutating func redact(_ chunk: ArraySlice<UInt8>) -> [UInt8] {
        guard isActive else { return Array(chunk) }
        let text = replaced(pending + chunk)
        let release = max(0, text.count - holdBack)
        pending = Array(text[release...])
        return Array(text[..<release])
    }

    /// What is still held back, at the end of the stream.
    package mutating func flush() -> [UInt8] {
        defer { pending = [] }
        return pending
    }

    private func replaced(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        scanning: while index < bytes.count {
            for secret in secrets where bytes[index] == secret[0] && index + secret.count <= bytes.count {
                if bytes[index..<(index + secret.count)].elementsEqual(secret) {
                    result.append(contentsOf: Self.replacement)
                    index += secret.count
                    continue scanning
                }
            }
            result.append(bytes[index])
            index += 1
        }
        return result
    }
}
