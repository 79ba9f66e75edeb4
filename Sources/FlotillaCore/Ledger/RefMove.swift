import Foundation

/// A ref that moved, was created (`from` nil) or deleted (`to` nil).
package struct RefMove: Sendable, Equatable {
    package var ref: String
    package var from: String?
    package var to: String?

    package init(ref: String, from: String?, to: String?) {
        self.ref = ref
        self.from = from
        self.to = to
    }
}

/// A ref put back where Flotilla knew it.
package struct RefRestoration: Sendable, Equatable {
    package var ref: String
    /// Where someone else had moved it.
    package var foreign: String
    package var restoredTo: String
    /// The ref that keeps the foreign commit, so nothing anyone made is lost.
    package var quarantine: String

    package init(ref: String, foreign: String, restoredTo: String, quarantine: String) {
        self.ref = ref
        self.foreign = foreign
        self.restoredTo = restoredTo
        self.quarantine = quarantine
    }
}
