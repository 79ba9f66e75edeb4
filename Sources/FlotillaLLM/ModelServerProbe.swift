import AsyncHTTPClient
import FlotillaCore
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Asks an OpenAI-compatible server which models it serves (`GET {base}/models`), for `doctor`.
package enum ModelServerProbe {
    /// Why a server could not say which models it serves.
    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    /// The ids of the models the server at `baseURL` serves, or why it could not say.
    package static func models(at baseURL: String, timeout: Duration = .seconds(5)) async -> Result<[String], Failure> {
        let url = baseURL.hasSuffix("/") ? baseURL + "models" : baseURL + "/models"
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        do {
            let response = try await HTTPClient.shared.execute(
                request,
                timeout: .nanoseconds(Int64(timeout.seconds * 1e9))
            )
            let body = Data(buffer: try await response.body.collect(upTo: 1 << 20))
            guard (200..<300).contains(Int(response.status.code)) else {
                return .failure(Failure(description: "\(url) answered \(response.status.code)"))
            }
            let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any]
            let models = (object?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            return .success(models)
        } catch {
            return .failure(Failure(description: "\(url) did not answer (\(error))"))
        }
    }
}
