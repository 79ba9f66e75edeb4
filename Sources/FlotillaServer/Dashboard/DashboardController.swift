import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The web dashboard: one page and its two files, compiled into the binary, over the same API and access rules.
///
/// The page reads the JSON API and the event stream like any client; it holds no state of its own and needs no
/// route of its own besides its files. Its Content-Security-Policy allows nothing but this daemon.
struct DashboardController: Sendable {
    struct Asset: Sendable {
        let contentType: String
        let body: ByteBuffer
        let etag: String

        init(_ bytes: [UInt8], _ contentType: String) {
            self.contentType = contentType
            body = ByteBuffer(bytes: bytes)
            // FNV-1a: the same bytes give the same tag in every process, without a cryptography library.
            let hash = bytes.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
            etag = "\"" + String(hash, radix: 16) + "\""
        }
    }

    static let page = Asset(PackageResources.index_html, "text/html; charset=utf-8")
    /// The style sheet and the page's modules (`main.js` imports the others).
    static let assets: [String: Asset] = {
        var assets = ["dashboard.css": Asset(PackageResources.dashboard_css, "text/css; charset=utf-8")]
        let modules: [(String, [UInt8])] = [
            ("main.js", PackageResources.main_js), ("api.js", PackageResources.api_js),
            ("dom.js", PackageResources.dom_js),
            ("format.js", PackageResources.format_js), ("layout.js", PackageResources.layout_js),
            ("sse.js", PackageResources.sse_js), ("live.js", PackageResources.live_js),
            ("missions-view.js", PackageResources.missions_view_js),
            ("mission-view.js", PackageResources.mission_view_js),
            ("header-view.js", PackageResources.header_view_js), ("dag-view.js", PackageResources.dag_view_js),
            ("charts-view.js", PackageResources.charts_view_js), ("attempt-view.js", PackageResources.attempt_view_js),
        ]
        for (name, bytes) in modules { assets[name] = Asset(bytes, "text/javascript; charset=utf-8") }
        return assets
    }()
    /// Every byte the page loads: what `docs/PERFORMANCE.md` states as its weight.
    static var pageWeight: Int { page.body.readableBytes + assets.values.reduce(0) { $0 + $1.body.readableBytes } }

    static let securityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("/") { request, _ in Self.serve(Self.page, request) }
        router.get("/assets/:name") { request, context in
            guard let asset = context.parameters.get("name").flatMap({ Self.assets[$0] }) else {
                throw APIError(.notFound, code: "not_found", "no such dashboard file")
            }
            return Self.serve(asset, request)
        }
    }

    /// The asset, or 304 when the browser has it; revalidated on every load, so a new binary's page is never stale.
    static func serve(_ asset: Asset, _ request: Request) -> Response {
        var headers: HTTPFields = [
            .contentType: asset.contentType, .eTag: asset.etag, .cacheControl: "no-cache",
            .contentSecurityPolicy: securityPolicy, .xContentTypeOptions: "nosniff", .referrerPolicy: "no-referrer",
        ]
        headers[.xFrameOptions] = "DENY"
        if request.headers[.ifNoneMatch] == asset.etag {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: asset.body))
    }
}

extension HTTPField.Name {
    // The names are valid tokens, so the initializer cannot fail.
    static let xFrameOptions = HTTPField.Name("X-Frame-Options") ?? .accept
    static let referrerPolicy = HTTPField.Name("Referrer-Policy") ?? .accept
}
