import FlotillaAPI
import FlotillaCore
import Foundation

/// Who a request comes from: the token it presented, and the repositories that token may touch.
package struct Principal: Sendable, Equatable {
    package var name: String
    /// Absolute repository roots; nil means every served repository.
    package var repositories: Set<String>?

    package init(name: String, repositories: Set<String>?) {
        self.name = name
        self.repositories = repositories
    }

    package func may(access repository: String) -> Bool {
        repositories?.contains(repository) ?? true
    }

    /// A local user of an open (loopback) API.
    package static let local = Principal(name: "local", repositories: nil)
}

/// The bearer tokens the API accepts, each with a name, an optional repository scope and a rate limit.
package struct AccessTokens: Sendable {
    package struct Token: Sendable {
        package var name: String
        fileprivate var secret: [UInt8]
        package var repositories: Set<String>?
        package var limit: RateLimit
    }

    package private(set) var tokens: [Token]

    package init(tokens: [Token] = []) {
        self.tokens = tokens
    }

    package var isEmpty: Bool { tokens.isEmpty }

    /// Adds the token given in the environment (`FLOTILLA_API_TOKEN`): unscoped, default limit.
    package mutating func add(name: String, secret: String, limit: RateLimit) throws(TokenFileError) {
        guard secret.utf8.count >= Self.minimumLength else {
            throw TokenFileError("FLOTILLA_API_TOKEN must be at least \(Self.minimumLength) characters")
        }
        tokens.append(Token(name: name, secret: Array(secret.utf8), repositories: nil, limit: limit))
    }

    package static let minimumLength = 16

    /// The principal a `Authorization: Bearer …` header value names, or nil.
    ///
    /// Every token is compared in full, in time that depends only on the lengths: an attacker learns nothing
    /// from how long a wrong guess takes.
    package func authenticate(_ authorization: String?) -> Principal? {
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else { return nil }
        let presented = Array(authorization.dropFirst(7).trimmingCharacters(in: .whitespaces).utf8)
        var match: Token?
        for token in tokens where Self.constantTimeEqual(presented, token.secret) { match = token }
        return match.map { Principal(name: $0.name, repositories: $0.repositories) }
    }

    package func limit(for name: String) -> RateLimit? {
        tokens.first { $0.name == name }?.limit
    }

    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: lhs.count ^ rhs.count)
        let length = max(lhs.count, rhs.count)
        for index in 0..<length {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= left ^ right
        }
        return difference == 0 && lhs.count == rhs.count
    }

    /// Reads a token file:
    /// `{"tokens": [{"name": "ci", "token": "…", "repositories": ["/srv/app"], "rate_per_minute": 60, "burst": 10}]}`.
    ///
    /// Repository paths are resolved against `resolveRepository` (which rejects repositories not served).
    package static func read(
        path: String,
        defaultLimit: RateLimit,
        resolveRepository: (String) -> String?
    ) throws(TokenFileError) -> AccessTokens {
        let file = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenFileError("cannot read the token file \(path)")
        }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: data),
            case .object(let root) = value
        else { throw TokenFileError("\(file): not a JSON object") }
        for key in root.keys where key != "tokens" {
            throw TokenFileError("\(file): \(key): unknown field (expected tokens)")
        }
        guard case .array(let entries)? = root["tokens"] else {
            throw TokenFileError("\(file): tokens: must be an array")
        }
        var tokens: [Token] = []
        for (index, entry) in entries.enumerated() {
            let at = "\(file): tokens[\(index)]"
            guard case .object(let fields) = entry else { throw TokenFileError("\(at): must be an object") }
            for key in fields.keys.sorted()
            where !["name", "token", "repositories", "rate_per_minute", "burst"].contains(key) {
                throw TokenFileError("\(at).\(key): unknown field")
            }
            guard let name = fields["name"]?.stringValue, !name.isEmpty else {
                throw TokenFileError("\(at).name: must be a non-empty string")
            }
            if tokens.contains(where: { $0.name == name }) {
                throw TokenFileError("\(at).name: \(name) is used by an earlier token")
            }
            guard let secret = fields["token"]?.stringValue, secret.utf8.count >= minimumLength else {
                throw TokenFileError("\(at).token: must be a string of at least \(minimumLength) characters")
            }
            var repositories: Set<String>?
            if let list = fields["repositories"] {
                guard case .array(let items) = list else {
                    throw TokenFileError("\(at).repositories: must be an array of paths")
                }
                repositories = []
                for (position, item) in items.enumerated() {
                    guard let path = item.stringValue, let root = resolveRepository(path) else {
                        throw TokenFileError("\(at).repositories[\(position)]: not a repository this daemon serves")
                    }
                    repositories?.insert(root)
                }
            }
            var limit = defaultLimit
            if let rate = fields["rate_per_minute"] {
                guard let perMinute = rate.numberValue, perMinute > 0 else {
                    throw TokenFileError("\(at).rate_per_minute: must be a number above 0")
                }
                limit.perMinute = perMinute
            }
            if let burst = fields["burst"] {
                guard let size = burst.numberValue, size >= 1, size.rounded() == size else {
                    throw TokenFileError("\(at).burst: must be an integer of at least 1")
                }
                limit.burst = Int(size)
            }
            tokens.append(Token(name: name, secret: Array(secret.utf8), repositories: repositories, limit: limit))
        }
        return AccessTokens(tokens: tokens)
    }
}

/// A bad token file or token: one line naming the file and field.
package struct TokenFileError: Error, Sendable, CustomStringConvertible {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }
}
