import Foundation
import HTTPTypes

/// Whether the daemon has finished its start-up reconciliation.
package actor Readiness {
    package private(set) var isReady = false

    package init() {}

    package func markReady() { isReady = true }
}

/// Idempotency keys being handled right now.
actor InFlightKeys {
    private var keys: Set<String> = []

    func claim(_ key: String) -> Bool { keys.insert(key).inserted }

    func release(_ key: String) { keys.remove(key) }
}

extension HTTPField.Name {
    // The names are valid tokens, so the initializer cannot fail.
    static let lastEventID = HTTPField.Name("Last-Event-ID") ?? .accept
    static let idempotencyKey = HTTPField.Name("Idempotency-Key") ?? .accept
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site") ?? .accept
}
