/// What went wrong, said once for a person: one line of advice, and a code that decides the exit status of the
/// command line and the HTTP status of the API.
///
/// Every layer throws it as it is; the edges map it (``Code/exitStatus``, ``Code/httpStatus``) and never reword it.
package struct FlotillaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure; extensible, like the codes of `swift-subprocess`'s error.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The name the API reports (`invalid_input`).
        package let name: String
        package let exitStatus: Int32
        package let httpStatus: Int

        package init(_ name: String, exitStatus: Int32, httpStatus: Int) {
            self.name = name
            self.exitStatus = exitStatus
            self.httpStatus = httpStatus
        }

        package var description: String { name }

        /// Bad input (flags, files, a request body, a checklist): exit status 2, HTTP 400.
        package static let invalidInput = Code("invalid_input", exitStatus: 2, httpStatus: 400)
        /// No such mission (or repository): exit status 2, HTTP 404.
        package static let notFound = Code("not_found", exitStatus: 2, httpStatus: 404)
        /// The mission's state does not allow it (running, not running): exit status 2, HTTP 409.
        package static let conflict = Code("conflict", exitStatus: 2, httpStatus: 409)
        /// Allowed to nobody who asks this way (less confinement than a daemon's floor): exit status 2, HTTP 403.
        package static let forbidden = Code("forbidden", exitStatus: 2, httpStatus: 403)
        /// Something this machine lacks, or a service that did not answer: exit status 1, HTTP 503.
        package static let unavailable = Code("unavailable", exitStatus: 1, httpStatus: 503)
        /// A failure that is Flotilla's own: exit status 1, HTTP 500.
        package static let `internal` = Code("internal", exitStatus: 1, httpStatus: 500)
    }

    package var code: Code
    package var message: String
    /// For invalid input: each problem with the field it is about.
    package var fields: [FieldProblem]

    package init(_ code: Code, _ message: String, fields: [FieldProblem] = []) {
        self.code = code
        self.message = message
        self.fields = fields
    }

    package var description: String { message }

    package static func invalid(_ message: String, fields: [FieldProblem] = []) -> FlotillaError {
        FlotillaError(.invalidInput, message, fields: fields)
    }

    package static func notFound(_ message: String) -> FlotillaError { FlotillaError(.notFound, message) }

    package static func conflict(_ message: String) -> FlotillaError { FlotillaError(.conflict, message) }

    package static func forbidden(_ message: String, fields: [FieldProblem] = []) -> FlotillaError {
        FlotillaError(.forbidden, message, fields: fields)
    }
}

/// One problem of an input, with the field (or flag, or `file:line`) it is about.
package struct FieldProblem: Sendable, Equatable, Codable, CustomStringConvertible {
    package var field: String
    package var message: String

    package init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    package var description: String { "\(field) \(message)" }
}
