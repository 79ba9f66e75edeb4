import Hummingbird

/// A request as it goes through the API's routes: who is calling, once ``TokenAuthentication`` has said so.
package struct APIRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The caller, set by ``TokenAuthentication`` on the routes behind it.
    var principal: Principal?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

/// A request on a route behind ``TokenAuthentication``: its caller is known.
struct CallerContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    let caller: Principal

    init(context: APIRequestContext) throws {
        guard let principal = context.principal else {
            // Only reached if a route was added without the authentication in front of it.
            throw APIError(.unauthorized, code: "unauthorized", "this route needs an authenticated caller")
        }
        coreContext = context.coreContext
        caller = principal
    }
}
