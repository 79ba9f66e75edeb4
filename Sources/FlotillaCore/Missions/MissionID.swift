/// A mission identifier: `m-` followed by 8 lowercase hex digits.
package struct MissionID: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    package let rawValue: String

    /// Accepts only well-formed ids, so that user input cannot name paths or refs.
    package init?(_ rawValue: String) {
        guard rawValue.count == 10, rawValue.hasPrefix("m-"),
            rawValue.dropFirst(2).allSatisfy({ $0.isHexDigit && !$0.isUppercase })
        else { return nil }
        self.rawValue = rawValue
    }

    package static func random<G: RandomNumberGenerator>(using generator: inout G) -> MissionID {
        let value = UInt32.random(in: .min ... .max, using: &generator)
        let hex = String(value, radix: 16)
        // A ten-character string of the right shape always validates.
        return MissionID(unchecked: "m-" + String(repeating: "0", count: 8 - hex.count) + hex)
    }

    package static func random() -> MissionID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    private init(unchecked: String) {
        rawValue = unchecked
    }

    package init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let id = MissionID(raw) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "bad mission id \(raw)")
            )
        }
        self = id
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    package var description: String { rawValue }

    package static func < (lhs: MissionID, rhs: MissionID) -> Bool { lhs.rawValue < rhs.rawValue }
}
